import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from moncompte.audit.actions import JournalAction
from moncompte.audit.models import AppendOnlyError, JournalEntry
from moncompte.audit.services import journal_record, journal_verify, session_ref
from tests.conftest import sign_in
from tests.factories import nir_for, typed
from tests.support.services import requires_postgresql

pytestmark = pytest.mark.django_db


def test_successful_signin_is_journaled_with_session_and_address(client, family):
    sign_in(client, *family.responsible.credentials, REMOTE_ADDR="198.51.100.7")
    entry = JournalEntry.objects.filter(action=JournalAction.SIGNIN_SUCCESS).latest("id")
    responsible = family.responsible.person
    assert entry.actor_person == responsible and entry.subject_person == responsible
    assert entry.client_address == "198.51.100.7"
    assert entry.session_ref == session_ref(client.session.session_key)
    assert client.session.session_key not in str(entry.__dict__)


def test_failed_signin_is_journaled(client, family):
    sign_in(client, family.spouse.identifier, "Mauvais2021mot", REMOTE_ADDR="203.0.113.9")
    entry = JournalEntry.objects.filter(action=JournalAction.SIGNIN_FAILURE).latest("id")
    assert entry.subject_person == family.spouse.person
    assert entry.actor_person is None
    assert entry.client_address == "203.0.113.9"


def test_failed_signin_with_unknown_identifier_is_journaled(client, family):
    # A valid NIR that nobody holds, next to a household that exists.
    spouse = family.spouse.person
    unknown = nir_for(sex=spouse.sex, birth_date=spouse.birth_date, birth_place_code=spouse.birth_place_code)
    sign_in(client, typed(unknown), "Mauvais2021mot")
    entry = JournalEntry.objects.filter(action=JournalAction.SIGNIN_FAILURE).latest("id")
    assert entry.subject_person is None


def test_display_of_the_file_is_journaled(client, family):
    sign_in(client, *family.responsible.credentials)
    client.get("/mon-compte/")
    entry = JournalEntry.objects.filter(action=JournalAction.HOME_VIEW).latest("id")
    assert entry.dossier == family.dossier
    assert entry.actor_person == family.responsible.person
    assert entry.session_ref == session_ref(client.session.session_key)


def test_own_page_without_file_is_journaled_without_file(client, family):
    # A child over 15 sees their own page only: nothing of the file, so no file in the entry.
    sign_in(client, *family.child.credentials)
    client.get("/mon-compte/")
    entry = JournalEntry.objects.filter(action=JournalAction.HOME_VIEW).latest("id")
    assert entry.dossier is None and entry.subject_person == family.child.person


def test_journal_cannot_be_changed_or_deleted_through_the_application():
    entry = journal_record(action=JournalAction.SIGNOUT)
    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        JournalEntry.objects.all().delete()
    assert JournalEntry.objects.get(pk=entry.pk).action == "signout"


def test_chain_detects_a_change_made_behind_the_application():
    for i in range(5):
        journal_record(action=JournalAction.SIGNOUT, detail={"i": i})
    assert all(intact for _, intact in journal_verify())
    call_command("audit_verify")
    target = JournalEntry.objects.order_by("id")[2]
    table = JournalEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER audit_journal_append_only")  # noqa: S608
        cursor.execute(f"UPDATE {table} SET action = %s WHERE id = %s", ["forged", target.id])  # noqa: S608
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER audit_journal_append_only")  # noqa: S608
    broken = [entry_id for entry_id, intact in journal_verify() if not intact]
    assert broken[0] == target.id
    with pytest.raises(CommandError):
        call_command("audit_verify")


@requires_postgresql("the database trigger exists on PostgreSQL")
def test_database_refuses_updates_on_postgresql():
    from django.db import DatabaseError, transaction

    entry = journal_record(action=JournalAction.SIGNOUT)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_journalentry SET action = 'x' WHERE id = %s", [entry.id])


def test_an_undeclared_action_is_refused():
    with pytest.raises(ValueError):
        journal_record(action="not.declared")
    assert not JournalEntry.objects.exists()


def test_the_entry_records_the_actor_and_its_channel():
    from moncompte.core.actors import Actor, Channel

    actor = Actor.visitor(channel=Channel.PHONE, client_address="198.51.100.7", session_key="k" * 32)
    entry = journal_record(action=JournalAction.SIGNIN_FAILURE, actor=actor)
    stored = JournalEntry.objects.get(pk=entry.pk)
    assert stored.channel == "phone"
    assert stored.client_address == "198.51.100.7"
    assert stored.session_ref == session_ref("k" * 32) != ""
    assert all(intact for _, intact in journal_verify())
