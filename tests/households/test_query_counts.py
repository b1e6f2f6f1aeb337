"""No page makes more queries as the household grows (2 to 10 members)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from stdnum.fr import nir

from moncompte.accounts.services import account_create
from moncompte.core.actors import Actor
from moncompte.households.models import Dossier, Member, Role
from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.services import person_create
from tests.conftest import CLAIRE, sign_in

pytestmark = pytest.mark.django_db

PAGES = ["/mon-compte/", "/mon-compte/foyer/", "/mon-compte/foyer/inviter/", "/mon-compte/mes-donnees/"]


def _grow_martin_file_to(size: int) -> None:
    dossier = Dossier.objects.get(numero="1234567")
    index = Member.objects.filter(dossier=dossier).count()
    while Member.objects.filter(dossier=dossier).count() < size:
        value13 = f"2{95:02d}{1 + index % 12:02d}75{400 + index:03d}{500 + index:03d}"
        person = person_create(
            identifier=parse_identifier(value13 + nir.calc_check_digits(value13)),
            first_names=f"Membre{index}",
            birth_name="MARTIN",
            birth_date=datetime.date(1995, 1 + index % 12, 1),
            sex="F",
        )
        if index % 2:
            account_create(actor=Actor.system(), person=person, password=f"Compte membre {index} ok")
        Member.objects.create(dossier=dossier, person=person, role=Role.AUTRE)
        index += 1


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(context.captured_queries)


@pytest.mark.parametrize("path", PAGES)
def test_query_count_does_not_grow_with_the_household(client, demo, path):
    Member.objects.filter(dossier__numero="1234567").exclude(role__in=[Role.RESPONSABLE, Role.CONJOINT]).delete()
    sign_in(client, *CLAIRE)
    client.get(path)  # warm: first-request work (session touch) out of the way
    counts = {}
    for size in (2, 6, 10):
        _grow_martin_file_to(size)
        counts[size] = _queries(client, path)
    assert counts[2] == counts[6] == counts[10], counts
