"""Account creation by a new beneficiary (/creer-mon-compte/, docs/signup.md).

The person declares an identity (with a NIR, or saying they have none), validates a contact and
chooses a password; ``signup_complete`` then does everything in one transaction:

- the declared identity is matched to the known persons only now, at the end, once a contact was
  validated (moncompte.identity.matching): a stranger cannot probe the base by typing identities;
- **with a NIR held by a known person of that identity** who has no account and whose standing
  on each of their files allows claiming an account alone (the policy's CLAIM_ALONE: not the
  responsible person or spouse of a current file): the account is created for that person
  (``linked``); a child or other member of a file is thereby matched to their file, where they
  see only their own data;
- **otherwise** a new person is recorded (with the NIR, or a new provisional identifier sent to
  the validated contact) with an identity check ``to_verify``: an agent will look at the
  identity document the person sends; meanwhile the account sees only its own page;
- **a NIR that already has an account, belongs to a current responsible person or spouse of a
  file (who would see the file: their ways in are the first connection, proving the file's code,
  and the invitation), or is held by a person of another identity**: nothing
  is created and the answer is the same neutral sentence in every case (``SIGNUP_REFUSED``), so
  that it tells a stranger no more than "this number cannot be used here"; it is journaled and
  counted per client address (growing waits after repeated refusals).

Without a NIR nothing is ever linked, even when one known person has that identity: names and a
birth date are no proof. The possible duplicate is recorded on the check for the agent.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import asdict, dataclass, fields

from django.conf import settings
from django.db import IntegrityError, transaction

from moncompte.access.policy import Action, decide_for_standing, standings
from moncompte.accounts import throttling
from moncompte.accounts.models import Account
from moncompte.accounts.passwords import password_problems
from moncompte.accounts.services import account_allowed, account_create, contact_validated
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, ContactChannel
from moncompte.core.errors import DomainError
from moncompte.core.waits import wait_text
from moncompte.identity.identifiers import Identifier, IdentifierKind, new_provisional_identifier
from moncompte.identity.matching import FRANCE, MatchOutcome, MatchResult, match_person, nir_identity_problems
from moncompte.identity.models import FormerIdentifier, IdentifierType, IdentityCheck, Person
from moncompte.identity.normalise import birth_date_problem
from moncompte.identity.services import person_create
from moncompte.notifications.services import message_channel_for, message_send

__all__ = [
    "SIGNUP_REFUSED",
    "SignupError",
    "SignupIdentity",
    "SignupResult",
    "SignupState",
    "pending_identity_check",
    "signup_age_problem",
    "signup_complete",
    "signup_identity_problems",
]

SIGNUP_REFUSED = (
    "Si un compte existe déjà pour cette identité, connectez-vous ou utilisez « Mot de passe oublié ». "
    "Si vous êtes déjà allocataire, utilisez la première connexion avec votre numéro allocataire ; si vous "
    "êtes membre d'un foyer allocataire, demandez au responsable du dossier de vous inviter. Sinon, vérifiez "
    "les informations saisies ou appelez le 09 69 32 52 52 (service gratuit + prix d'un appel)."
)
THROTTLED = "Trop de tentatives de création de compte depuis votre connexion. Réessayez dans {wait}."
# Draws of a provisional identifier before giving up (45 random bits: a collision is rare already).
PROVISIONAL_DRAWS = 8


class SignupState(enum.StrEnum):
    LINKED = "linked"
    TO_VERIFY = "to_verify"


class SignupError(DomainError):
    """The account cannot be created; ``messages`` are French sentences for the person
    (``message`` is the first one).

    ``code``: refused (the neutral answer), too_young, password, identity, throttled.
    """

    def __init__(self, messages: str | list[str], *, code: str, wait_seconds: int = 0):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__(self.messages[0], code=code)
        self.wait_seconds = wait_seconds
        if code == "throttled":
            self.status = 429

    def as_dict(self) -> dict:
        return {**super().as_dict(), "messages": self.messages}


@dataclass(frozen=True)
class SignupIdentity:
    """What the person declared about themselves (step 1)."""

    first_names: str
    birth_name: str
    birth_date: datetime.date
    sex: str
    usage_name: str = ""
    # The INSEE code of the birth commune when the person typed one, else "" (label says it).
    birth_place_code: str = ""
    birth_place_label: str = ""
    birth_country_code: str = FRANCE
    address_line1: str = ""
    address_line2: str = ""
    postal_code: str = ""
    city: str = ""

    def to_session(self) -> dict:
        data = asdict(self)
        data["birth_date"] = self.birth_date.isoformat()
        return data

    @classmethod
    def from_session(cls, data: dict) -> SignupIdentity:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["birth_date"] = datetime.date.fromisoformat(values["birth_date"])
        return cls(**values)

    def matching_fields(self) -> dict:
        return {
            "first_names": self.first_names,
            "birth_name": self.birth_name,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "birth_place_code": self.birth_place_code,
            "birth_country_code": self.birth_country_code,
        }


@dataclass(frozen=True)
class SignupResult:
    account: Account
    person: Person
    state: SignupState
    # Set when the person had no NIR: shown once on screen, sent to the validated contact.
    provisional_identifier: Identifier | None = None
    identity_check: IdentityCheck | None = None


def signup_age_problem(birth_date: datetime.date, today: datetime.date | None = None) -> str | None:
    """The French refusal for a person too young to hold an account, None otherwise."""
    if account_allowed(Person(birth_date=birth_date), today=today):
        return None
    return (
        f"Un compte personnel peut être créé à partir de {settings.MONCOMPTE_ACCOUNT_MIN_AGE} ans. Les "
        "informations des enfants plus jeunes figurent dans le dossier de leurs parents."
    )


def signup_identity_problems(identity: SignupIdentity, identifier: Identifier | None) -> list[tuple[str, str]]:
    """(field, French message) for what makes the declaration impossible, before any look-up."""
    problems: list[tuple[str, str]] = []
    if identifier is not None and identifier.is_provisional:
        problems.append(
            (
                "identifier",
                "Un identifiant provisoire est donné avec un compte : si vous en avez un, connectez-vous avec lui.",
            )
        )
    elif identifier is not None:
        problems.extend(
            nir_identity_problems(
                identifier,
                birth_date=identity.birth_date,
                sex=identity.sex,
                birth_place_code=identity.birth_place_code,
                birth_country_code=identity.birth_country_code,
            )
        )
    bound = birth_date_problem(identity.birth_date)
    if bound:
        problems.append(("birth_date", bound))
    age = signup_age_problem(identity.birth_date)
    if age:
        problems.append(("birth_date", age))
    return problems


def pending_identity_check(person: Person) -> IdentityCheck | None:
    """The person's identity check waiting for an agent, if any."""
    return IdentityCheck.objects.pending().filter(person=person).order_by("-created_at").first()


