"""The rule table of PRODUCT.md section 3 through the web pages, for every role on the Martin file.

R = Claire, S+ = Marc with the delegation, S = Marc without it, M = Léa (17), X = Marc after a
separation, O = Sofia (another file's responsible person: a stranger to the Martin file). Each
cell is one page answering, or answering 404, and the file's data showing or not. Actions with
no page yet (procedures, Caf requests, counter) are checked cell by cell in
tests/access/test_policy.py.
"""

import datetime
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from moncompte.accounts.models import AccountSession
from moncompte.households.models import Member, Role
from tests.conftest import CLAIRE, LEA, MARC, SOFIA, sign_in

pytestmark = pytest.mark.django_db

# The file's benefits, payments and address (its number is part of a member's own data).
MARTIN_FILE_DATA = ("148,52", "245,00", "12 rue des Lilas")

ROLES = {
    "R": CLAIRE,
    "S+": MARC,
    "S": MARC,
    "M": LEA,
    "X": MARC,
    "O": SOFIA,
}

# page -> roles for which it answers 200 on their Martin-file standing (others: 404).
PAGES = {
    "/mon-compte/mes-donnees/": {"R", "S+", "S", "M", "X", "O"},  # own data
    "/mon-compte/coordonnees/valider/": {"R", "S+", "S", "M", "X", "O"},  # own contacts
    "/mon-compte/foyer/": {"R", "S+", "O"},  # household page (O: her own household)
    "/mon-compte/foyer/autorisation/": {"R", "S+"},  # grant/revoke (R), renounce (S+)
    "/mon-compte/foyer/separation/": {"R", "S+", "S"},
    "/mon-compte/foyer/inviter/": {"R", "S+", "O"},  # O: her own file
}
SEES_MARTIN_FILE = {"R", "S+"}


def _set_role(role: str) -> None:
    spouse = Member.objects.filter(dossier__numero="1234567", role=Role.CONJOINT)
    if role == "S+":
        spouse.update(delegation_granted_at=timezone.now())
    elif role == "X":
        spouse.update(ended_on=datetime.date.today(), delegation_granted_at=None)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_for_every_role(client, demo, role):
    _set_role(role)
    sign_in(client, *ROLES[role])
    for path, allowed in PAGES.items():
        response = client.get(path)
        expected = 200 if role in allowed else 404
        assert response.status_code == expected, (role, path, response.status_code)
        body = response.content.decode()
        if role not in SEES_MARTIN_FILE:
            for marker in MARTIN_FILE_DATA:
                assert marker not in body, (role, path, marker)
    home = client.get("/mon-compte/").content.decode()
    for marker in MARTIN_FILE_DATA:
        assert (marker in home) == (role in SEES_MARTIN_FILE), (role, marker)


def _patterns_with_parameters(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns_with_parameters(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and "<" in str(pattern.pattern):
            yield prefix + str(pattern.pattern)


def test_a_strangers_identifiers_in_urls_answer_404(client, demo):
    """Every URL pattern with an object identifier, filled with identifiers of the Martin family's
    objects, requested by Sofia: 404 (a 405 for a method the view does not take), never 403,
    never their data."""
    from moncompte.households.invitations import invitation_send
    from tests.conftest import person_of

    for who in (CLAIRE, MARC, LEA):
        sign_in(type(client)(), *who)
    claire = person_of(CLAIRE[0])
    pierre = _invitable_member()
    invitation_send(actor_person=claire, member=pierre, channel="email", destination="pierre@example.fr")
    foreign_ids = set(AccountSession.objects.values_list("id", flat=True))
    from moncompte.households.models import Invitation

    foreign_ids |= set(Invitation.objects.values_list("id", flat=True))
    foreign_ids |= set(Member.objects.filter(dossier__numero="1234567").values_list("id", flat=True))
    sign_in(client, *SOFIA)
    own = set(AccountSession.objects.filter(account__person=person_of(SOFIA[0])).values_list("id", flat=True))
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
                assert response.status_code in (404, 405), (method, path, response.status_code)
                assert "MARTIN" not in response.content.decode(), (method, path)
    # The invitation cancel form takes an id in its body: someone else's is not found either.
    response = client.post("/mon-compte/foyer/inviter/", {"action": "annuler", "invitation": min(foreign_ids)})
    assert response.status_code == 404


def _invitable_member():
    import datetime as dt

    from stdnum.fr import nir

    from moncompte.households.models import Dossier
    from moncompte.identity.identifiers import parse_identifier
    from moncompte.identity.services import person_create

    value13 = "1050175112077"
    person = person_create(
        identifier=parse_identifier(value13 + nir.calc_check_digits(value13)),
        first_names="Pierre",
        birth_name="MARTIN",
        birth_date=dt.date(2005, 1, 1),
        sex="M",
    )
    return Member.objects.create(dossier=Dossier.objects.get(numero="1234567"), person=person, role=Role.AUTRE)
