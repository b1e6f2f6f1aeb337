"""The household access matrix (tests/web/test_access_matrix.py) through the REST API: for every
role the same answer as the pages, and nobody reads anything of a file they may not see.

The world is the web matrix's own (its fixtures and helpers, imported): R, S+, S, M, X on the
family's file and O, the responsible person of a file of another Caf; then, in the family file's
Caf, a second household (its R, S, M), a person who is M on the family's file and R on a file of
their own, and a person with R's names and birth date, R on another file.

- every endpoint for every role: 200 or 404 exactly as the corresponding page (the pages' table,
  PAGES, is read from the web matrix, so the two cannot drift apart), and the family file's
  address, amounts and payments in /api/v1/files/ exactly for R and S+, as on the home page;
- every URL of the API with an object id, filled with the family's ids, asked by the stranger:
  404 (or 405), never a name of the family;
- every read of the API for every viewer of the Caf: no name, file number, address or amount of
  a file they may not see, and what they may see is there (the check is not blind).
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from moncompte.accounts.models import Account, AccountSession, Contact
from moncompte.households.models import Dossier, Member, Payment
from tests.api.api_clients import api_client
from tests.conftest import person_of, sign_in
from tests.factories import api_token_for
from tests.web.test_access_matrix import (  # noqa: F401  (the web matrix's world and its fixtures)
    PAGES,
    ROLES,
    SEES_FAMILY_FILE,
    _member,
    _names,
    _set_role,
    caf_world,
    world,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _values(document) -> tuple[set[str], set[int]]:
    """Every string and every integer of a JSON document (keys included), to look for markers
    field by field, never in a formatted page."""
    strings, numbers = set(), set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                strings.add(str(key))
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, bool) or node is None:
            return
        elif isinstance(node, int):
            numbers.add(node)
        else:
            strings.add(str(node))

    walk(document)
    return strings, numbers


def _file_markers(dossier: Dossier) -> tuple[set[str], set[int]]:
    """What only someone who may see the file may read: number and address, amounts of its
    benefits and payments (in cents, as the API gives them)."""
    texts = {dossier.numero, dossier.address_line1}
    amounts = set(dossier.benefits.values_list("monthly_amount_cents", flat=True))
    amounts |= set(Payment.objects.filter(dossier=dossier).values_list("amount_cents", flat=True))
    return texts, amounts


def _contains(document, texts: set[str], amounts: set[int]) -> set:
    strings, numbers = _values(document)
    found = {text for text in texts if any(text in value for value in strings)}
    return found | (amounts & numbers)


# Every endpoint for every role, the same answer as the page --------------------------------------


def _expected_api(family) -> dict[str, set[str]]:
    """API path -> the roles it answers 200 for, from the pages' own table."""
    file_path = f"{API}/files/{family.dossier.pk}/"
    return {
        f"{API}/me/": PAGES["/mon-compte/mes-donnees/"],
        f"{API}/me/contacts/": PAGES["/mon-compte/coordonnees/valider/"],
        f"{API}/sessions/": PAGES["/mon-compte/mes-donnees/"],
        f"{API}/files/": PAGES["/mon-compte/mes-donnees/"],  # everyone gets their list
        file_path: SEES_FAMILY_FILE,
        f"{file_path}payments/": SEES_FAMILY_FILE,
        # The household page of the family's file (O's 200 there is her own household).
        f"{file_path}members/": PAGES["/mon-compte/foyer/"] - {"O"},
        f"{API}/delegation/": PAGES["/mon-compte/foyer/autorisation/"],
    }


@pytest.mark.parametrize("role", list(ROLES))
def test_every_endpoint_for_every_role_answers_as_the_page(client, world, role):  # noqa: F811
    family, _ = world
    texts, amounts = _file_markers(family.dossier)
    texts.discard(family.dossier.numero)  # a member's own data (the own-data page shows it)
    assert texts and amounts
    _set_role(family, role)
    holder = _member(world, ROLES[role])
    api = api_client(holder.account)
    bodies = {}
    for path, allowed in _expected_api(family).items():
        response = api.get(path)
        expected = 200 if role in allowed else 404
        assert response.status_code == expected, (role, path, response.status_code)
        bodies[path] = response.json()
        if role not in SEES_FAMILY_FILE:
            assert not _contains(bodies[path], texts, amounts), (role, path)
    # The file's address and amounts in the list exactly when the home page shows them.
    listed = _contains(bodies[f"{API}/files/"], texts, amounts)
    assert (listed == texts | amounts) == (role in SEES_FAMILY_FILE), (role, listed)
    assert bool(listed) == (role in SEES_FAMILY_FILE), (role, listed)
    # The pages answer the same, in the same run.
    assert sign_in(client, *holder.credentials).status_code == 302
    for page, api_path in {
        "/mon-compte/mes-donnees/": f"{API}/me/",
        "/mon-compte/foyer/autorisation/": f"{API}/delegation/",
    }.items():
        assert client.get(page).status_code == api.get(api_path).status_code, (role, page)
    home = client.get("/mon-compte/").content.decode()
    address = family.dossier.address_line1
    assert (address in home or address.replace("'", "&#x27;") in home) == (role in SEES_FAMILY_FILE)


