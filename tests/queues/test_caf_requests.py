"""The Caf's requests in the console (issue 12): created on a file found by its numéro, followed
(states, late ones, answers, files), closed; the people told and shown it; the Caf's scope, the
permission, the journal."""

import datetime
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.html import escape

from moncompte.audit.models import JournalEntry
from moncompte.caf_requests.agents import caf_request_close
from moncompte.caf_requests.models import CafRequest, CafRequestAttachment, ScanState
from moncompte.caf_requests.services import (
    CafRequestError,
    CafRequestNotAllowed,
    caf_request_answer,
    caf_request_create,
)
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import NotAllowed
from tests.factories import CafRequestAnswerFactory, CafRequestFactory, make_household
from tests.queues.conftest import (
    CHECKER,
    COUNTER,
    actor_of,
    agent_client,
    make_agent,
    messages_to,
    person_client,
    web_actor,
)

pytestmark = pytest.mark.django_db

LIST = "/agents/demandes-caf/"
CREATE = "/agents/demandes-caf/nouvelle/"
PERSON_LIST = "/mon-compte/demandes-de-la-caf/"
PDF = b"%PDF-1.4\n% une quittance\n"


def page(request) -> str:
    return f"/agents/demandes-caf/{request.pk}/"


def attachment_url(request, attachment) -> str:
    return f"/agents/demandes-caf/{request.pk}/pieces/{attachment.pk}/"


@pytest.fixture
def agent(family):
    return make_agent(family.caf, COUNTER)


def _due(days=20) -> dict:
    due = timezone.localdate() + datetime.timedelta(days=days)
    return {"due_day": str(due.day), "due_month": str(due.month), "due_year": str(due.year)}


def _attach(request, author) -> CafRequestAttachment:
    answer = CafRequestAnswerFactory(request=request, author=author, text="Voici ma quittance.")
    attachment = CafRequestAttachment(
        answer=answer,
        content_type="application/pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
        original_name="quittance.pdf",
        scan_state=ScanState.CLEAN,
    )
    attachment.file.save("test.pdf", ContentFile(PDF), save=True)
    CafRequest.objects.filter(pk=request.pk).update(state=CafRequest.State.ANSWERED, answered_at=timezone.now())
    return attachment


def test_an_agent_creates_a_request_to_the_household(family, agent):
    client = agent_client(agent)
    assert client.get(CREATE).status_code == 200
    found = client.post(CREATE, {"step": "find", "numero": family.dossier.numero})
    assert found.status_code == 200
    body = found.content.decode()
    assert family.responsible.person.display_name in body and family.child.person.display_name in body
    search = JournalEntry.objects.get(action="caf_request.file_searched")
    assert search.actor_agent == agent and search.dossier == family.dossier and search.detail == {"found": True}

    response = client.post(
        CREATE,
        {
            "step": "create",
            "dossier": family.dossier.pk,
            "addressed_to": "foyer",
            "kind": "document",
            "title": "Justificatif de domicile",
            "body": "Envoyez-nous une quittance de loyer de moins de 3 mois.",
            **_due(),
        },
    )
    created = CafRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == page(created)
    assert created.created_by == agent and created.created_by_label == family.caf.name
    assert created.addressed_to is None and created.dossier == family.dossier
    # The household's request: told to whoever may answer for the household (R; S has no delegation).
    assert len(messages_to(family.responsible.person, "caf_request_waiting")) == 1
    assert not messages_to(family.spouse.person, "caf_request_waiting")
    assert not messages_to(family.child.person, "caf_request_waiting")
    entry = JournalEntry.objects.get(action="caf_request.created")
    assert entry.actor_agent == agent and entry.dossier == family.dossier
    listed = person_client(family.responsible).get(PERSON_LIST).content.decode()
    assert "Justificatif de domicile" in listed and family.caf.name in listed


