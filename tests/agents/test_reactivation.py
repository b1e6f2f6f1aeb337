"""An administrator reactivates a deactivated agent of their Caf
(/agents/gestion/<id>/reactiver/): only as ``agent_manageable`` allows, through a new activation
code shown once (the password and the second factor are reset), journaled."""

import datetime
import html
import re

import pytest
import time_machine
from django.test import Client

from moncompte.access.agents import AgentRole
from moncompte.agents.models import Agent, AgentRecoveryCode, AgentSession, AgentTOTPDevice
from moncompte.agents.services import AgentError, agent_deactivate, agent_reactivate
from moncompte.agents.sessions import agent_actor
from moncompte.agents.totp import recovery_codes_new
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import NotAllowed
from tests.factories import AGENT_PASSWORD, AgentFactory, CafFactory, sign_in_agent, totp_now

pytestmark = pytest.mark.django_db

COUNTER = AgentRole.COUNTER.value
CHECKER = AgentRole.IDENTITY_CHECKER.value
ADMIN = AgentRole.ADMINISTRATOR.value
INCIDENT = AgentRole.INCIDENT_OFFICER.value
ACTIVATE = "/agents/activation/"
SIGNIN = "/agents/connexion/"
NEW_PASSWORD = "Cinq lapins 38 dans le pré"
T0 = datetime.datetime(2026, 3, 2, 9, 0, 10, tzinfo=datetime.UTC)
BUTTON = "Réactiver cet agent"
CODE_RE = r'<code class="moncompte-activation-code">([A-Z0-9-]+)</code>'


def page(response) -> str:
    return html.unescape(response.content.decode())


def url(agent) -> str:
    return f"/agents/gestion/{agent.pk}/reactiver/"


@pytest.fixture
def caf():
    return CafFactory()


@pytest.fixture
def admin(caf):
    return AgentFactory(caf=caf, roles=[ADMIN])


@pytest.fixture
def admin_client(admin):
    client = Client()
    client.agent_session = sign_in_agent(client, admin)
    return client


def deactivated(admin_client, agent) -> Agent:
    agent_deactivate(actor=agent_actor(admin_client.agent_session), agent=agent)
    agent.refresh_from_db()
    return agent


@pytest.fixture
def former(admin_client, caf):
    """A deactivated agent of the administrator's Caf, with a device and recovery codes."""
    agent = AgentFactory(caf=caf, roles=[COUNTER, CHECKER], last_name="Ancienne")
    recovery_codes_new(agent)
    return deactivated(admin_client, agent)


def test_the_page_of_a_deactivated_agent_offers_the_button_a_post(admin_client, former):
    text = page(admin_client.get(f"/agents/gestion/{former.pk}/"))
    assert BUTTON in text
    assert re.search(
        rf'<form method="post" action="{url(former)}">\s*<input type="hidden" name="csrfmiddlewaretoken"', text
    )
    assert admin_client.get(url(former)).status_code == 405
    former.refresh_from_db()
    assert not former.is_active


def test_an_active_agent_has_no_button_and_is_refused(admin_client, caf):
    active = AgentFactory(caf=caf, roles=[COUNTER])
    before = Agent.objects.get(pk=active.pk)
    assert BUTTON not in page(admin_client.get(f"/agents/gestion/{active.pk}/"))
    response = admin_client.post(url(active), follow=True)
    assert response.status_code == 200
    assert "Cet agent est déjà actif." in page(response)
    active.refresh_from_db()
    assert active.password == before.password
    assert active.activation_digest == before.activation_digest == ""
    assert AgentTOTPDevice.objects.filter(agent=active).exists()
    assert not JournalEntry.objects.filter(action=JournalAction.AGENT_REACTIVATED).exists()


def test_reactivation_resets_the_password_and_the_second_factor_and_shows_a_code_once(admin_client, admin, former):
    response = admin_client.post(url(former))
    assert response.status_code == 200
    text = page(response)
    assert f"Agent réactivé : {former.display_name}" in text
    assert "Ses rôles sont conservés : Agent d'accueil ou de téléphone, Vérification des identités." in text
    code = re.search(CODE_RE, text)[1]
    former.refresh_from_db()
    assert former.is_active
    assert former.deactivated_at is None
    assert former.password == ""
    assert former.roles == [COUNTER, CHECKER]
    assert not AgentTOTPDevice.objects.filter(agent=former).exists()
    assert not AgentRecoveryCode.objects.filter(agent=former).exists()
    # Shown once: the agent's page, now "Activation en attente", does not show it again.
    detail = page(admin_client.get(f"/agents/gestion/{former.pk}/"))
    assert "Activation en attente" in detail
    assert code not in detail
    entry = JournalEntry.objects.get(action=JournalAction.AGENT_REACTIVATED)
    assert entry.actor_agent == admin
    assert entry.detail == {"agent": former.pk}
    assert all(code not in str(journal.detail) for journal in JournalEntry.objects.all())