# A stranger's ids in every URL ----------------------------------------------------------------


def _routes_with_ids(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes_with_ids(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/") and "<" in route:
            yield route


def _filled(route: str, object_id: int) -> str:
    path = "/" + re.sub(r"<int:\w+>", str(object_id), route)
    return re.sub(r"<(str|slug):\w+>", "x", path)


def test_a_strangers_ids_in_every_api_url_answer_404(world):  # noqa: F811
    family, stranger = world
    for who in (family.responsible, family.spouse, family.child):
        api_token_for(who.account)  # their app sessions exist too
        assert sign_in(Client(), *who.credentials).status_code == 302
    accounts = Account.objects.filter(person__memberships__dossier=family.dossier)
    foreign_ids = {family.dossier.pk}
    foreign_ids |= set(AccountSession.objects.filter(account__in=accounts).values_list("id", flat=True))
    foreign_ids |= set(Contact.objects.filter(account__in=accounts).values_list("id", flat=True))
    foreign_ids |= set(Member.objects.filter(dossier=family.dossier).values_list("id", flat=True))
    own = set(AccountSession.objects.filter(account=stranger.responsible.account).values_list("id", flat=True))
    own |= set(Contact.objects.filter(account=stranger.responsible.account).values_list("id", flat=True))
    own.add(stranger.dossier.pk)
    foreign_ids -= own
    assert foreign_ids
    routes = list(_routes_with_ids())
    assert "api/v1/files/<int:file_id>/payments/" in routes
    names = {p.person.display_name for p in family.people} | {family.responsible.person.birth_name}
    data = {"password": stranger.responsible.password, "code": "000000"}
    for route in routes:
        # A token per route: the per-token rate of the writes is not what is tested here.
        api = api_client(stranger.responsible.account)
        for method in ("get", "post", "delete"):
            # What an id of nothing at all answers: a foreign id must answer exactly the same.
            nothing = getattr(api, method)(_filled(route, 99999999), data)
            for object_id in sorted(foreign_ids):
                response = getattr(api, method)(_filled(route, object_id), data)
                label = (method, _filled(route, object_id), response.status_code)
                assert response.status_code < 500 and response.status_code not in (200, 201, 204, 403), label
                if response.status_code not in (404, 405):  # a body refused before the id is looked at
                    assert (response.status_code, response.content) == (nothing.status_code, nothing.content), label
                body = response.content.decode()
                assert not [name for name in names if name in body], label
    # Nothing of the family was changed by any of these.
    assert AccountSession.objects.filter(account__in=accounts, ended_at__isnull=False).count() == 0
    assert Contact.objects.filter(account__in=accounts).count() == accounts.count()


# Nobody reads anything of a file they may not see ------------------------------------------------


def _readable_paths(viewer_files: list[int]) -> list[str]:
    """Every read of the API with no id, and those of the viewer's own visible files."""
    paths = [f"{API}/me/", f"{API}/me/contacts/", f"{API}/files/", f"{API}/delegation/", f"{API}/sessions/"]
    for route in ("procedures/", "caf-requests/"):  # the other resources' lists, if they are there
        paths.append(f"{API}/{route}")
    for file_id in viewer_files:
        paths += [f"{API}/files/{file_id}/", f"{API}/files/{file_id}/payments/", f"{API}/files/{file_id}/members/"]
    return paths


@pytest.mark.parametrize(
    "viewer",
    ["R", "S+", "S", "M", "X", "neighbour R", "neighbour S", "neighbour M", "M here, R there", "same names", "O"],
)
def test_nobody_reads_anything_of_a_file_they_may_not_see_through_the_api(caf_world, viewer):  # noqa: F811
    family, files, viewers = caf_world
    credentials, sees, belongs = viewers[viewer]
    _set_role(family, viewer if viewer in ("S+", "X") else "")
    me = person_of(credentials[0])
    allowed_names = {me.display_name} | {name for key in sees for name in _names(files[key])}
    forbidden_texts, forbidden_amounts = set(), set()
    for key, dossier in files.items():
        if key in sees:
            continue
        texts, amounts = _file_markers(dossier)
        if key in belongs:
            texts.discard(dossier.numero)  # the number of one's own file is one's own data
        forbidden_texts |= texts | (_names(dossier) - allowed_names)
        forbidden_amounts |= amounts
    # An amount of a file one may see is no leak if another file happens to have it too.
    for key in sees:
        forbidden_amounts -= _file_markers(files[key])[1]
    assert forbidden_texts and forbidden_amounts
    api = api_client(me.account)
    visible_ids = [files[key].pk for key in sees]
    answers = {}
    for path in _readable_paths(visible_ids):
        response = api.get(path)
        assert response.status_code in (200, 404), (viewer, path, response.status_code)
        answers[path] = response.json()
    for path, document in answers.items():
        assert not _contains(document, forbidden_texts, forbidden_amounts), (viewer, path)
    # And what they may see is there: the check above is not blind.
    for key in sees:
        texts, amounts = _file_markers(files[key])
        assert _contains(answers[f"{API}/files/"], texts, amounts) == texts | amounts, (viewer, key)
        assert _contains(answers[f"{API}/files/{files[key].pk}/"], texts, amounts) == texts | amounts
