"""The rule table of PRODUCT.md section 3 through the web pages, for every role on a family's file.

R = the responsible person, S+ = the spouse with the delegation, S = the spouse without it,
M = the child (17), X = the spouse after a separation, O = the responsible person of a file of
another Caf (a stranger to the family's file). Each cell is one page answering, or answering 404,
and the file's data showing or not. Actions with no page yet (procedures, Caf requests, counter)
are checked cell by cell in tests/access/test_policy.py.

Then the strangers a leak would most likely reach, all in the family file's own Caf: a second
file with its own R, S and M; a person who is M on the family's file and R on a file of their own;
a person with R's names and birth date, R on another file. On every page, nobody sees a name, a
file number, an address or an amount of a file they may not see.
"""

import datetime
import html
import re
from types import SimpleNamespace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from moncompte.accounts.models import AccountSession
from moncompte.core.actors import Actor, Channel
from moncompte.households.models import Dossier, Member, Role
from moncompte.web.templatetags.money import euros
from tests.conftest import person_of, sign_in
from tests.factories import (
    AccountFactory,
    BenefitFactory,
    DossierFactory,
    HouseholdPerson,
    MemberFactory,
    PersonFactory,
    make_household,
)

pytestmark = pytest.mark.django_db

# Who plays each role: a member of the family, or the stranger's responsible person.
ROLES = {
    "R": "responsible",
    "S+": "spouse",
    "S": "spouse",
    "M": "child",
    "X": "spouse",
    "O": "stranger",
}


@pytest.fixture
def world(family):
    """The family, and a stranger: alone (no spouse) on a file of another Caf, of another name."""
    name = family.responsible.person.birth_name
    person = PersonFactory(birth_name="BENALI" if name != "BENALI" else "DIALLO")
    member = MemberFactory(dossier=DossierFactory(), person=person)
    BenefitFactory(dossier=member.dossier)
    account = AccountFactory(person=person)
    responsible = HouseholdPerson(person, member, account, person.raw_identifier, account.raw_password)
    stranger = SimpleNamespace(responsible=responsible, dossier=member.dossier, caf=member.dossier.caf)
    assert stranger.caf != family.caf
    return family, stranger


def _member(world, key: str):
    family, stranger = world
    return stranger.responsible if key == "stranger" else getattr(family, key)


def _family_file_data(family) -> set[str]:
    """The file's benefits, payments and address (its number is part of a member's own data)."""
    return _file_markers(family.dossier) - {family.dossier.numero}


# page -> roles for which it answers 200 on their family-file standing (others: 404).
PAGES = {
    "/mon-compte/mes-donnees/": {"R", "S+", "S", "M", "X", "O"},  # own data
    "/mon-compte/coordonnees/valider/": {"R", "S+", "S", "M", "X", "O"},  # own contacts
    "/mon-compte/foyer/": {"R", "S+", "O"},  # household page (O: her own household)
    "/mon-compte/foyer/autorisation/": {"R", "S+"},  # grant/revoke (R), renounce (S+)
    "/mon-compte/foyer/separation/": {"R", "S+", "S"},
    "/mon-compte/foyer/inviter/": {"R", "S+", "O"},  # O: her own file
}
SEES_FAMILY_FILE = {"R", "S+"}


def _set_role(family, role: str) -> None:
    spouse = Member.objects.filter(dossier=family.dossier, role=Role.CONJOINT)
    if role == "S+":
        spouse.update(delegation_granted_at=timezone.now())
    elif role == "X":
        spouse.update(ended_on=datetime.date.today(), delegation_granted_at=None)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_for_every_role(client, world, role):
    family, _ = world
    markers = _family_file_data(family)
    assert len(markers) == 2  # an amount and the address
    _set_role(family, role)
    assert sign_in(client, *_member(world, ROLES[role]).credentials).status_code == 302
    for path, allowed in PAGES.items():
        response = client.get(path)
        expected = 200 if role in allowed else 404
        assert response.status_code == expected, (role, path, response.status_code)
        body = response.content.decode()
        if role not in SEES_FAMILY_FILE:
            for marker in markers:
                assert html.escape(marker) not in body and marker not in body, (role, path, marker)
    home = client.get("/mon-compte/").content.decode()
    for marker in markers:
        assert (html.escape(marker) in home) == (role in SEES_FAMILY_FILE), (role, marker)