def test_a_request_to_one_member_tells_them_and_the_responsable(family, agent):
    client = agent_client(agent)
    client.post(
        CREATE,
        {
            "step": "create",
            "dossier": family.dossier.pk,
            "addressed_to": str(family.child.person.pk),
            "kind": "information",
            "title": "Votre situation scolaire",
            "body": "Êtes-vous encore scolarisé(e) ?",
            **_due(),
        },
    )
    created = CafRequest.objects.get()
    assert created.addressed_to == family.child.person
    assert len(messages_to(family.child.person, "caf_request_waiting")) == 1
    assert len(messages_to(family.responsible.person, "caf_request_waiting")) == 1
    assert not messages_to(family.spouse.person, "caf_request_waiting")


def test_wrong_values_are_refused_in_french_and_nothing_is_created(family, agent):
    response = agent_client(agent).post(
        CREATE,
        {
            "step": "create",
            "dossier": family.dossier.pk,
            "addressed_to": "foyer",
            "kind": "document",
            "title": "Justificatif",
            "body": "Texte.",
            **_due(days=-2),
        },
    )
    assert response.status_code == 400
    assert "La date limite de réponse est déjà passée." in response.content.decode()
    assert not CafRequest.objects.exists()


def test_a_file_of_another_caf_is_not_found(family, other_caf):
    outsider = make_agent(other_caf, COUNTER)
    client = agent_client(outsider)
    response = client.post(CREATE, {"step": "find", "numero": family.dossier.numero})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Aucun dossier de votre Caf ne porte ce numéro allocataire." in body
    assert family.responsible.person.display_name not in body
    assert JournalEntry.objects.get(action="caf_request.file_searched").detail == {"found": False}
    # Its id posted straight to the second step: not found either, nothing created.
    tampered = client.post(
        CREATE,
        {
            "step": "create",
            "dossier": family.dossier.pk,
            "addressed_to": "foyer",
            "kind": "document",
            "title": "Justificatif",
            "body": "Texte.",
            **_due(),
        },
    )
    assert tampered.status_code == 404
    assert not CafRequest.objects.exists()


def test_the_list_filters_by_state_and_shows_the_late_ones(family, agent, other_caf):
    waiting = CafRequestFactory(dossier=family.dossier, title="Demande en attente")
    late = CafRequestFactory(dossier=family.dossier, title="Demande en retard", late=True)
    answered = CafRequestFactory(dossier=family.dossier, title="Demande répondue", answered=True)
    closed = CafRequestFactory(dossier=family.dossier, title="Demande close", closed=True)
    elsewhere = CafRequestFactory(dossier=make_household(caf=other_caf).dossier, title="Autre Caf")
    client = agent_client(agent)
    body = client.get(LIST).content.decode()
    for shown in (waiting, late, answered, closed):
        assert escape_title(shown) in body
    assert elsewhere.title not in body
    assert body.index(late.title) < body.index(waiting.title) < body.index(escape_title(answered))
    assert body.index(escape_title(answered)) < body.index(closed.title)
    assert "En retard" in body
    only_late = client.get(LIST, {"state": "late"}).content.decode()
    assert late.title in only_late and waiting.title not in only_late
    only_closed = client.get(LIST, {"state": "closed"}).content.decode()
    assert closed.title in only_closed and late.title not in only_closed


def escape_title(request) -> str:
    return escape(request.title)


