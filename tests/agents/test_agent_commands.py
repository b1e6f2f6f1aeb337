"""The commands for what no administrator of a Caf may do: ``agent_roles`` (the only way to give
a role reaching every Caf) and ``agent_second_factor_reset`` (a Caf's only administrator, a
national agent). Both act as the system and are journaled so."""

import datetime
import io
import re

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from moncompte.access.agents import AgentPermission, AgentRole, agent_manageable, agent_may
from moncompte.agents.models import Agent, AgentRecoveryCode, AgentSession, AgentTOTPDevice
from moncompte.agents.services import AgentError, agent_roles_change, agent_second_factor_reset
from moncompte.agents.sessions import agent_actor
from moncompte.agents.totp import recovery_codes_new
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import NotAllowed
from tests.factories import AgentFactory, CafFactory, sign_in_agent, totp_now

pytestmark = pytest.mark.django_db

COUNTER = AgentRole.COUNTER.value
ADMIN = AgentRole.ADMINISTRATOR.value
INCIDENT = AgentRole.INCIDENT_OFFICER.value
ACTIVATE = "/agents/activation/"
NEW_PASSWORD = "Sept renards 91 sous la lune"
T0 = datetime.datetime(2026, 3, 2, 9, 0, 10, tzinfo=datetime.UTC)
CODE_LINE = r"Code d'activation \(affiché une seule fois, valable jusqu'au [^)]+\) : (\S+)"


def run(command, *args) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def roles(email, *values) -> str:
    return run("agent_roles", "--email", email, *[arg for value in values for arg in ("--role", value)])


@pytest.fixture
def agent():
    return AgentFactory(roles=[COUNTER], first_names="Inès", last_name="Sécurité")


# agent_roles ----------------------------------------------------------------------------------


def test_the_command_gives_a_national_role_and_prints_the_roles_after(agent):
    printed = roles(agent.email.upper(), INCIDENT, COUNTER)
    agent.refresh_from_db()
    assert agent.roles == [INCIDENT, COUNTER]
    assert f"Agent : Inès Sécurité <{agent.email}>, {agent.caf.name}." in printed
    assert "Rôles avant : Agent d'accueil ou de téléphone." in printed
    assert "Rôles maintenant : Réponse aux incidents de sécurité, Agent d'accueil ou de téléphone." in printed
    # The role reaches every Caf.
    assert agent_may(agent, AgentPermission.RESPOND_TO_INCIDENTS, caf_id=CafFactory().pk)


def test_the_change_is_journaled_with_the_system_as_actor(agent):
    roles(agent.email, INCIDENT)
    entry = JournalEntry.objects.get(action=JournalAction.AGENT_ROLES_CHANGED)
    assert entry.actor_agent is None
    assert entry.channel == Channel.SYSTEM.value
    assert entry.detail == {"agent": agent.pk, "before": [COUNTER], "after": [INCIDENT]}


def test_the_roles_given_replace_the_agents_roles(agent):
    roles(agent.email, INCIDENT)
    printed = roles(agent.email, COUNTER, ADMIN)
    agent.refresh_from_db()
    assert agent.roles == [COUNTER, ADMIN]
    assert "Rôles maintenant : Agent d'accueil ou de téléphone, Administration des agents." in printed
    assert not agent_may(agent, AgentPermission.RESPOND_TO_INCIDENTS)


def test_no_administrator_may_give_what_the_command_gives(agent):
    admin = AgentFactory(caf=agent.caf, roles=[ADMIN])
    session = sign_in_agent(Client(), admin)
    with pytest.raises(AgentError, match="Vous ne pouvez pas attribuer ce rôle."):
        agent_roles_change(actor=agent_actor(session), agent=agent, roles=[INCIDENT])
    roles(agent.email, INCIDENT)
    agent.refresh_from_db()
    # And the agent named nationally is no longer the Caf's to manage.
    assert not agent_manageable(admin, agent)


