"""The Caf's agents, their second factor, and a signed-in agent session for a test client."""

import binascii

import factory
from django.conf import settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.util import random_hex

from moncompte.access.agents import AgentRole
from moncompte.agents.models import Agent, AgentTOTPDevice
from moncompte.agents.sessions import agent_session_open, agent_session_second_factor_done
from tests.factories.accounts import password_hash
from tests.factories.households import CafFactory
from tests.factories.identity import fake

AGENT_PASSWORD = "Zx7qWv-9kPm-Jt4h-Agent"


class AgentFactory(factory.django.DjangoModelFactory):
    """An active agent of a Caf with ``roles`` (default: counter), password ``AGENT_PASSWORD``
    (``raw_password`` on the object; ``password=""``: none set yet) and a confirmed TOTP device
    (``with_totp=False``: none). ``AgentFactory(roles=[AgentRole.IDENTITY_CHECKER])``."""

    class Meta:
        model = Agent
        skip_postgeneration_save = True

    caf = factory.SubFactory(CafFactory)
    email = factory.Sequence(lambda n: f"agent{n}@caf.example.fr")
    first_names = factory.LazyFunction(fake.first_name)
    last_name = factory.LazyFunction(fake.last_name)
    roles = factory.LazyFunction(lambda: [AgentRole.COUNTER.value])
    password = factory.LazyFunction(lambda: password_hash(AGENT_PASSWORD))
    password_changed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def with_totp(obj, create, extracted, **kwargs):
        obj.raw_password = AGENT_PASSWORD
        if extracted is False or not create:
            return
        AgentTOTPDevice.objects.create(agent=obj, key=random_hex(20), confirmed_at=timezone.now())


def totp_now(agent: Agent, *, offset_steps: int = 0) -> str:
    """The agent's current TOTP code (``offset_steps`` steps later or earlier), as an app shows it."""
    device = AgentTOTPDevice.objects.get(agent=agent)
    code = totp(binascii.unhexlify(device.key), device.step, device.t0, device.digits, device.drift + offset_steps)
    return f"{code:0{device.digits}d}"


def sign_in_agent(client, agent: Agent, *, second_factor: bool = True):
    """Open an agent session for ``client`` (a Django test client), second factor given unless
    ``second_factor=False``: the console's pages then serve ``agent``. Returns the session."""
    session, token = agent_session_open(agent=agent, client_address="127.0.0.1")
    if second_factor:
        token = agent_session_second_factor_done(session=session)
    client.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE] = token
    client.cookies[settings.MONCOMPTE_AGENT_SESSION_COOKIE]["path"] = "/agents/"
    return session
