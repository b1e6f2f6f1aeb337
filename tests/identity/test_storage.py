"""The database never holds an identifier in clear."""

import pytest
from django.db import connection

from moncompte.identity.identifiers import parse_identifier
from tests.conftest import CLAIRE, SOFIA

pytestmark = pytest.mark.django_db


def _whole_database_text() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_no_nir_in_clear_anywhere_in_the_database(client, demo):
    from tests.conftest import sign_in

    sign_in(client, *CLAIRE)
    client.get("/mon-compte/")
    text = _whole_database_text().upper()
    for raw in (CLAIRE[0], SOFIA[0], "1 83 11 69 383 117 49", "8 17 51 23 456 789 13"):
        value = parse_identifier(raw).value
        assert value not in text
        assert value[:7] not in text.replace(" ", ""), raw  # not even the birth part with place
        assert raw.upper() not in text


def test_person_identifier_is_recovered_for_its_holder(demo):
    from tests.conftest import person_of

    assert person_of(SOFIA[0]).identifier.display() == "2 90 02 2A 004 021 09"


def test_legacy_code_is_stored_as_a_keyed_hash(demo):
    from moncompte.accounts.legacy import legacy_code_matches
    from moncompte.accounts.models import LegacyCredential

    credential = LegacyCredential.objects.get(dossier__numero="2345678")
    assert legacy_code_matches("12345678", credential.code_digest)
    assert not legacy_code_matches("12345679", credential.code_digest)
    assert "12345678" not in _whole_database_text()
