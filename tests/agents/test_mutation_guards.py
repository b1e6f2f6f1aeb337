"""Rules of issue 12 that no other test guarded on its own (found by tools/mutations.py: each
test here fails under the mutation named in its docstring)."""

import pytest
from django.conf import settings
from django.test import Client

from moncompte.access.agents import AgentRole
from moncompte.accounts.signup import REASON_REQUIRED, REASON_TOO_LONG, IdentityCheckError, identity_check_reject
from moncompte.agents.models import Agent, AgentSession
from moncompte.agents.sessions import agent_sessions_end_all
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.identity.models import IdentityCheck, IdentityCheckState
from tests.factories import AccountFactory, AgentFactory, PersonFactory, sign_in_agent

pytestmark = pytest.mark.django_db

HOME = "/agents/"
SIGNIN = "/agents/connexion/"


def test_a_session_of_an_agent_deactivated_outside_the_console_is_refused():
    """agent-session-deactivated-accepted: an agent deactivated without their sessions being
    ended (a data fix, the Django admin) no longer reaches even the console's home page."""
    agent = AgentFactory(roles=[AgentRole.COUNTER.value])
    client = Client()
    session = sign_in_agent(client, agent)
    assert client.get(HOME).status_code == 200
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"] == SIGNIN
    session = AgentSession.objects.get(pk=session.pk)
    assert session.ended_at is not None and session.end_reason == "agent_deactivated"


def test_the_refusal_of_an_identity_check_itself_requires_a_reason():
    """identity-check-reject-without-reason: the service refuses an empty or too long reason,
    whatever the form did (the person is told the reason and what to do)."""
    checker = AgentFactory(roles=[AgentRole.IDENTITY_CHECKER.value])
    check = IdentityCheck.objects.create(person=PersonFactory())
    actor = Actor(channel=Channel.COUNTER, agent=checker)
    for reason, message in (("", REASON_REQUIRED), ("   ", REASON_REQUIRED), ("x" * 1001, REASON_TOO_LONG)):
        with pytest.raises(IdentityCheckError) as refused:
            identity_check_reject(actor=actor, check=check, reason=reason)
        assert (refused.value.code, refused.value.field, refused.value.message) == ("reason", "reason", message)
    check.refresh_from_db()
    assert check.state == IdentityCheckState.TO_VERIFY and check.decided_at is None
    assert not JournalEntry.objects.filter(action="identity.check_rejected").exists()
    assert "Indiquez le motif du refus" in REASON_REQUIRED


def test_an_actor_is_never_both_an_agent_and_a_usagers_account():
    """actor-agent-with-account: an agent acts as an agent (the journal's actor_agent), never
    through an account, which would give them the account holder's rights on the files."""
    agent = AgentFactory()
    account = AccountFactory()
    with pytest.raises(ValueError, match="An agent acts as an agent"):
        Actor(channel=Channel.COUNTER, agent=agent, account=account)
    # Each alone is an actor; the agent serving someone names them as on_behalf_of.
    assert Actor(channel=Channel.COUNTER, agent=agent, on_behalf_of=account.person).subject == account.person
    assert Actor(channel=Channel.WEB, account=account).person == account.person


def test_a_kept_copy_of_the_token_opens_nothing_after_sign_out_or_a_reset():
    """agent-session-ended-accepted: an ended session stays ended, whoever kept its token (the
    cookie cleared by the sign-out is not the only guard; a reset ends a still active agent's)."""
    agent = AgentFactory(roles=[AgentRole.COUNTER.value])
    for end in ("sign_out", "reset"):
        client = Client()
        session = sign_in_agent(client, agent)
        token = client.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE].value
        if end == "sign_out":
            assert client.post("/agents/deconnexion/").status_code == 302
        else:
            agent_sessions_end_all(agent=agent, reason="second_factor_reset", actor=Actor.system())
        client.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE] = token
        client.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE]["path"] = "/agents/"
        response = client.get(HOME)
        assert response.status_code == 302 and response["Location"] == SIGNIN, end
        session.refresh_from_db()
        assert session.ended_at is not None