def _scope(actor: Actor):
    return [throttling.address_scope("signup", actor.client_address or "")]


def _provisional_person(identity: SignupIdentity) -> tuple[Person, Identifier]:
    """A new person under a fresh provisional identifier, drawn again on a collision."""
    for _ in range(PROVISIONAL_DRAWS):
        identifier = new_provisional_identifier()
        if (
            Person.objects.with_identifier(identifier.value).exists()
            or FormerIdentifier.objects.with_identifier(identifier.value).exists()
        ):
            continue
        try:
            with transaction.atomic():
                person = _person_create(identity, identifier)
        except IntegrityError:  # drawn by a concurrent sign-up meanwhile
            continue
        return person, identifier
    raise RuntimeError("No free provisional identifier after several draws.")


def _person_create(identity: SignupIdentity, identifier: Identifier) -> Person:
    # person_create stores the names in their one written form (moncompte.identity.normalise).
    return person_create(
        identifier=identifier,
        first_names=identity.first_names,
        birth_name=identity.birth_name,
        usage_name=identity.usage_name,
        birth_date=identity.birth_date,
        sex=identity.sex,
        birth_place_code=identity.birth_place_code,
        birth_country_code=identity.birth_country_code or FRANCE,
        identifier_type=IdentifierType.NIR if identifier.kind is IdentifierKind.NIR else None,
    )


def _identity_check_open(person: Person, identity: SignupIdentity, duplicate: MatchResult) -> IdentityCheck:
    # Possible duplicates (known persons of that identity, matched without NIR) are recorded for
    # the agent, never linked.
    candidate = duplicate.person if duplicate.outcome is MatchOutcome.ONE else None
    return IdentityCheck.objects.create(
        person=person,
        match_outcome=duplicate.outcome.value,
        candidate_person=candidate,
        birth_place_label=identity.birth_place_label[:200],
        address_line1=identity.address_line1[:200],
        address_line2=identity.address_line2[:200],
        postal_code=identity.postal_code[:5],
        city=identity.city[:200],
    )


class _Refused(Exception):
    def __init__(self, reason: str, person: Person | None = None):
        super().__init__(reason)
        self.reason = reason
        self.person = person


def _linkable(person: Person) -> str | None:
    """Why a matched person cannot get an account here (None if they can)."""
    if Account.objects.filter(person=person).exists():
        return "has_account"
    # The policy's CLAIM_ALONE must hold on every file of theirs: a responsible person or spouse
    # would see the file, and names and a NIR are not enough proof for that.
    if not all(decide_for_standing(current, Action.CLAIM_ALONE) for current in standings(person).values()):
        return "member"
    return None


