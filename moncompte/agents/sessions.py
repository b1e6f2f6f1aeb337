"""Agent sessions: opened by the password, completed by the second factor, short-lived.

The cookie holds a random token (``secrets.token_urlsafe(32)``); the database its SHA-256 only,
so a copy of the table opens no session. The token changes when the session gains or renews its
rights (the second factor, a password change): a token seen before is worth nothing after.

A session is refused once ended, idle for MONCOMPTE_AGENT_SESSION_IDLE_SECONDS, older than
MONCOMPTE_AGENT_SESSION_ABSOLUTE_SECONDS, or waiting for its second factor longer than
MONCOMPTE_AGENT_SECOND_FACTOR_SECONDS, and whenever the agent is deactivated. The channels turn
a session into an ``Actor`` with ``agent_actor``.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from moncompte.agents.models import Agent, AgentSession
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, Channel

# Write last_seen_at at most this often: reading a page rarely writes.
_SEEN_RESOLUTION = datetime.timedelta(seconds=30)
# An actor's session reference: the session's id, stable while its token changes.
_SESSION_KEY_PREFIX = "agent-session:"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def agent_actor(
    session: AgentSession, *, channel: Channel = Channel.COUNTER, client_address: str | None = None, on_behalf_of=None
) -> Actor:
    """The acting agent of ``session``: through the counter or the phone, for ``on_behalf_of``
    (the person served) when there is one. The journal keeps a keyed hash of the session's
    reference (its id, never the token), the same before and after the token changes."""
    return Actor(
        channel=channel,
        agent=session.agent,
        session_key=f"{_SESSION_KEY_PREFIX}{session.pk}",
        client_address=client_address,
        on_behalf_of=on_behalf_of,
    )


def agent_session_id(actor: Actor) -> int | None:
    """The id of the agent session ``actor`` acts in (None for any other actor)."""
    key = actor.session_key or ""
    if actor.agent is None or not key.startswith(_SESSION_KEY_PREFIX):
        return None
    value = key.removeprefix(_SESSION_KEY_PREFIX)
    return int(value) if value.isdigit() else None


def agent_session_open(*, agent: Agent, client_address: str | None) -> tuple[AgentSession, str]:
    """A session after the password, waiting for the second factor. Returns it and the token
    for the cookie (given here only)."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    session = AgentSession.objects.create(
        agent=agent,
        token_digest=_digest(token),
        client_address=client_address or None,
        created_at=now,
        last_seen_at=now,
    )
    return session, token


def agent_session_token_renew(*, session: AgentSession, **changes) -> str:
    """A new token for ``session`` (with ``changes`` to its fields written at once); the old one
    opens nothing from now on. Returns the new token for the cookie."""
    token = secrets.token_urlsafe(32)
    changes["token_digest"] = _digest(token)
    AgentSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(**changes)
    for name, value in changes.items():
        setattr(session, name, value)
    return token


def agent_session_second_factor_done(*, session: AgentSession) -> str:
    """The session is complete: its rights are the agent's from now on, under a new token (one
    seen while it waited for the code, on a shared screen or in a log, opens nothing). Returns
    the token for the cookie."""
    now = timezone.now()
    with transaction.atomic():
        token = agent_session_token_renew(session=session, second_factor_at=now, last_seen_at=now)
        Agent.objects.filter(pk=session.agent_id).update(last_signin_at=now)
    return token


def _expired(session: AgentSession, now: datetime.datetime) -> str:
    """Why the session may no longer be used ("" if it may)."""
    if session.ended_at is not None:
        return session.end_reason or "ended"
    if not session.agent.is_active:
        return "agent_deactivated"
    if now - session.created_at > datetime.timedelta(seconds=settings.MONCOMPTE_AGENT_SESSION_ABSOLUTE_SECONDS):
        return "expired"
    if now - session.last_seen_at > datetime.timedelta(seconds=settings.MONCOMPTE_AGENT_SESSION_IDLE_SECONDS):
        return "expired"
    if session.second_factor_at is None and now - session.created_at > datetime.timedelta(
        seconds=settings.MONCOMPTE_AGENT_SECOND_FACTOR_SECONDS
    ):
        return "expired"
    return ""


def agent_session_from_token(token: str | None) -> tuple[AgentSession | None, str]:
    """The live session of a cookie's token and "" , or (None, why: "" for no session at all,
    "expired", "agent_deactivated", ...). An expired session is ended here (journaled)."""
    if not token or len(token) > 100:
        return None, ""
    session = AgentSession.objects.select_related("agent", "agent__caf").filter(token_digest=_digest(token)).first()
    if session is None:
        return None, ""
    now = timezone.now()
    reason = _expired(session, now)
    if reason:
        if session.ended_at is None:
            agent_session_end(session=session, reason=reason)
        return None, reason
    if now - session.last_seen_at > _SEEN_RESOLUTION:
        AgentSession.objects.filter(pk=session.pk).update(last_seen_at=now)
        session.last_seen_at = now
    return session, ""


def agent_session_end(*, session: AgentSession, reason: str, actor: Actor | None = None) -> None:
    """End one session (sign-out, expiry, deactivation), journaled once."""
    with transaction.atomic():
        ended = AgentSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason[:32]
        )
        if ended:
            journal_record(
                action=JournalAction.AGENT_SESSION_END,
                actor=actor or agent_actor(session, client_address=session.client_address),
                subject_person=None,
                detail={"reason": reason},
            )


def agent_sessions_end_all(
    *, agent: Agent, reason: str, actor: Actor, except_session: AgentSession | None = None
) -> int:
    """End every session of ``agent`` (deactivation, second factor reset, password change), but
    ``except_session`` when given (the agent's own, changing their password, stays open)."""
    with transaction.atomic():
        sessions = AgentSession.objects.filter(agent=agent, ended_at__isnull=True)
        if except_session is not None:
            sessions = sessions.exclude(pk=except_session.pk)
        count = sessions.update(ended_at=timezone.now(), end_reason=reason[:32])
        if count:
            journal_record(
                action=JournalAction.AGENT_SESSION_END_ALL,
                actor=actor,
                subject_person=None,
                detail={"agent": agent.pk, "reason": reason, "sessions": count},
            )
    return count
