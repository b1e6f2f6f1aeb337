"""The sessions of an account: record, list, end one, end all."""

from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from moncompte.accounts.devices import describe_device, describe_place
from moncompte.accounts.models import Account, AccountSession
from moncompte.audit.services import journal_record


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_opened(*, request: HttpRequest, account: Account, client_address: str) -> AccountSession:
    return AccountSession.objects.create(
        account=account,
        session_key=request.session.session_key,
        device=describe_device(request.META.get("HTTP_USER_AGENT", ""))[:200],
        client_address=client_address or None,
        place=describe_place(client_address),
        last_seen_at=timezone.now(),
    )


def session_touched(*, session_key: str) -> None:
    AccountSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(last_seen_at=timezone.now())


def sessions_active(account: Account) -> list[AccountSession]:
    return list(AccountSession.objects.filter(account=account, ended_at__isnull=True).order_by("-last_seen_at"))


def _end(sessions: list[AccountSession], reason: str) -> int:
    now = timezone.now()
    store = _store()
    for account_session in sessions:
        store(session_key=account_session.session_key).delete()
    ids = [s.id for s in sessions]
    AccountSession.objects.filter(id__in=ids).update(ended_at=now, end_reason=reason)
    return len(ids)


def session_end(
    *, account: Account, session_id: int, reason: str = "ended_by_person", actor_session_key: str | None = None
) -> AccountSession | None:
    """End one session of this account; None when there is no such active session of theirs."""
    with transaction.atomic():
        sessions = list(
            AccountSession.objects.select_for_update().filter(account=account, id=session_id, ended_at__isnull=True)
        )
        if not sessions:
            return None
        _end(sessions, reason)
        journal_record(
            action="session.end",
            actor_person=account.person,
            subject_person=account.person,
            session_key=actor_session_key,
            detail={"reason": reason, "ended": 1},
        )
    return sessions[0]


def sessions_end_all(
    *, account: Account, except_session_key: str | None = None, reason: str = "ended_by_person"
) -> int:
    """End every session of the account but, optionally, the current one."""
    with transaction.atomic():
        queryset = AccountSession.objects.select_for_update().filter(account=account, ended_at__isnull=True)
        if except_session_key:
            queryset = queryset.exclude(session_key=except_session_key)
        count = _end(list(queryset), reason)
        journal_record(
            action="session.end_all",
            actor_person=account.person,
            subject_person=account.person,
            session_key=except_session_key,
            detail={"reason": reason, "ended": count},
        )
    return count


def session_closed(*, session_key: str | None, reason: str) -> None:
    """Mark a session ended that Django already flushed (sign-out, timeout)."""
    if session_key:
        AccountSession.objects.filter(session_key=session_key, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason
        )