def test_the_old_password_no_longer_signs_in_and_the_new_activation_does(admin_client, former):
    code = re.search(CODE_RE, page(admin_client.post(url(former))))[1]
    refused = Client().post(SIGNIN, {"email": former.email, "password": AGENT_PASSWORD})
    assert refused.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect." in page(refused)
    client = Client()
    with time_machine.travel(T0, tick=False) as traveller:
        assert client.post(ACTIVATE, {"email": former.email, "code": code}).status_code == 302
        assert client.post(ACTIVATE, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code == 302
        assert client.post(ACTIVATE, {"code": totp_now(former)}).status_code == 200
        traveller.shift(30)
        assert client.post(SIGNIN, {"email": former.email, "password": NEW_PASSWORD}).status_code == 302
        assert client.post("/agents/connexion/code/", {"code": totp_now(former)}).status_code == 302
        assert client.get("/agents/").status_code == 200
    # Reused, the code is dead.
    assert Client().post(ACTIVATE, {"email": former.email, "code": code}).status_code == 400


def test_no_session_of_before_the_deactivation_comes_back(admin_client, caf):
    """An agent deactivated outside the console (a data fix) may have an open session left:
    reactivated, the agent must not find it alive."""
    agent = AgentFactory(caf=caf, roles=[COUNTER])
    old_browser = Client()
    old = sign_in_agent(old_browser, agent)
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    assert admin_client.post(url(agent)).status_code == 200
    assert old_browser.get("/agents/").status_code == 302
    old = AgentSession.objects.get(pk=old.pk)
    assert old.ended_at is not None and old.end_reason == "agent_reactivated"


def test_an_agent_of_another_caf_answers_404(admin_client):
    other_admin = AgentFactory(caf=CafFactory(), roles=[ADMIN])
    elsewhere = AgentFactory(caf=other_admin.caf, roles=[COUNTER])
    agent_deactivate(actor=agent_actor(sign_in_agent(Client(), other_admin)), agent=elsewhere)
    assert admin_client.post(url(elsewhere)).status_code == 404
    elsewhere.refresh_from_db()
    assert not elsewhere.is_active
    assert AgentTOTPDevice.objects.filter(agent=elsewhere).exists()


def test_an_agent_without_the_administrators_role_gets_404(caf, former):
    counter = AgentFactory(caf=caf, roles=[COUNTER])
    client = Client()
    sign_in_agent(client, counter)
    assert client.post(url(former)).status_code == 404
    former.refresh_from_db()
    assert not former.is_active


def test_a_deactivated_national_agent_is_not_the_cafs_to_reactivate(admin_client, caf):
    national = AgentFactory(caf=caf, roles=[INCIDENT])
    Agent.objects.filter(pk=national.pk).update(is_active=False)
    text = page(admin_client.get(f"/agents/gestion/{national.pk}/"))
    assert "équipe nationale" in text
    assert BUTTON not in text
    assert admin_client.post(url(national)).status_code == 404
    national.refresh_from_db()
    assert not national.is_active


def test_an_administrator_cannot_reactivate_themselves(caf):
    admin = AgentFactory(caf=caf, roles=[ADMIN])
    session = sign_in_agent(Client(), admin)
    Agent.objects.filter(pk=admin.pk).update(is_active=False)
    admin.refresh_from_db()
    with pytest.raises(NotAllowed):
        agent_reactivate(actor=agent_actor(session), agent=admin)
    admin.refresh_from_db()
    assert not admin.is_active


def test_nobody_but_an_administrator_or_a_command_reactivates(former):
    for actor in (
        Actor.visitor(channel=Channel.COUNTER, client_address="127.0.0.1"),
        Actor(channel=Channel.API),
    ):
        with pytest.raises(NotAllowed):
            agent_reactivate(actor=actor, agent=former)
    former.refresh_from_db()
    assert not former.is_active
    assert agent_reactivate(actor=Actor.system(), agent=former)
    former.refresh_from_db()
    assert former.is_active
    with pytest.raises(AgentError, match="Cet agent est déjà actif."):
        agent_reactivate(actor=Actor.system(), agent=former)
