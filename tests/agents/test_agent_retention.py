"""The agents' sessions leave with the usagers' sessions' retention, taking the counter services
they opened with them (moncompte.core.retention.agent_sessions_expired); a live or recent one stays."""

import datetime

from django.test import Client
from django.utils import timezone

from moncompte.agents.models import AgentSession
from moncompte.core.retention import purge_expired
from moncompte.counter.models import CounterService
from tests.factories import AgentFactory, DossierFactory, sign_in_agent


def _session_with_service(agent, dossier, *, ended_days_ago: int | None, seen_days_ago: int = 0):
    session = sign_in_agent(Client(), agent)
    now = timezone.now()
    AgentSession.objects.filter(pk=session.pk).update(
        created_at=now - datetime.timedelta(days=seen_days_ago, hours=1),
        last_seen_at=now - datetime.timedelta(days=seen_days_ago),
        ended_at=None if ended_days_ago is None else now - datetime.timedelta(days=ended_days_ago),
    )
    CounterService.objects.create(agent=agent, session=session, channel="counter", dossier=dossier, found_by="numero")
    return session


def test_old_agent_sessions_go_with_their_counter_services(db, settings):
    settings.MONCOMPTE_RETENTION_SESSION_DAYS = 180
    agent = AgentFactory()
    dossier = DossierFactory(caf=agent.caf)
    old = _session_with_service(agent, dossier, ended_days_ago=200, seen_days_ago=200)
    dead = _session_with_service(agent, dossier, ended_days_ago=None, seen_days_ago=200)
    recent = _session_with_service(agent, dossier, ended_days_ago=10, seen_days_ago=10)
    live = _session_with_service(agent, dossier, ended_days_ago=None)

    assert purge_expired(dry_run=True)["agent_sessions"] == 2
    assert AgentSession.objects.count() == 4
    assert purge_expired()["agent_sessions"] == 2
    assert set(AgentSession.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert set(CounterService.objects.values_list("session_id", flat=True)) == {recent.pk, live.pk}
    assert not AgentSession.objects.filter(pk__in=[old.pk, dead.pk]).exists()
    assert purge_expired()["agent_sessions"] == 0