def signup_complete(
    *,
    actor: Actor,
    identity: SignupIdentity,
    identifier: Identifier | None,
    password: str,
    contact_channel: ContactChannel | str,
    contact_destination: str,
) -> SignupResult:
    """Create the account (see the module docstring). Raises SignupError.

    ``contact_channel`` and ``contact_destination`` (normalized) must have been validated with a
    one-time code by the caller (purpose SIGNUP). ``actor``: the visitor creating the account
    (its client address is throttled on refusals).
    """
    contact_channel = ContactChannel(contact_channel)  # ValueError for anything else
    wait = throttling.scopes_wait(_scope(actor))
    if wait:
        journal_record(action=JournalAction.SIGNUP_THROTTLED, actor=actor, detail={"wait_seconds": wait})
        raise SignupError(THROTTLED.format(wait=wait_text(wait)), code="throttled", wait_seconds=wait)
    too_young = signup_age_problem(identity.birth_date)
    if too_young:
        raise SignupError(too_young, code="too_young")
    problems = signup_identity_problems(identity, identifier)
    if problems:
        raise SignupError([message for _, message in problems], code="identity")
    issues = password_problems(
        password,
        identifier=identifier,
        first_names=identity.first_names,
        birth_name=identity.birth_name,
        usage_name=identity.usage_name,
        birth_date=identity.birth_date,
    )
    if issues:
        raise SignupError([issue.message for issue in issues], code="password")

    try:
        with transaction.atomic():
            result = _complete(
                identity=identity,
                identifier=identifier,
                password=password,
                contact_channel=contact_channel,
                contact_destination=contact_destination,
                actor=actor,
            )
    except _Refused as refused:
        # Outside the rolled-back block: the refusal itself is recorded and counted.
        throttling.scopes_failed(_scope(actor))
        journal_record(
            action=JournalAction.SIGNUP_REFUSED,
            actor=actor,
            subject_person=refused.person,
            detail={"reason": refused.reason},
        )
        raise SignupError(SIGNUP_REFUSED, code="refused") from None
    return result


def _complete(
    *,
    identity: SignupIdentity,
    identifier: Identifier | None,
    password: str,
    contact_channel: ContactChannel,
    contact_destination: str,
    actor: Actor,
) -> SignupResult:
    provisional = None
    check = None
    if identifier is not None:
        match = match_person(identifier=identifier, **identity.matching_fields())
        if match.outcome is MatchOutcome.ONE:
            # The lock orders this sign-up with a first connection or another sign-up of that person.
            person = Person.objects.select_for_update().get(pk=match.person.pk)
            reason = _linkable(person)
            if reason:
                raise _Refused(reason, person)
            state = SignupState.LINKED
        elif match.outcome is MatchOutcome.NONE:
            if FormerIdentifier.objects.with_identifier(identifier.value).exists():
                raise _Refused("former_identifier")
            duplicate = match_person(**identity.matching_fields())
            try:
                with transaction.atomic():
                    person = _person_create(identity, identifier)
            except IntegrityError:  # the same NIR recorded by a concurrent sign-up
                raise _Refused("taken") from None
            check = _identity_check_open(person, identity, duplicate)
            state = SignupState.TO_VERIFY
        else:
            holder = Person.objects.with_identifier(identifier.value).first()
            raise _Refused("identity_mismatch", holder)
    else:
        duplicate = match_person(**identity.matching_fields())
        person, provisional = _provisional_person(identity)
        check = _identity_check_open(person, identity, duplicate)
        state = SignupState.TO_VERIFY

    try:
        with transaction.atomic():
            account = account_create(person=person, password=password, actor=actor)
    except IntegrityError:  # an account created for that person meanwhile
        raise _Refused("has_account", person) from None
    # From here on the visitor acts as the new account's person.
    acting = actor.signed_in_as(account, session_key=actor.session_key)
    contact_validated(account=account, kind=contact_channel, value=contact_destination, actor=acting)
    journal_record(
        action=JournalAction.SIGNUP_ACCOUNT_CREATED,
        actor=acting,
        subject_person=person,
        detail={"state": state.value, "identifier_type": person.identifier_type},
    )
    if provisional is not None:
        message_send(
            channel=message_channel_for(contact_channel),
            recipient=contact_destination,
            template="provisional_identifier",
            context={"identifier": provisional.display()},
            account=account,
        )
    return SignupResult(
        account=account, person=person, state=state, provisional_identifier=provisional, identity_check=check
    )