def test_an_unknown_email_or_role_is_refused_and_nothing_changes(agent):
    with pytest.raises(CommandError, match="Aucun agent n'a l'adresse électronique personne@caf.example.fr."):
        roles("Personne@caf.example.fr", INCIDENT)
    with pytest.raises(CommandError):
        roles(agent.email, "superuser")
    agent.refresh_from_db()
    assert agent.roles == [COUNTER]
    assert not JournalEntry.objects.filter(action=JournalAction.AGENT_ROLES_CHANGED).exists()


def test_a_deactivated_agent_is_told_to_gain_nothing(agent):
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    printed = roles(agent.email, INCIDENT)
    assert "Cet agent est désactivé" in printed
    agent.refresh_from_db()
    assert not agent_may(agent, AgentPermission.RESPOND_TO_INCIDENTS)


def test_only_the_system_acts_without_an_agent(agent):
    """The services take a command's actor (channel system) for any agent; an actor with no
    agent on any other channel (a visitor, the API) is nobody and gets "not found"."""
    for actor in (Actor.visitor(channel=Channel.COUNTER, client_address="127.0.0.1"), Actor(channel=Channel.API)):
        with pytest.raises(NotAllowed):
            agent_roles_change(actor=actor, agent=agent, roles=[INCIDENT])
        with pytest.raises(NotAllowed):
            agent_second_factor_reset(actor=actor, agent=agent)
    agent.refresh_from_db()
    assert agent.roles == [COUNTER]
    assert AgentTOTPDevice.objects.filter(agent=agent).exists()


# agent_second_factor_reset ---------------------------------------------------------------------


def test_the_reset_prints_a_code_once_and_ends_everything_of_the_old_factor(agent):
    recovery_codes_new(agent)
    browser = Client()
    session = sign_in_agent(browser, agent)
    printed = run("agent_second_factor_reset", "--email", agent.email)
    code = re.search(CODE_LINE, printed)[1]
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert f"Second facteur réinitialisé : Inès Sécurité <{agent.email}>" in printed
    assert "/agents/activation/" in printed
    assert not AgentTOTPDevice.objects.filter(agent=agent).exists()
    assert not AgentRecoveryCode.objects.filter(agent=agent).exists()
    assert AgentSession.objects.get(pk=session.pk).ended_at is not None
    assert browser.get("/agents/").status_code == 302
    entry = JournalEntry.objects.get(action=JournalAction.AGENT_SECOND_FACTOR_RESET)
    assert entry.actor_agent is None
    assert entry.channel == Channel.SYSTEM.value
    assert entry.detail == {"agent": agent.pk}
    assert all(code not in str(journal.detail) for journal in JournalEntry.objects.all())
    # The code activates the agent again, password included.
    client = Client()
    with time_machine.travel(T0, tick=False):
        assert client.post(ACTIVATE, {"email": agent.email, "code": code}).status_code == 302
        assert client.post(ACTIVATE, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).status_code == 302
        assert client.post(ACTIVATE, {"code": totp_now(agent)}).status_code == 200


@pytest.mark.parametrize("who", ["only_administrator", "national"])
def test_the_reset_reaches_whom_no_administrator_may_reset(who):
    caf = CafFactory()
    agent = AgentFactory(caf=caf, roles=[ADMIN] if who == "only_administrator" else [INCIDENT])
    printed = run("agent_second_factor_reset", "--email", agent.email)
    assert re.search(CODE_LINE, printed)
    assert not AgentTOTPDevice.objects.filter(agent=agent).exists()


def test_the_reset_of_an_unknown_or_deactivated_agent_is_refused(agent):
    with pytest.raises(CommandError, match="Aucun agent n'a l'adresse électronique personne@caf.example.fr."):
        run("agent_second_factor_reset", "--email", "personne@caf.example.fr")
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    with pytest.raises(CommandError, match="Cet agent est désactivé."):
        run("agent_second_factor_reset", "--email", agent.email)
    assert AgentTOTPDevice.objects.filter(agent=agent).exists()
    assert not JournalEntry.objects.filter(action=JournalAction.AGENT_SECOND_FACTOR_RESET).exists()
