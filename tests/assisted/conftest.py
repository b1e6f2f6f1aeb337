"""What the assisted first connection's tests share: a file nobody has an account for, an
agent of its Caf at the counter, and a counter service whose person was identified (Task B
builds the identification; here the rows are made directly)."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from moncompte.access.agents import AgentRole
from moncompte.agents.sessions import agent_actor
from moncompte.core.actors import Actor, Channel
from moncompte.counter.models import CounterService, Proof
from tests.factories import AgentFactory, make_household, sign_in_agent

# A password the usagers' policy accepts, typed by the person only.
PASSWORD = "Quai de Seine 47 lumieres"
AGENT_ADDRESS = "10.20.0.7"
TERMINAL_ADDRESS = "192.0.2.44"


@pytest.fixture
def household(db):
    """R, spouse S, a child of 17 and one of 10: nobody has an account; the file keeps its old code."""
    return make_household(accounts=False, legacy_code="40506070")


@pytest.fixture
def agent(household):
    return AgentFactory(caf=household.caf, roles=[AgentRole.COUNTER.value])


def open_service(
    agent,
    dossier,
    person,
    *,
    client=None,
    proof=Proof.IDENTITY_DOCUMENT,
    channel=Channel.COUNTER,
    identified=True,
) -> tuple[CounterService, Actor]:
    """A service of ``agent`` about ``dossier``, its ``person`` identified with ``proof``, in a
    new agent session (the console's, for ``client`` when given); and the agent's actor."""
    session = sign_in_agent(client if client is not None else Client(), agent)
    service = CounterService.objects.create(
        agent=agent,
        session=session,
        channel=channel,
        dossier=dossier,
        found_by="numero",
        person=person if identified else None,
        proof=proof if identified else "",
        proof_detail="Carte nationale d'identité" if identified else "",
        identified_at=timezone.now() if identified else None,
    )
    return service, agent_actor(session, channel=channel, client_address=AGENT_ADDRESS)


def visitor(address: str = TERMINAL_ADDRESS) -> Actor:
    return Actor.visitor(channel=Channel.WEB, client_address=address)


def shown_code(page: str) -> str:
    """The handoff code as the agent's page shows it, once."""
    return re.search(r'id="code-remise-valeur">([0-9A-Z]{4}-[0-9A-Z]{4})<', page).group(1)


def start_url(service) -> str:
    return f"/agents/accueil/{service.pk}/premiere-connexion/"
