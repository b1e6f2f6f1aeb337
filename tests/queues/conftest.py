"""The queues of rectifications, separations and the Caf's requests (issue 12): agents, their
actors and clients, and the people's own web sessions."""

import pytest
from django.test import Client

from moncompte.access.agents import AgentRole
from moncompte.agents.sessions import agent_actor, agent_session_open, agent_session_second_factor_done
from moncompte.core.actors import Actor, Channel
from moncompte.notifications.models import Message
from tests.conftest import sign_in
from tests.factories import AgentFactory, CafFactory, sign_in_agent

CHECKER = [AgentRole.IDENTITY_CHECKER.value]  # rectifications
COUNTER = [AgentRole.COUNTER.value]  # separations, the Caf's requests


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def actor_of(agent) -> Actor:
    """The agent acting from a console session (second factor given)."""
    session, _ = agent_session_open(agent=agent, client_address="192.0.2.10")
    agent_session_second_factor_done(session=session)
    return agent_actor(session, client_address="192.0.2.10")


def web_actor(household_person) -> Actor:
    """A person of a file acting through the web, signed in to their account."""
    return Actor(channel=Channel.WEB, account=household_person.account, session_key="k", client_address="192.0.2.7")


def agent_client(agent) -> Client:
    client = Client()
    sign_in_agent(client, agent)
    return client


def person_client(household_person) -> Client:
    client = Client()
    response = sign_in(client, *household_person.credentials)
    assert response.status_code == 302, response.content[:300]
    return client


def messages_to(person, template: str) -> list[Message]:
    return list(Message.objects.filter(template=template, account__person=person).order_by("id"))


@pytest.fixture
def other_caf(db):
    return CafFactory()


def make_agent(caf, roles):
    return AgentFactory(caf=caf, roles=list(roles))
