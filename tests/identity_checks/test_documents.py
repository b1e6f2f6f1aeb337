"""The identity documents in the console: streamed to the checkers of the check's Caf only, as
stored (type, inline, a neutral file name), every view journaled with the agent; deleted after
the decision plus MONCOMPTE_RETENTION_IDENTITY_DOCUMENT_DAYS."""

import datetime
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from moncompte.access.agents import AgentRole
from moncompte.audit.models import JournalEntry
from moncompte.core.retention import purge_identity_documents
from moncompte.identity.models import IdentityDocument
from tests.conftest import sign_in
from tests.factories import AgentFactory
from tests.identity_checks.helpers import PASSWORD, console, document_for, signup

pytestmark = pytest.mark.django_db

QUEUE = "/agents/verifications-identite/"


def url(document) -> str:
    return f"{QUEUE}{document.identity_check_id}/documents/{document.pk}/"


def viewed() -> list[JournalEntry]:
    return list(JournalEntry.objects.filter(action="identity.check_document_viewed").order_by("pk"))


def test_a_checker_of_the_caf_sees_the_stored_document_and_the_view_is_journaled(lyon, checker, media):
    result = signup()
    document = document_for(result.identity_check)
    response = console(checker).get(url(document))
    assert response.status_code == 200
    # Read to the end, which closes the file (response.close() would also close the test's
    # database connection, through the request_finished signal).
    body = b"".join(response.streaming_content)
    assert body == (Path(media) / document.file.name).read_bytes() and len(body) == document.size
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="justificatif.png"'
    assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
    [entry] = viewed()
    assert entry.actor_agent == checker and entry.subject_person == result.person
    assert entry.detail == {"check": result.identity_check.pk, "document": document.pk}
    # Each view is journaled.
    b"".join(console(checker).get(url(document)).streaming_content)
    assert len(viewed()) == 2


def test_nobody_else_sees_a_document(lyon, paris, checker, paris_checker, counter_agent, family, media):
    result = signup()
    document = document_for(result.identity_check)
    # Another Caf's checker, a counter agent of the same Caf, an administrator: not found.
    for agent in (paris_checker, counter_agent, AgentFactory(caf=lyon, roles=[AgentRole.ADMINISTRATOR.value])):
        assert console(agent).get(url(document)).status_code == 404
    # A document under another check's address: not found, even for the checker of the Caf.
    other = signup(first_names="Autre")
    assert console(checker).get(f"{QUEUE}{other.identity_check.pk}/documents/{document.pk}/").status_code == 404
    # A usager signed in on the site, the person herself included: the console's sign-in, never the file.
    for identifier, password in (family.responsible.credentials, (result.provisional_identifier.display(), PASSWORD)):
        usager = Client()
        assert sign_in(usager, identifier, password).status_code == 302
        response = usager.get(url(document))
        assert response.status_code == 302 and response["Location"] == "/agents/connexion/"
    assert viewed() == []


def test_documents_are_deleted_once_the_retention_after_the_decision_has_passed(lyon, checker, media, settings):
    settings.MONCOMPTE_RETENTION_IDENTITY_DOCUMENT_DAYS = 60
    decided_at = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(decided_at - datetime.timedelta(days=1), tick=False):
        refused = signup(first_names="Refusée")
        kept = signup(first_names="Attente")
        refused_document = document_for(refused.identity_check)
        waiting_document = document_for(kept.identity_check)
    agents = console(checker)
    with time_machine.travel(decided_at, tick=False):
        path = f"{QUEUE}{refused.identity_check.pk}/"
        assert agents.post(path, {"decision": "reject", "refus-reason": "expired"}).status_code == 302
    stored = Path(media) / refused_document.file.name

    with time_machine.travel(decided_at + datetime.timedelta(days=59), tick=False):
        assert purge_identity_documents(now=timezone.now()) == 0
    assert stored.exists() and IdentityDocument.objects.filter(pk=refused_document.pk).exists()

    with time_machine.travel(decided_at + datetime.timedelta(days=61), tick=False):
        assert purge_identity_documents(now=timezone.now()) == 1
        assert purge_identity_documents(now=timezone.now()) == 0  # idempotent
        # The checker's page says so, and the old address answers "not found".
        assert "ils ont été supprimés après la décision" in agents.get(path).content.decode()
        assert agents.get(url(refused_document)).status_code == 404
    assert not stored.exists() and not IdentityDocument.objects.filter(pk=refused_document.pk).exists()
    # The pending check's document, as old, stays.
    assert (Path(media) / waiting_document.file.name).exists()
    assert IdentityDocument.objects.filter(pk=waiting_document.pk).exists()
