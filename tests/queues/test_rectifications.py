"""The rectification requests' queue (issue 12): answered with or without a correction, or
refused; the person told and shown the answer; the Caf's scope; the permission; the journal."""

import datetime

import pytest
from django.utils.html import escape

from moncompte.access.agents import AgentRole
from moncompte.audit.models import JournalEntry
from moncompte.core.errors import NotAllowed
from moncompte.identity.models import Person, RectificationField, RectificationRequest, RectificationState
from moncompte.identity.own_data import rectification_request
from moncompte.identity.rectifications import (
    RectificationDecisionError,
    rectification_answer,
    rectification_reject,
    rectifications_queue,
)
from tests.factories import AccountFactory, PersonFactory, make_household
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

LIST = "/agents/rectifications/"
OWN_PAGE = "/mon-compte/mes-donnees/"


def detail(request) -> str:
    return f"/agents/rectifications/{request.pk}/"


@pytest.fixture
def reported(family):
    """The responsible person reported an error in their birth name."""
    return rectification_request(
        actor=web_actor(family.responsible),
        field=RectificationField.BIRTH_NAME,
        message="Mon nom de naissance s'écrit avec un accent.",
    )


@pytest.fixture
def checker(family):
    return make_agent(family.caf, CHECKER)


def _form(person, **changes) -> dict:
    """The decision form as the page opens it (the person's data as held), with ``changes``."""
    data = {
        "decision": "answer",
        "answer": "Nous avons corrigé votre nom de naissance.",
        "first_names": person.first_names,
        "birth_name": person.birth_name,
        "usage_name": person.usage_name,
        "birth_day": f"{person.birth_date.day:02d}",
        "birth_month": f"{person.birth_date.month:02d}",
        "birth_year": str(person.birth_date.year),
        "sex": person.sex,
        "birth_country_code": person.birth_country_code,
        "birth_place_code": person.birth_place_code,
    }
    data.update(changes)
    return data


def test_an_answer_with_a_correction_changes_the_data_and_the_person_is_told(family, reported, checker):
    person = family.responsible.person
    client = agent_client(checker)
    page = client.get(detail(reported))
    assert page.status_code == 200
    body = page.content.decode()
    assert escape("Mon nom de naissance s'écrit avec un accent.") in body
    assert person.birth_name in body and family.dossier.numero in body
    assert person.raw_identifier not in body  # the identifier is masked

    response = client.post(detail(reported), _form(person, apply_correction="1", birth_name="Lefèvre"))
    assert response.status_code == 302 and response["Location"] == LIST

    person.refresh_from_db()
    reported.refresh_from_db()
    assert person.birth_name == "LEFÈVRE"  # stored in the one written form of names
    assert reported.state == RectificationState.PROCESSED
    assert reported.processed_by == checker and reported.processed_at is not None
    assert reported.answer == "Nous avons corrigé votre nom de naissance."

    [message] = messages_to(person, "rectification_processed")
    assert "Votre demande de rectification a été traitée" in message.subject
    assert "Vos informations ont été corrigées." in message.get_body()
    entry = JournalEntry.objects.get(action="rectification.answered")
    assert entry.actor_agent == checker and entry.subject_person == person
    # The names of the fields changed, never their values.
    assert entry.detail == {"request": reported.pk, "field": "birth_name", "changed": ["birth_name"], "notified": 1}
    assert "LEF" not in str(entry.detail)
    assert JournalEntry.objects.filter(action="rectification.viewed", actor_agent=checker).count() == 1

    own = person_client(family.responsible).get(OWN_PAGE).content.decode()
    assert "Nous avons corrigé votre nom de naissance." in own and "Traitée" in own


