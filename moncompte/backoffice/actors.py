"""The console's side of the acting person: an agent's session becomes an ``Actor``."""

from django.http import HttpRequest

from moncompte.agents.sessions import agent_actor
from moncompte.core.actors import Actor, Channel
from moncompte.web.actors import client_address


def actor_of_agent(request: HttpRequest, *, channel: Channel = Channel.COUNTER, on_behalf_of=None) -> Actor:
    """The signed-in agent of this request (``agent_required`` made sure there is one), through
    the counter or the phone, serving ``on_behalf_of`` when given."""
    return agent_actor(
        request.agent_session, channel=channel, client_address=client_address(request), on_behalf_of=on_behalf_of
    )
