"""No page makes more queries as the household grows (2 to 10 members)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from moncompte.households.models import Member, Role
from tests.conftest import sign_in
from tests.factories import AccountFactory, PersonFactory

pytestmark = pytest.mark.django_db

PAGES = ["/mon-compte/", "/mon-compte/foyer/", "/mon-compte/foyer/inviter/", "/mon-compte/mes-donnees/"]


def _grow_file_to(family, size: int) -> None:
    dossier = family.dossier
    index = Member.objects.filter(dossier=dossier).count()
    while Member.objects.filter(dossier=dossier).count() < size:
        person = PersonFactory(
            first_names=f"Membre{index}",
            birth_name=family.responsible.person.birth_name,
            birth_date=datetime.date(1995, 1 + index % 12, 1),
            sex="F",
        )
        if index % 2:
            AccountFactory(person=person)
        Member.objects.create(dossier=dossier, person=person, role=Role.AUTRE)
        index += 1


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(context.captured_queries)


@pytest.mark.parametrize("path", PAGES)
def test_query_count_does_not_grow_with_the_household(client, family, path):
    Member.objects.filter(dossier=family.dossier).exclude(role__in=[Role.RESPONSABLE, Role.CONJOINT]).delete()
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    client.get(path)  # warm: first-request work (session touch) out of the way
    counts = {}
    for size in (2, 6, 10):
        _grow_file_to(family, size)
        counts[size] = _queries(client, path)
    assert counts[2] == counts[6] == counts[10], counts
