"""The database never holds an identifier in clear."""

import pytest
from django.db import connection

from moncompte.identity.identifiers import parse_identifier
from tests.factories import AccountFactory, LegacyCredentialFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _whole_database_text() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_no_nir_in_clear_anywhere_in_the_database(client, family):
    from tests.conftest import sign_in

    corsican = AccountFactory(person=PersonFactory(birth_place_code="2A004")).person
    nnp_holder = AccountFactory(person=PersonFactory(nnp=True)).person
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    client.get("/mon-compte/")
    text = _whole_database_text().upper()
    identifiers = [member.identifier for member in family.people]
    for raw in (*identifiers, corsican.raw_identifier, nnp_holder.raw_identifier):
        value = parse_identifier(raw).value
        assert value not in text
        assert value[:7] not in text.replace(" ", ""), raw  # not even the birth part with place
        assert raw.upper() not in text


def test_person_identifier_is_recovered_for_its_holder():
    from tests.conftest import person_of

    raw = PersonFactory(birth_place_code="2A004").raw_identifier  # "2 90 02 2A 004 021 09"
    assert "2A" in raw
    assert person_of(raw).identifier.display() == raw


def test_legacy_code_is_stored_as_a_keyed_hash():
    from moncompte.accounts.legacy import legacy_code_matches
    from moncompte.accounts.models import LegacyCredential

    LegacyCredentialFactory(code="40506070")
    credential = LegacyCredential.objects.get()
    assert legacy_code_matches("40506070", credential.code_digest)
    assert not legacy_code_matches("40506071", credential.code_digest)
    assert "40506070" not in _whole_database_text()
