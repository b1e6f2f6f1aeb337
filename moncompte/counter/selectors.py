"""Reads of the counter: a service is reached only by the agent session that opened it."""

import datetime

from django.conf import settings
from django.utils import timezone

from moncompte.access.agents import AgentPermission, agent_may
from moncompte.core.actors import Actor
from moncompte.core.errors import NotAllowed
from moncompte.counter.models import CounterService


def _session_digest(actor: Actor) -> str:
    key = actor.session_key or ""
    return key.removeprefix("agent:") if key.startswith("agent:") else ""


def counter_service_for(*, actor: Actor, service_id: int) -> CounterService:
    """The open service ``service_id`` of the acting agent's session, still within
    MONCOMPTE_COUNTER_SERVICE_MINUTES and on a file of a Caf the agent may serve; else NotAllowed
    (answered "not found")."""
    if actor.agent is None or not agent_may(actor.agent, AgentPermission.SERVE_PERSON):
        raise NotAllowed
    service = (
        CounterService.objects.select_related("dossier__caf", "person", "agent")
        .filter(pk=service_id, agent=actor.agent, session__token_digest=_session_digest(actor), closed_at__isnull=True)
        .first()
    )
    if service is None:
        raise NotAllowed
    if timezone.now() - service.created_at > datetime.timedelta(minutes=settings.MONCOMPTE_COUNTER_SERVICE_MINUTES):
        raise NotAllowed
    if not agent_may(actor.agent, AgentPermission.SERVE_PERSON, caf_id=service.dossier.caf_id):
        raise NotAllowed
    return service