def test_an_answer_without_the_box_ticked_changes_nothing_but_the_request(family, reported, checker):
    person = family.responsible.person
    response = agent_client(checker).post(detail(reported), _form(person, birth_name="Autre"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.birth_name != "AUTRE"
    assert RectificationRequest.objects.get().state == RectificationState.PROCESSED
    assert JournalEntry.objects.get(action="rectification.answered").detail["changed"] == []
    [message] = messages_to(person, "rectification_processed")
    assert "Vos informations ont été corrigées." not in message.get_body()


def test_a_refusal_keeps_the_data_and_tells_the_person_why(family, reported, checker):
    person = family.responsible.person
    before = person.birth_name
    response = agent_client(checker).post(
        detail(reported),
        {"decision": "reject", "answer": "Envoyez-nous un acte de naissance : votre nom y figure sans accent."},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    reported.refresh_from_db()
    assert person.birth_name == before
    assert reported.state == RectificationState.REJECTED and reported.processed_by == checker
    [message] = messages_to(person, "rectification_processed")
    assert "n'a pas pu être acceptée" in message.get_body()
    entry = JournalEntry.objects.get(action="rectification.rejected")
    assert entry.actor_agent == checker and entry.subject_person == person and entry.detail["changed"] == []
    own = person_client(family.responsible).get(OWN_PAGE).content.decode()
    assert "Envoyez-nous un acte de naissance" in own and "Refusée" in own


def test_a_decided_request_cannot_be_decided_again(family, reported, checker):
    actor = actor_of(checker)
    rectification_reject(actor=actor, request_id=reported.pk, answer="Non.")
    with pytest.raises(RectificationDecisionError) as refused:
        rectification_answer(actor=actor, request_id=reported.pk, answer="Oui.", correct={"birth_name": "X"})
    assert refused.value.code == "already_decided"
    assert RectificationRequest.objects.get().state == RectificationState.REJECTED
    assert len(messages_to(family.responsible.person, "rectification_processed")) == 1
    # The page shows the decision, without the form.
    body = agent_client(checker).get(detail(reported)).content.decode()
    assert "Refusée" in body and "Enregistrer la décision" not in body


def test_an_empty_answer_is_refused_in_french(family, reported, checker):
    response = agent_client(checker).post(detail(reported), _form(family.responsible.person, answer="  "))
    assert response.status_code == 400
    assert escape("Écrivez la réponse qui sera montrée à la personne.") in response.content.decode()
    assert RectificationRequest.objects.get().state == RectificationState.TO_PROCESS
    assert not messages_to(family.responsible.person, "rectification_processed")


def test_a_correction_contradicting_the_nir_is_refused(family, reported, checker):
    person = family.responsible.person
    other_sex = "M" if person.sex == "F" else "F"
    response = agent_client(checker).post(detail(reported), _form(person, apply_correction="1", sex=other_sex))
    assert response.status_code == 400
    assert "contredit le numéro de sécurité sociale" in response.content.decode()
    assert Person.objects.get(pk=person.pk).sex == person.sex
    assert RectificationRequest.objects.get().state == RectificationState.TO_PROCESS
    assert not JournalEntry.objects.filter(action__startswith="rectification.a").exists()


def test_a_corrected_birth_date_is_checked(family, reported, checker):
    person = family.responsible.person
    future = datetime.date.today() + datetime.timedelta(days=400)
    response = agent_client(checker).post(
        detail(reported), _form(person, apply_correction="1", birth_year=str(future.year))
    )
    assert response.status_code == 400
    assert "La date de naissance ne peut pas être dans le futur." in response.content.decode()
    assert Person.objects.get(pk=person.pk).birth_date == person.birth_date


def test_only_the_whitelisted_fields_are_corrected(family, reported, checker):
    with pytest.raises(RectificationDecisionError) as refused:
        rectification_answer(
            actor=actor_of(checker), request_id=reported.pk, answer="Corrigé.", correct={"identifier_digest": "x"}
        )
    assert refused.value.code == "not_correctable"
    assert RectificationRequest.objects.get().state == RectificationState.TO_PROCESS


def test_another_cafs_request_is_not_found_and_not_listed(family, reported, other_caf):
    outsider = make_agent(other_caf, CHECKER)
    client = agent_client(outsider)
    assert client.get(detail(reported)).status_code == 404
    assert client.post(detail(reported), {"decision": "reject", "answer": "Non."}).status_code == 404
    assert family.responsible.person.display_name not in client.get(LIST).content.decode()
    with pytest.raises(NotAllowed):
        rectification_reject(actor=actor_of(outsider), request_id=reported.pk, answer="Non.")
    assert RectificationRequest.objects.get().state == RectificationState.TO_PROCESS
    # The agent of the file's Caf lists it.
    own = agent_client(make_agent(family.caf, CHECKER)).get(LIST).content.decode()
    assert family.responsible.person.display_name in own


def test_a_former_member_stays_with_the_cafs_queue(family, other_caf):
    """A membership ended (a former spouse) still routes their requests to that file's Caf."""
    family.spouse.member.ended_on = datetime.date.today()
    family.spouse.member.save()
    request = rectification_request(actor=web_actor(family.spouse), field="sex", message="Je suis un homme.")
    assert list(rectifications_queue(actor=actor_of(make_agent(family.caf, CHECKER)))) == [request]
    assert not rectifications_queue(actor=actor_of(make_agent(other_caf, CHECKER))).exists()


def test_a_person_of_no_file_goes_to_every_cafs_queue(family, other_caf):
    loner = PersonFactory()
    account = AccountFactory(person=loner)
    from moncompte.core.actors import Actor, Channel

    request = rectification_request(
        actor=Actor(channel=Channel.WEB, account=account, session_key="k"), field="first_names", message="Prénom."
    )
    for caf in (family.caf, other_caf):
        assert list(rectifications_queue(actor=actor_of(make_agent(caf, CHECKER)))) == [request]


def test_a_counter_agent_cannot_process_rectifications(family, reported):
    counter = make_agent(family.caf, COUNTER)
    client = agent_client(counter)
    assert client.get(LIST).status_code == 404
    assert client.get(detail(reported)).status_code == 404
    assert client.post(detail(reported), {"decision": "reject", "answer": "Non."}).status_code == 404
    with pytest.raises(NotAllowed):
        rectification_reject(actor=actor_of(counter), request_id=reported.pk, answer="Non.")
    assert RectificationRequest.objects.get().state == RectificationState.TO_PROCESS


def test_the_list_shows_the_waiting_requests_then_the_decided_ones_by_state(family, reported, checker):
    other = make_household(caf=family.caf)
    second = rectification_request(actor=web_actor(other.child), field="usage_name", message="Nom d'usage.")
    client = agent_client(checker)
    body = client.get(LIST).content.decode()
    assert body.index(family.responsible.person.display_name) < body.index(other.child.person.display_name)
    rectification_reject(actor=actor_of(checker), request_id=second.pk, answer="Non.")
    waiting = client.get(LIST).content.decode()
    assert other.child.person.display_name not in waiting
    rejected = client.get(LIST, {"state": "rejected"}).content.decode()
    assert other.child.person.display_name in rejected
    assert family.responsible.person.display_name not in rejected


def test_the_console_needs_the_second_factor(family, reported, checker):
    from django.test import Client

    from tests.factories import sign_in_agent

    client = Client()
    sign_in_agent(client, checker, second_factor=False)
    response = client.get(detail(reported))
    assert response.status_code == 302 and response["Location"].startswith("/agents/connexion/")
    assert not JournalEntry.objects.filter(action="rectification.viewed").exists()


def test_an_incident_officer_role_does_not_open_the_queue(family, reported):
    agent = make_agent(family.caf, [AgentRole.INCIDENT_OFFICER.value])
    assert agent_client(agent).get(LIST).status_code == 404
