"""Finding a file at the counter or on the phone: exact search only, by numéro allocataire or NIR,
within the files the agent may serve; another Caf's file answers as no file at all; every search
journaled, never with the number typed."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from moncompte.access.agents import AgentRole
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.counter.models import CounterService
from tests.counter.helpers import all_details_text, entries, open_service, search, text, without_csrf
from tests.factories import AgentFactory, CafFactory, MemberFactory, make_household, sign_in_agent

NOT_FOUND = "Aucun dossier ne correspond à cette recherche."


def _error_page(response, typed: str) -> str:
    """The answer with what differs by nature between two searches removed (the CSRF token,
    the value typed, shown again in its field)."""
    return without_csrf(text(response)).replace(typed, "TYPED")


def test_found_by_numero_opens_a_service_and_journals_it(agent_client, agent, family):
    response = search(agent_client, channel="phone", numero=family.dossier.numero)
    assert response.status_code == 302
    service = CounterService.objects.get()
    assert response.url == reverse("backoffice:counter_service", args=[service.pk])
    assert (service.agent, service.dossier, service.channel, service.found_by) == (
        agent,
        family.dossier,
        "phone",
        "numero",
    )
    assert service.session == agent_client.agent_session
    (entry,) = entries(JournalAction.COUNTER_SEARCH)
    assert entry.actor_agent_id == agent.pk
    assert entry.dossier_id == family.dossier.pk
    assert entry.channel == "phone"
    assert entry.detail == {"found_by": "numero", "service": service.pk}
    assert family.dossier.numero not in all_details_text()


def test_found_by_nir_in_any_shape(agent_client, agent, family):
    typed = family.spouse.person.identifier_value
    spaced = " ".join([typed[:1], typed[1:3], typed[3:5], typed[5:7], typed[7:10], typed[10:13]])
    response = search(agent_client, identifier=spaced.lower())
    assert response.status_code == 302
    service = CounterService.objects.get()
    assert (service.dossier, service.found_by, service.channel) == (family.dossier, "nir", "counter")
    (entry,) = entries(JournalAction.COUNTER_SEARCH)
    assert entry.subject_person_id == family.spouse.person.pk
    assert entry.actor_agent_id == agent.pk
    assert entry.detail["found_by"] == "nir"


def test_unknown_numero_and_unknown_nir_are_journaled(agent_client, agent, family):
    stranger = make_household(caf=family.caf)
    numero = stranger.dossier.numero
    stranger.dossier.delete()
    response = search(agent_client, numero=numero)
    assert response.status_code == 400
    assert NOT_FOUND in text(response)
    response = search(agent_client, identifier=stranger.responsible.person.raw_identifier)
    assert NOT_FOUND in text(response)
    rows = entries(JournalAction.COUNTER_SEARCH_NOT_FOUND)
    assert [r.detail["found_by"] for r in rows] == ["numero", "nir"]
    assert {(r.actor_agent_id, r.dossier_id, r.subject_person_id) for r in rows} == {(agent.pk, None, None)}
    assert CounterService.objects.count() == 0


def test_a_file_of_another_caf_answers_as_no_file_by_numero(agent_client, family):
    other = make_household(caf=CafFactory())
    unknown = f"{(int(other.dossier.numero) + 5000) % 10_000_000:07d}"
    assert not CounterService.objects.exists()
    response_other = search(agent_client, numero=other.dossier.numero)
    response_unknown = search(agent_client, numero=unknown)
    assert response_other.status_code == response_unknown.status_code == 400
    assert NOT_FOUND in text(response_other)
    assert _error_page(response_other, other.dossier.numero) == _error_page(response_unknown, unknown)
    assert CounterService.objects.count() == 0
    assert [r.detail for r in entries(JournalAction.COUNTER_SEARCH_NOT_FOUND)] == [
        {"found_by": "numero", "reason": "none"}
    ] * 2


def test_a_file_of_another_caf_answers_as_no_file_by_nir(agent_client, family):
    other = make_household(caf=CafFactory())
    gone = make_household(caf=CafFactory())
    gone_identifier = gone.responsible.person.raw_identifier
    gone.dossier.delete()  # the person exists, on no file at all
    response_other = search(agent_client, identifier=other.responsible.person.raw_identifier)
    response_gone = search(agent_client, identifier=gone_identifier)
    assert NOT_FOUND in text(response_other)
    assert _error_page(response_other, other.responsible.person.raw_identifier) == _error_page(
        response_gone, gone_identifier
    )
    assert CounterService.objects.count() == 0


def test_a_caf_code_of_another_caf_finds_nothing_for_a_local_agent(agent_client, family):
    other = make_household(caf=CafFactory())
    response = search(agent_client, numero=other.dossier.numero, caf_code=other.caf.code)
    assert NOT_FOUND in text(response)
    # Their own Caf's code is the same as none.
    assert search(agent_client, numero=family.dossier.numero, caf_code=family.caf.code).status_code == 302


def test_a_nir_on_several_files_lets_the_agent_choose_among_the_agents_files(agent_client, family):
    person = family.child.person
    second = make_household(caf=family.caf)
    MemberFactory(dossier=second.dossier, person=person, role="autre")
    elsewhere = make_household(caf=CafFactory())
    MemberFactory(dossier=elsewhere.dossier, person=person, role="autre")

    response = search(agent_client, identifier=person.raw_identifier)
    assert response.status_code == 200
    page = text(response)
    assert "Cette personne est rattachée à plusieurs dossiers" in page
    assert family.dossier.numero in page and second.dossier.numero in page
    assert elsewhere.dossier.numero not in page
    assert CounterService.objects.count() == 0
    (several,) = entries(JournalAction.COUNTER_SEARCH_SEVERAL)
    assert several.detail == {"found_by": "nir", "files": 2}

    # The other Caf's file, even by its id, is not found.
    response = search(agent_client, identifier=person.raw_identifier, dossier=elsewhere.dossier.pk)
    assert NOT_FOUND in text(response)
    response = search(agent_client, identifier=person.raw_identifier, dossier=second.dossier.pk)
    assert response.status_code == 302
    assert CounterService.objects.get().dossier == second.dossier


def test_a_former_members_file_is_found_by_their_nir(agent_client, family):
    former = MemberFactory(dossier=family.dossier, spouse=True, ended=True)
    assert search(agent_client, identifier=former.person.raw_identifier).status_code == 302
    assert CounterService.objects.get().dossier == family.dossier


def test_no_nir_in_any_url_or_journal_detail(agent_client, family):
    person = family.spouse.person
    response = search(agent_client, identifier=person.raw_identifier)
    service = CounterService.objects.get()
    urls = [response.url]
    response = agent_client.post(
        reverse("backoffice:counter_identify", args=[service.pk]),
        {"person": person.pk, "proof": "identity_document", "document_kind": "passport"},
    )
    urls.append(response.url)
    agent_client.get(response.url)
    response = agent_client.post(reverse("backoffice:counter_close", args=[service.pk]))
    urls.append(response.url)
    value = person.identifier_value
    for url in urls:
        assert value[:7] not in url and person.raw_identifier not in url
    assert JournalEntry.objects.filter(actor_agent__isnull=False).count() >= 4
    details = all_details_text()
    assert value[:13] not in details and value[:7] not in re.sub(r"\s", "", details)
    assert person.raw_identifier not in details
    assert family.dossier.numero not in details


def test_the_search_page_is_post_only(agent_client, family):
    response = agent_client.get(reverse("backoffice:counter_search"), {"numero": family.dossier.numero})
    assert response.status_code == 200
    assert CounterService.objects.count() == 0
    assert entries(JournalAction.COUNTER_SEARCH) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"numero": "12345"}, "Le numéro allocataire compte 7 chiffres."),
        ({}, "Saisissez soit un numéro allocataire, soit un numéro de sécurité sociale."),
        ({"numero": "1234567", "identifier": "1 85 05 75 115 042"}, "Saisissez soit un numéro allocataire"),
        ({"identifier": "123"}, "13 chiffres"),
    ],
)
def test_the_search_says_what_is_wrong(agent_client, data, message):
    response = search(agent_client, **data)
    assert response.status_code == 400
    assert message in text(response)


def test_the_channel_is_required(agent_client, family):
    response = search(agent_client, channel="", numero=family.dossier.numero)
    assert response.status_code == 400
    assert "Choisissez « À l'accueil » ou « Au téléphone »." in text(response)
    assert CounterService.objects.count() == 0


def test_an_agent_without_serve_person_gets_not_found(family):
    for role in (AgentRole.INCIDENT_OFFICER, AgentRole.IDENTITY_CHECKER, AgentRole.ADMINISTRATOR):
        client = Client()
        sign_in_agent(client, AgentFactory(caf=family.caf, roles=[role.value]))
        assert client.get(reverse("backoffice:counter_search")).status_code == 404
        assert search(client, numero=family.dossier.numero).status_code == 404
    assert CounterService.objects.count() == 0
    assert JournalEntry.objects.filter(action__startswith="counter.").count() == 0


def test_an_agent_opens_only_services_in_their_own_session(agent_client, agent, family):
    service = open_service(agent_client, family.dossier)
    assert service.session_id == agent_client.agent_session.pk
