"""The sessions of an account: record, list, end one, end all.

The channel that holds the session (the web's session store today, the API's tokens later)
gives the data: the session key, a description of the device, the actor. Nothing here reads a
request.
"""

from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from moncompte.accounts.devices import describe_device, describe_place
from moncompte.accounts.models import Account, AccountSession
from moncompte.accounts.tokens import api_tokens_revoke
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, Channel


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_open(*, actor: Actor, user_agent: str = "", action: JournalAction) -> AccountSession:
    """Record the session ``actor.session_key`` just opened for ``actor.account``, and journal
    ``action`` (sign-in, first connection, account creation, invitation). ``user_agent`` is what
    the client says it is; only a short description of it is kept. The session's channel is the
    actor's: a web session (the session store's key) or an API one (a token family)."""
    if actor.account is None or not actor.session_key:
        raise ValueError("A session is opened for a signed-in actor with a session key.")
    # No savepoint inside the caller's transaction (the web's sign-in): nobody recovers from a
    # failure here, so two round trips would buy nothing.
    with transaction.atomic(savepoint=False):
        record = AccountSession.objects.create(
            account=actor.account,
            session_key=actor.session_key,
            channel=Channel.API if actor.channel == Channel.API else Channel.WEB,
            device=describe_device(user_agent or "")[:200],
            client_address=actor.client_address or None,
            place=describe_place(actor.client_address),
            last_seen_at=timezone.now(),
        )
        journal_record(action=action, actor=actor)
    return record


def session_touched(*, session_key: str) -> None:
    AccountSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(last_seen_at=timezone.now())


def sessions_active(*, actor: Actor) -> list[AccountSession]:
    """The open sessions of the actor's own account, most recently used first."""
    return list(
        AccountSession.objects.filter(account=actor.account, ended_at__isnull=True).order_by("-last_seen_at", "-id")
    )


def _end(sessions: list[AccountSession], reason: str) -> int:
    """End these sessions wherever they live: the web's session store, the API's tokens."""
    now = timezone.now()
    store = _store()
    for account_session in sessions:
        if account_session.channel != Channel.API:
            store(session_key=account_session.session_key).delete()
    api_tokens_revoke([s.session_key for s in sessions if s.channel == Channel.API])
    ids = [s.id for s in sessions]
    AccountSession.objects.filter(id__in=ids).update(ended_at=now, end_reason=reason)
    return len(ids)


def session_end(*, actor: Actor, session_id: int, reason: str = "ended_by_person") -> AccountSession | None:
    """End one session of the actor's account; None when there is no such active session of theirs."""
    with transaction.atomic():
        sessions = list(
            AccountSession.objects.select_for_update().filter(
                account=actor.account, id=session_id, ended_at__isnull=True
            )
        )
        if not sessions:
            return None
        _end(sessions, reason)
        journal_record(action=JournalAction.SESSION_END, actor=actor, detail={"reason": reason, "ended": 1})
    return sessions[0]


def sessions_end_all(
    *,
    actor: Actor,
    account: Account | None = None,
    except_session_key: str | None = None,
    reason: str = "ended_by_person",
    journal: bool = True,
) -> int:
    """End every session of ``account`` (the actor's by default) but, optionally, one.

    ``journal=False`` for a caller whose own journal entry says it (deactivation).
    """
    account = account or actor.account
    with transaction.atomic():
        queryset = AccountSession.objects.select_for_update().filter(account=account, ended_at__isnull=True)
        if except_session_key:
            queryset = queryset.exclude(session_key=except_session_key)
        count = _end(list(queryset), reason)
        if journal:
            journal_record(
                action=JournalAction.SESSION_END_ALL,
                actor=actor,
                subject_person=account.person,
                detail={"reason": reason, "ended": count},
            )
    return count


def session_closed(*, session_key: str | None, reason: str) -> None:
    """Mark a session ended that its channel already discarded (sign-out, timeout)."""
    if session_key:
        AccountSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason
        )


def session_rekeyed(*, old_key: str | None, new_key: str | None) -> None:
    """The channel renewed a signed-in session's key: its record follows it."""
    if old_key and new_key and old_key != new_key:
        AccountSession.objects.filter(session_key=old_key, ended_at__isnull=True).update(session_key=new_key)
