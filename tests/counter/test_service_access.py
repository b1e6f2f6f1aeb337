"""A service belongs to the agent session that opened it, for MONCOMPTE_COUNTER_SERVICE_MINUTES,
until "Terminer": another agent, another session, an expired or a closed service answer 404."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from moncompte.access.agents import AgentRole
from moncompte.audit.actions import JournalAction
from moncompte.counter.models import CounterService
from tests.counter.helpers import entries, identify_with_document, open_service, page, text
from tests.factories import AgentFactory, CafFactory, sign_in_agent


def _urls(service) -> list[tuple[str, str]]:
    return [
        ("get", reverse("backoffice:counter_service", args=[service.pk])),
        ("post", reverse("backoffice:counter_identify", args=[service.pk])),
        ("post", reverse("backoffice:counter_close", args=[service.pk])),
    ]


def _all_not_found(client, service, person):
    for method, url in _urls(service):
        data = {"person": person.pk, "proof": "identity_document", "document_kind": "passport"}
        response = client.get(url) if method == "get" else client.post(url, data)
        assert response.status_code == 404, (method, url)
    service.refresh_from_db()
    assert service.identified_at is None and service.closed_at is None


@pytest.mark.parametrize("caf", ["same", "other"])
def test_another_agents_service_is_not_found(agent_client, family, caf):
    service = open_service(agent_client, family.dossier)
    other = AgentFactory(caf=family.caf if caf == "same" else CafFactory(), roles=[AgentRole.COUNTER.value])
    client = Client()
    sign_in_agent(client, other)
    _all_not_found(client, service, family.responsible.person)


def test_the_same_agent_in_another_session_does_not_reach_it(agent_client, agent, family):
    service = open_service(agent_client, family.dossier)
    client = Client()
    sign_in_agent(client, agent)
    _all_not_found(client, service, family.responsible.person)


def test_an_expired_service_is_not_found(agent_client, family, settings):
    service = open_service(agent_client, family.dossier)
    limit = datetime.timedelta(minutes=settings.MONCOMPTE_COUNTER_SERVICE_MINUTES)
    CounterService.objects.filter(pk=service.pk).update(
        created_at=timezone.now() - limit + datetime.timedelta(minutes=1)
    )
    assert page(agent_client, service).status_code == 200
    CounterService.objects.filter(pk=service.pk).update(
        created_at=timezone.now() - limit - datetime.timedelta(minutes=1)
    )
    _all_not_found(agent_client, service, family.responsible.person)


def test_terminer_closes_the_service_for_good(agent_client, agent, family):
    service = open_service(agent_client, family.dossier)
    identify_with_document(agent_client, service, family.responsible.person)
    html = text(page(agent_client, service))
    assert "Terminer" in html
    response = agent_client.post(reverse("backoffice:counter_close", args=[service.pk]))
    assert response.status_code == 302
    assert response.url == reverse("backoffice:counter_search")
    assert "L'accueil est terminé." in text(agent_client.get(response.url))
    assert page(agent_client, service).status_code == 404
    assert agent_client.post(reverse("backoffice:counter_close", args=[service.pk])).status_code == 404
    (closed,) = entries(JournalAction.COUNTER_CLOSED)
    assert (closed.actor_agent_id, closed.subject_person_id, closed.dossier_id) == (
        agent.pk,
        family.responsible.person.pk,
        family.dossier.pk,
    )


def test_an_agent_who_lost_serve_person_no_longer_reaches_the_service(agent_client, agent, family):
    service = open_service(agent_client, family.dossier)
    agent.roles = [AgentRole.IDENTITY_CHECKER.value]
    agent.save(update_fields=["roles"])
    assert page(agent_client, service).status_code == 404


def test_an_unknown_service_is_not_found(agent_client):
    assert agent_client.get(reverse("backoffice:counter_service", args=[999999])).status_code == 404


def test_without_the_second_factor_the_console_is_not_reached(agent, family):
    client = Client()
    sign_in_agent(client, agent, second_factor=False)
    response = client.get(reverse("backoffice:counter_search"))
    assert response.status_code == 302
    assert response.url == reverse("backoffice:signin")
    assert CounterService.objects.count() == 0