def test_the_agent_follows_the_answers_and_downloads_their_files(family, agent):
    request = CafRequestFactory(dossier=family.dossier)
    attachment = _attach(request, family.responsible.person)
    client = agent_client(agent)
    body = client.get(page(request)).content.decode()
    assert "Voici ma quittance." in body and "quittance.pdf" in body
    assert family.responsible.person.display_name in body
    assert JournalEntry.objects.get(action="caf_request.agent_viewed").actor_agent == agent

    response = client.get(attachment_url(request, attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert 'attachment; filename="quittance.pdf"' in response["Content-Disposition"]
    entry = JournalEntry.objects.get(action="caf_request.agent_downloaded")
    assert entry.actor_agent == agent and entry.detail == {"request": request.pk, "attachment": attachment.pk}

    # A file of another request through this request's URL: not found.
    other = CafRequestFactory(dossier=family.dossier)
    assert client.get(attachment_url(other, attachment)).status_code == 404


def test_closing_a_request_tells_the_people_and_stops_the_answers(family, agent):
    request = CafRequestFactory(dossier=family.dossier, addressed_to=family.child.person, title="Certificat")
    client = agent_client(agent)
    response = client.post(page(request))
    assert response.status_code == 302 and response["Location"] == page(request)
    request.refresh_from_db()
    assert request.state == CafRequest.State.CLOSED
    assert request.closed_by == agent and request.closed_at is not None
    [told] = messages_to(family.child.person, "caf_request_closed")
    assert "« Certificat » est close" in told.get_body()
    assert len(messages_to(family.responsible.person, "caf_request_closed")) == 1
    assert not messages_to(family.spouse.person, "caf_request_closed")
    entry = JournalEntry.objects.get(action="caf_request.closed")
    assert entry.actor_agent == agent and entry.subject_person == family.child.person
    assert entry.detail["state_before"] == "waiting" and entry.detail["notified"] == 2

    # The person's list shows it closed, and an answer is refused.
    listed = person_client(family.child).get(PERSON_LIST).content.decode()
    assert "Certificat" in listed and "Close" in listed
    with pytest.raises(CafRequestError) as refused:
        caf_request_answer(actor=web_actor(family.child), request=request, text="Trop tard ?", files=[])
    assert refused.value.code == "closed"

    # Closing again: refused, said on the page.
    again = client.post(page(request), follow=True)
    assert "Cette demande est déjà close." in again.content.decode()
    assert JournalEntry.objects.filter(action="caf_request.closed").count() == 1


def test_another_cafs_request_is_not_found(family, other_caf):
    request = CafRequestFactory(dossier=family.dossier)
    attachment = _attach(request, family.responsible.person)
    outsider = make_agent(other_caf, COUNTER)
    client = agent_client(outsider)
    assert client.get(page(request)).status_code == 404
    assert client.post(page(request)).status_code == 404
    assert client.get(attachment_url(request, attachment)).status_code == 404
    with pytest.raises(NotAllowed):
        caf_request_close(actor=actor_of(outsider), request_id=request.pk)
    request.refresh_from_db()
    assert request.state == CafRequest.State.ANSWERED
    assert not JournalEntry.objects.filter(action__startswith="caf_request.agent_").exists()


def test_an_identity_checker_cannot_close_a_request(family):
    request = CafRequestFactory(dossier=family.dossier)
    checker = make_agent(family.caf, CHECKER)
    client = agent_client(checker)
    assert client.get(LIST).status_code == 404
    assert client.post(page(request)).status_code == 404
    assert client.get(CREATE).status_code == 404
    with pytest.raises(NotAllowed):
        caf_request_close(actor=actor_of(checker), request_id=request.pk)
    request.refresh_from_db()
    assert request.state == CafRequest.State.WAITING
    assert not messages_to(family.responsible.person, "caf_request_closed")


def test_the_creation_service_itself_refuses_an_agent_of_another_caf(family, other_caf):
    values = {"addressed_to": None, "kind": "document", "title": "Justificatif", "body": "Texte."}
    due_on = timezone.localdate() + datetime.timedelta(days=10)
    for actor in (
        actor_of(make_agent(other_caf, COUNTER)),
        actor_of(make_agent(family.caf, CHECKER)),
        Actor(channel=Channel.COUNTER),  # no agent at all
    ):
        with pytest.raises(CafRequestNotAllowed):
            caf_request_create(actor=actor, dossier=family.dossier, due_on=due_on, **values)
    assert not CafRequest.objects.exists()
    made = caf_request_create(
        actor=actor_of(make_agent(family.caf, COUNTER)), dossier=family.dossier, due_on=due_on, **values
    )
    assert made.created_by is not None