# Patterns whose number is not an object's identifier (route: what the number is).
NOT_OBJECT_IDS = {"mon-compte/bienvenue/<int:step>/": "the number of a first-connection screen (1 to 4)"}


def _patterns_with_parameters(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns_with_parameters(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and "<" in str(pattern.pattern):
            if prefix + str(pattern.pattern) not in NOT_OBJECT_IDS:
                yield prefix + str(pattern.pattern)


def test_a_strangers_identifiers_in_urls_answer_404(client, world):
    """Every URL pattern with an object identifier, filled with identifiers of the family's
    objects, requested by a stranger: 404 (a 405 for a method the view does not take), never 403,
    never their data."""
    from moncompte.households.invitations import invitation_send

    family, stranger = world
    for who in (family.responsible, family.spouse, family.child):
        assert sign_in(type(client)(), *who.credentials).status_code == 302
    claire = family.responsible.person
    pierre = _invitable_member(family)
    invitation_send(
        actor=Actor(channel=Channel.WEB, account=claire.account),
        member=pierre,
        channel="email",
        destination="pierre@example.fr",
    )
    foreign_ids = set(AccountSession.objects.values_list("id", flat=True))
    from moncompte.households.models import Invitation

    foreign_ids |= set(Invitation.objects.values_list("id", flat=True))
    foreign_ids |= set(Member.objects.filter(dossier=family.dossier).values_list("id", flat=True))
    assert sign_in(client, *stranger.responsible.credentials).status_code == 302
    own = set(AccountSession.objects.filter(account__person=stranger.responsible.person).values_list("id", flat=True))
    foreign_ids -= own
    assert foreign_ids

    routes = list(_patterns_with_parameters())
    assert any("<int:" in r for r in routes)
    for route in routes:
        for object_id in sorted(foreign_ids):
            path = "/" + re.sub(r"<int:\w+>", str(object_id), route)
            path = re.sub(r"<(str|slug):\w+>", "x" * 43, path)
            for method in ("get", "post"):
                response = getattr(client, method)(path)
                # The API takes no web session: it answers 401 before reading anything (its own
                # matrix, with tokens, is tests/api/test_access_matrix_api.py). Nor does the
                # agents' console: its sign-in, before reading anything (tests/counter, tests/queues).
                if path.startswith("/agents/"):
                    assert response.status_code == 302 and response["Location"] == "/agents/connexion/", (method, path)
                    continue
                refused = (401,) if path.startswith("/api/") else (404, 405)
                assert response.status_code in refused, (method, path, response.status_code)
                assert family.responsible.person.birth_name not in response.content.decode(), (method, path)
    # The invitation cancel form takes an id in its body: someone else's is not found either.
    response = client.post("/mon-compte/foyer/inviter/", {"action": "annuler", "invitation": min(foreign_ids)})
    assert response.status_code == 404


def _invitable_member(family):
    """An adult member of the family's file without an account (role "other"): one may invite them."""
    person = PersonFactory(age=21, sex="M", birth_name=family.responsible.person.birth_name)
    return Member.objects.create(
        dossier=family.dossier, person=person, role=Role.AUTRE, joined_on=datetime.date(2015, 1, 1)
    )


# Strangers of the same Caf, members of two files, people with the same names ------------------

# Every page a signed-in person can open without an object id.
ALL_PAGES = [
    "/mon-compte/",
    "/mon-compte/mes-donnees/",
    "/mon-compte/mes-donnees/export.json",
    "/mon-compte/mes-donnees/export/",
    "/mon-compte/coordonnees/valider/",
    "/mon-compte/appareils/",
    "/mon-compte/foyer/",
    "/mon-compte/foyer/autorisation/",
    "/mon-compte/foyer/separation/",
    "/mon-compte/foyer/inviter/",
    "/mon-compte/bienvenue/",
    "/mon-compte/bienvenue/2/",
    "/mon-compte/bienvenue/3/",
    "/mon-compte/bienvenue/4/",
]
# Amounts the factories never draw (they draw 50 to 600 euros), one per new file.
NEIGHBOURS_AMOUNT, OWN_FILE_AMOUNT, TWIN_AMOUNT = 77731, 66621, 55511


def _file_markers(dossier: Dossier) -> set[str]:
    """What only someone who may see the file may read: number, address, amounts."""
    markers = {dossier.numero, dossier.address_line1}
    for benefit in dossier.benefits.all():
        markers.add(euros(benefit.monthly_amount_cents))
    return markers


def _names(dossier: Dossier) -> set[str]:
    return {m.person.display_name for m in Member.objects.filter(dossier=dossier).select_related("person")}


@pytest.fixture
def caf_world(world):
    """Besides the family and the stranger: three more files in the family file's Caf."""
    family, stranger = world
    caf = family.caf
    family_file = family.dossier
    neighbours = make_household(caf=caf, benefits=False)
    BenefitFactory(dossier=neighbours.dossier, monthly_amount_cents=NEIGHBOURS_AMOUNT)

    # M on the family's file, R on a file of their own.
    double = PersonFactory(age=19)
    double_account = AccountFactory(person=double)
    MemberFactory(dossier=family_file, person=double, other=True)
    own_file = DossierFactory(caf=caf)
    MemberFactory(dossier=own_file, person=double)
    MemberFactory(dossier=own_file, child=True)
    BenefitFactory(dossier=own_file, monthly_amount_cents=OWN_FILE_AMOUNT)

    # R's names and birth date, another person (another NIR), R on another file.
    claire = family.responsible.person
    twin = PersonFactory(
        first_names=claire.first_names,
        birth_name=claire.birth_name,
        birth_date=claire.birth_date,
        sex=claire.sex,
    )
    assert twin.display_name == claire.display_name and twin.pk != claire.pk
    twin_account = AccountFactory(person=twin)
    twin_file = DossierFactory(caf=caf)
    MemberFactory(dossier=twin_file, person=twin)
    MemberFactory(dossier=twin_file, spouse=True)
    BenefitFactory(dossier=twin_file, monthly_amount_cents=TWIN_AMOUNT)

    files = {"family": family_file, "neighbours": neighbours.dossier, "own_file": own_file, "twin_file": twin_file}
    viewers = {
        # viewer -> (credentials, files they may see whole, files they belong to without seeing them)
        "R": (family.responsible.credentials, {"family"}, set()),
        "S+": (family.spouse.credentials, {"family"}, set()),
        "S": (family.spouse.credentials, set(), {"family"}),
        "M": (family.child.credentials, set(), {"family"}),
        "X": (family.spouse.credentials, set(), {"family"}),
        "neighbour R": (neighbours.responsible.credentials, {"neighbours"}, set()),
        "neighbour S": (neighbours.spouse.credentials, set(), {"neighbours"}),
        "neighbour M": (neighbours.child.credentials, set(), {"neighbours"}),
        "M here, R there": ((double.raw_identifier, double_account.raw_password), {"own_file"}, {"family"}),
        "same names": ((twin.raw_identifier, twin_account.raw_password), {"twin_file"}, set()),
        "O": (stranger.responsible.credentials, set(), set()),
    }
    return family, files, viewers


@pytest.mark.parametrize(
    "viewer",
    ["R", "S+", "S", "M", "X", "neighbour R", "neighbour S", "neighbour M", "M here, R there", "same names", "O"],
)
def test_nobody_reads_anything_of_a_file_they_may_not_see(client, caf_world, viewer):
    family, files, viewers = caf_world
    credentials, sees, belongs = viewers[viewer]
    _set_role(family, viewer if viewer in ("S+", "X") else "")
    assert sign_in(client, *credentials).status_code == 302
    me = person_of(credentials[0])
    allowed_names = {me.display_name} | {name for key in sees for name in _names(files[key])}
    forbidden = set()
    for key, dossier in files.items():
        if key in sees:
            continue
        markers = _file_markers(dossier)
        if key in belongs:
            markers.discard(dossier.numero)  # the number of one's own file is one's own data
        forbidden |= markers
        forbidden |= _names(dossier) - allowed_names
    assert forbidden
    bodies = {}
    for path in ALL_PAGES:
        response = client.get(path)
        assert response.status_code in (200, 404), (viewer, path, response.status_code)
        bodies[path] = response.content.decode()
    for path, body in bodies.items():
        for marker in forbidden:
            for form in {marker, html.escape(marker)}:
                assert form not in body, (viewer, path, marker)
    # And what they may see is there: the check above is not blind.
    home = bodies["/mon-compte/"]
    for key in sees:
        for marker in _file_markers(files[key]):
            assert marker in home or html.escape(marker) in home, (viewer, key, marker)
