"""A typical household in one call, for the tests that need a whole file."""

from dataclasses import dataclass, field

from factory.random import randgen

from moncompte.accounts.models import Account
from moncompte.households.models import Caf, Dossier, Member, Role
from moncompte.identity.models import Person
from tests.factories.accounts import AccountFactory, LegacyCredentialFactory
from tests.factories.households import BenefitFactory, DossierFactory, MemberFactory, PaymentFactory
from tests.factories.identity import PersonFactory, fake

# One password per role, the same in every household: each is hashed once per session, and a
# password of one member never signs another one in.
PASSWORDS = {
    "responsible": "Responsable2024ciel",
    "spouse": "Conjoint2024vent",
    "child": "Enfant2024pluie",
}


@dataclass
class HouseholdPerson:
    person: Person
    member: Member
    account: Account | None
    identifier: str  # as a person types it, key included: "2 85 05 75 115 042 95"
    password: str | None

    @property
    def credentials(self) -> tuple[str, str]:
        """``sign_in(client, *family.responsible.credentials)``."""
        assert self.password is not None, "this person has no account"
        return self.identifier, self.password


@dataclass
class Household:
    caf: Caf
    dossier: Dossier
    responsible: HouseholdPerson  # R, with an account
    spouse: HouseholdPerson  # S (S+ with delegated=True), with an account
    child: HouseholdPerson  # M, 17, with an account
    young_child: HouseholdPerson  # 10, no account (15 or under)
    legacy_code: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def people(self) -> list[HouseholdPerson]:
        return [self.responsible, self.spouse, self.child, self.young_child]


def make_household(
    *,
    caf: Caf | None = None,
    delegated: bool = False,
    accounts: bool = True,
    birth_name: str | None = None,
    legacy_code: str | None = None,
    benefits: bool = True,
) -> Household:
    """R with an account, spouse S (S+ if ``delegated``), a child of 17 and one of 10.

    All members share one birth name (``birth_name`` to choose it: two households with the same
    names test matching and isolation). ``accounts=False``: nobody has an account yet (first
    connection); ``legacy_code``: the file keeps that old 8-digit code. Benefits: one, with two
    payments.
    """
    dossier = DossierFactory(**({"caf": caf} if caf else {}))
    name = birth_name or _unrelated(
        lambda: fake.last_name().upper(), set(Person.objects.values_list("birth_name", flat=True))
    )
    first_names_taken: set[str] = set()

    def member(key: str | None, role: str, *, age: int, sex: str | None = None, **extra) -> HouseholdPerson:
        sex = sex or randgen.choice("FM")
        first_names = _unrelated(fake.first_name_female if sex == "F" else fake.first_name_male, first_names_taken)
        first_names_taken.add(first_names)
        person = PersonFactory(age=age, sex=sex, first_names=first_names, birth_name=name)
        membership = MemberFactory(dossier=dossier, person=person, role=role, **extra)
        account = None
        password = PASSWORDS.get(key) if key else None
        if accounts and password:
            account = AccountFactory(person=person, password=password)
        else:
            password = None
        return HouseholdPerson(person, membership, account, person.raw_identifier, password)

    responsible = member("responsible", Role.RESPONSABLE, age=41, sex="F")
    spouse_extra = {"delegated": True} if delegated else {}
    spouse = member("spouse", Role.CONJOINT, age=43, sex="M", **spouse_extra)
    child = member("child", Role.ENFANT, age=17)
    young_child = member(None, Role.ENFANT, age=10)
    if benefits:
        benefit = BenefitFactory(dossier=dossier)
        PaymentFactory(benefit=benefit)
        PaymentFactory(benefit=benefit, paid_on=benefit.started_on)
    if legacy_code:
        LegacyCredentialFactory(dossier=dossier, code=legacy_code)
    return Household(dossier.caf, dossier, responsible, spouse, child, young_child, legacy_code)


def _unrelated(generate, taken: set[str], *, tries: int = 30) -> str:
    """A generated name that neither contains nor is contained in a taken one ("Gabriel" and
    "Gabrielle", "ROY" and "LEROY"): the tests that check a name is absent from a page would
    otherwise find it inside another. Gives up after ``tries`` when the pool is nearly used."""
    taken_upper = [other.upper() for other in taken]
    candidate = generate()
    for _ in range(tries):
        upper = candidate.upper()
        if not any(upper in other or other in upper for other in taken_upper):
            break
        candidate = generate()
    return candidate


__all__ = ["PASSWORDS", "Household", "HouseholdPerson", "make_household"]
