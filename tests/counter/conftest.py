"""The counter's fixtures: an agent of the family's Caf signed in to a test client."""

import pytest
from django.test import Client

from moncompte.access.agents import AgentRole
from tests.factories import AgentFactory, sign_in_agent


@pytest.fixture
def agent(family):
    return AgentFactory(caf=family.caf, roles=[AgentRole.COUNTER.value])


@pytest.fixture
def agent_client(agent):
    client = Client()
    client.agent_session = sign_in_agent(client, agent)
    return client
