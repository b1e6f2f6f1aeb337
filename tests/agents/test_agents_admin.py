"""The administrators' pages (/agents/gestion/): the agents of their own Caf only, the roles they
may give, never themselves; every change journaled with the administrator as ``actor_agent``."""

import html
import re

import pytest
from django.test import Client

from moncompte.access.agents import AgentRole
from moncompte.agents.models import Agent, AgentRecoveryCode, AgentSession, AgentTOTPDevice
from moncompte.agents.services import AgentError, agent_create, agent_roles_change
from moncompte.agents.sessions import agent_actor
from moncompte.agents.totp import recovery_codes_new
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import NotAllowed
from tests.factories import AgentFactory, CafFactory, sign_in_agent

pytestmark = pytest.mark.django_db

COUNTER = AgentRole.COUNTER.value
ADMIN = AgentRole.ADMINISTRATOR.value
INCIDENT = AgentRole.INCIDENT_OFFICER.value


def page(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def caf():
    return CafFactory()


@pytest.fixture
def admin(caf):
    return AgentFactory(caf=caf, roles=[ADMIN])


@pytest.fixture
def admin_client(admin):
    client = Client()
    sign_in_agent(client, admin)
    return client


@pytest.fixture
def colleague(caf):
    return AgentFactory(caf=caf, roles=[COUNTER], last_name="Collègue")


@pytest.fixture
def stranger():
    """An agent of another Caf."""
    return AgentFactory(caf=CafFactory(), roles=[COUNTER], last_name="Ailleurs")


def test_the_list_shows_the_agents_of_the_administrators_caf_only(admin_client, admin, colleague, stranger):
    response = admin_client.get("/agents/gestion/")
    assert response.status_code == 200
    text = page(response)
    assert colleague.email in text
    assert admin.email in text
    assert stranger.email not in text
    assert "<caption>" in text


def test_an_agent_of_another_caf_answers_404_everywhere(admin_client, stranger):
    recovery_codes_new(stranger)
    for method, url, data in (
        ("get", f"/agents/gestion/{stranger.pk}/", {}),
        ("post", f"/agents/gestion/{stranger.pk}/roles/", {"roles": [ADMIN]}),
        ("post", f"/agents/gestion/{stranger.pk}/desactivation/", {}),
        ("post", f"/agents/gestion/{stranger.pk}/second-facteur/", {}),
        ("get", "/agents/gestion/999999/", {}),
    ):
        assert getattr(admin_client, method)(url, data).status_code == 404, url
    stranger.refresh_from_db()
    assert stranger.roles == [COUNTER]
    assert stranger.is_active
    assert AgentTOTPDevice.objects.filter(agent=stranger).exists()
    assert AgentRecoveryCode.objects.filter(agent=stranger).count() == 10


def test_an_agent_without_the_role_gets_404(colleague):
    client = Client()
    sign_in_agent(client, colleague)
    for url in ("/agents/gestion/", "/agents/gestion/nouvel-agent/", f"/agents/gestion/{colleague.pk}/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/agents/gestion/{colleague.pk}/desactivation/").status_code == 404
    colleague.refresh_from_db()
    assert colleague.is_active


def test_an_administrator_creates_an_agent_of_their_caf_and_sees_the_code_once(admin_client, admin, caf):
    form = admin_client.get("/agents/gestion/nouvel-agent/")
    assert form.status_code == 200
    # The national role is not even offered.
    assert f'value="{INCIDENT}"' not in page(form)
    assert f'value="{COUNTER}"' in page(form)
    response = admin_client.post(
        "/agents/gestion/nouvel-agent/",
        {"email": "Nouvel.Agent@caf.example.fr", "first_names": "Nadia", "last_name": "Nouvel", "roles": [COUNTER]},
    )
    assert response.status_code == 201
    code = re.search(r'<code class="moncompte-activation-code">([A-Z0-9-]+)</code>', page(response))[1]
    agent = Agent.objects.get(email="nouvel.agent@caf.example.fr")
    assert agent.caf == caf
    assert agent.created_by == admin
    assert agent.password == ""
    # Shown once: the agent's page does not show it again.
    assert code not in page(admin_client.get(f"/agents/gestion/{agent.pk}/"))
    entry = JournalEntry.objects.get(action=JournalAction.AGENT_CREATED)
    assert entry.actor_agent == admin
    assert entry.detail == {"agent": agent.pk, "caf": caf.code, "roles": [COUNTER]}
    # And the code activates the agent.
    activation = Client()
    assert activation.post("/agents/activation/", {"email": agent.email, "code": code}).status_code == 302


def test_an_administrator_cannot_grant_the_incident_officer_role(admin_client, admin, colleague, caf):
    response = admin_client.post(
        "/agents/gestion/nouvel-agent/",
        {"email": "x@caf.example.fr", "first_names": "X", "last_name": "Y", "roles": [COUNTER, INCIDENT]},
    )
    assert response.status_code == 400
    assert "Vous ne pouvez pas attribuer ce rôle." in page(response)
    assert not Agent.objects.filter(email="x@caf.example.fr").exists()
    response = admin_client.post(f"/agents/gestion/{colleague.pk}/roles/", {"roles": [INCIDENT]})
    assert response.status_code == 400
    colleague.refresh_from_db()
    assert colleague.roles == [COUNTER]
    # The services refuse it too, whatever the form offers.
    actor = agent_actor(AgentSession.objects.filter(agent=admin).get())
    with pytest.raises(AgentError, match="Vous ne pouvez pas attribuer ce rôle."):
        agent_create(actor=actor, caf=caf, email="y@caf.example.fr", first_names="Y", last_name="Z", roles=[INCIDENT])
    with pytest.raises(AgentError, match="Vous ne pouvez pas attribuer ce rôle."):
        agent_roles_change(actor=actor, agent=colleague, roles=[COUNTER, INCIDENT])


def test_an_administrator_creates_agents_of_their_own_caf_only(admin):
    actor = agent_actor(sign_in_agent(Client(), admin))
    with pytest.raises(NotAllowed):
        agent_create(
            actor=actor, caf=CafFactory(), email="z@caf.example.fr", first_names="Z", last_name="Z", roles=[COUNTER]
        )
    assert not Agent.objects.filter(email="z@caf.example.fr").exists()


def test_nobody_but_a_command_or_an_administrator_creates_agents(caf):
    visitor = Actor.visitor(channel=Channel.COUNTER, client_address="127.0.0.1")
    with pytest.raises(NotAllowed):
        agent_create(actor=visitor, caf=caf, email="v@caf.example.fr", first_names="V", last_name="V", roles=[COUNTER])
    agent, code = agent_create(
        actor=Actor.system(), caf=caf, email="v@caf.example.fr", first_names="V", last_name="V", roles=[INCIDENT]
    )
    assert agent.roles == [INCIDENT]


def test_a_duplicate_email_is_refused_in_french(admin_client, colleague):
    response = admin_client.post(
        "/agents/gestion/nouvel-agent/",
        {"email": colleague.email.upper(), "first_names": "A", "last_name": "B", "roles": [COUNTER]},
    )
    assert response.status_code == 400
    assert "Un agent a déjà cette adresse électronique." in page(response)


def test_an_administrator_cannot_manage_themselves(admin_client, admin):
    text = page(admin_client.get(f"/agents/gestion/{admin.pk}/"))
    assert "C'est votre propre compte" in text
    assert "Désactiver cet agent" not in text
    for url, data in (
        (f"/agents/gestion/{admin.pk}/roles/", {"roles": [COUNTER]}),
        (f"/agents/gestion/{admin.pk}/desactivation/", {}),
        (f"/agents/gestion/{admin.pk}/second-facteur/", {}),
    ):
        assert admin_client.post(url, data).status_code == 404, url
    admin.refresh_from_db()
    assert admin.roles == [ADMIN]
    assert admin.is_active


def test_a_national_agent_of_the_same_caf_cannot_be_managed(admin_client, caf):
    national = AgentFactory(caf=caf, roles=[INCIDENT])
    assert "équipe nationale" in page(admin_client.get(f"/agents/gestion/{national.pk}/"))
    assert admin_client.post(f"/agents/gestion/{national.pk}/desactivation/").status_code == 404
    national.refresh_from_db()
    assert national.is_active


def test_roles_change_is_journaled_and_takes_effect_at_the_next_page(admin_client, admin, colleague):
    colleague_client = Client()
    sign_in_agent(colleague_client, colleague)
    assert colleague_client.get("/agents/gestion/").status_code == 404
    response = admin_client.post(f"/agents/gestion/{colleague.pk}/roles/", {"roles": [COUNTER, ADMIN]})
    assert response.status_code == 302
    assert "Les rôles de" in page(admin_client.get(response["Location"]))
    colleague.refresh_from_db()
    assert colleague.roles == [COUNTER, ADMIN]
    assert colleague_client.get("/agents/gestion/").status_code == 200
    entry = JournalEntry.objects.get(action=JournalAction.AGENT_ROLES_CHANGED)
    assert entry.actor_agent == admin
    assert entry.detail == {"agent": colleague.pk, "before": [COUNTER], "after": [COUNTER, ADMIN]}


def test_deactivation_by_the_page(admin_client, admin, colleague):
    colleague_client = Client()
    sign_in_agent(colleague_client, colleague)
    response = admin_client.post(f"/agents/gestion/{colleague.pk}/desactivation/")
    assert response.status_code == 302
    assert "est désactivé(e) : ses sessions sont fermées." in page(admin_client.get(response["Location"]))
    colleague.refresh_from_db()
    assert not colleague.is_active
    assert colleague.deactivated_at is not None
    assert colleague_client.get("/agents/").status_code == 302
    entry = JournalEntry.objects.get(action=JournalAction.AGENT_DEACTIVATED)
    assert entry.actor_agent == admin
    assert entry.detail == {"agent": colleague.pk}
    ended = JournalEntry.objects.get(action=JournalAction.AGENT_SESSION_END_ALL)
    assert ended.actor_agent == admin


def test_second_factor_reset_by_the_page(admin_client, admin, colleague):
    recovery_codes_new(colleague)
    colleague_client = Client()
    sign_in_agent(colleague_client, colleague)
    response = admin_client.post(f"/agents/gestion/{colleague.pk}/second-facteur/")
    assert response.status_code == 200
    code = re.search(r'<code class="moncompte-activation-code">([A-Z0-9-]+)</code>', page(response))[1]
    assert not AgentTOTPDevice.objects.filter(agent=colleague).exists()
    assert not AgentRecoveryCode.objects.filter(agent=colleague).exists()
    assert colleague_client.get("/agents/").status_code == 302
    entry = JournalEntry.objects.get(action=JournalAction.AGENT_SECOND_FACTOR_RESET)
    assert entry.actor_agent == admin
    assert code not in str(entry.detail)
    assert Client().post("/agents/activation/", {"email": colleague.email, "code": code}).status_code == 302


def test_the_home_page_shows_the_agent_their_caf_roles_and_sections(admin_client, admin):
    text = page(admin_client.get("/agents/"))
    assert admin.display_name in text
    assert admin.caf.name in text
    assert "Administration des agents" in text
    assert 'href="/agents/gestion/"' in text
    assert text.count("<h1") == 1
