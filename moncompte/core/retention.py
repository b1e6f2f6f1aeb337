"""Retention of personal data: what is deleted once it is no longer needed, and when.

Each kind has its duration in days in the settings (``MONCOMPTE_RETENTION_*``, reasons in
docs/configuration.md) and one purge below. ``purge_expired`` runs them all (``manage.py
purge_expired``, daily: docs/operations.md). Every purge is:

- **safe**: its filter never matches a record still in use, whatever the duration says: a live
  session, an open and unexpired invitation, the documents of an undecided identity check, a
  throttle counter or an old-code try still counted by its cap, a live phone code or phone
  authentication, a phone try still counted by the phone's caps;
- **idempotent**: a second run finds nothing more to delete;
- **batched**: ``MONCOMPTE_RETENTION_BATCH_SIZE`` rows per statement, each batch in its own
  transaction, so that a big table is never locked for long and a stopped run loses nothing;
- **dry-runnable**: ``dry_run=True`` counts what would go and changes nothing.

The access journal (moncompte.audit) is not purged here: it is append-only and hash-chained
(a PostgreSQL trigger refuses UPDATE and DELETE); its purge is a separate, audited operation
(docs/operations.md, "Retention").

Gathers the purges of several apps, which is why it lives in core; nothing imports it at
start-up (only the command and the tests), so it adds no import cycle.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from moncompte.accounts.legacy import WEEK as LEGACY_COUNTING_WINDOW
from moncompte.accounts.models import AccountSession, LegacyCodeAttempt, ThrottleCounter
from moncompte.agents.models import AgentSession
from moncompte.households.models import Invitation
from moncompte.identity.models import IdentityCheck, IdentityCheckState, IdentityDocument
from moncompte.notifications.models import Message, MessageStatus, OutboxEntry
from moncompte.procedures.models import Procedure
from moncompte.telephony.models import PhoneAttempt, PhoneAuthentication, PhoneCode
from moncompte.telephony.services import DAY as PHONE_CAPS_WINDOW
from moncompte.telephony.services import HOUR as PHONE_CODE_COUNTING_WINDOW
from moncompte.verification.models import ContactChallenge
from moncompte.verification.services import DESTINATION_WINDOW as CODE_SENDING_WINDOW


@dataclass(frozen=True)
class Kind:
    """One kind of record the purge removes (``name`` is what the command prints)."""

    name: str
    setting: str
    purge: Callable[..., int]


def _days(setting: str) -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, setting))


def _batch_size() -> int:
    return settings.MONCOMPTE_RETENTION_BATCH_SIZE


def _delete_in_batches(queryset: QuerySet, *, dry_run: bool) -> int:
    if dry_run:
        return queryset.count()
    total = 0
    while True:
        with transaction.atomic():
            pks = list(queryset.order_by("pk").values_list("pk", flat=True)[: _batch_size()])
            if not pks:
                return total
            # The filter again at the delete: a row that came back into use meanwhile stays.
            queryset.filter(pk__in=pks).delete()
        total += len(pks)


# --- The queries: what each purge may delete at ``now`` (the tests read them too) ----------------


def agent_sessions_expired(now: datetime.datetime) -> QuerySet:
    """The agents' sessions ended (or dead: past their absolute limit, unseen) before the cutoff,
    as the usagers' sessions; the counter services they opened and the assisted first
    connections started from those go with them (cascade). The journal keeps who served whom."""
    cutoff = now - _days("MONCOMPTE_RETENTION_SESSION_DAYS")
    absolute = datetime.timedelta(seconds=settings.MONCOMPTE_AGENT_SESSION_ABSOLUTE_SECONDS)
    return AgentSession.objects.filter(
        Q(ended_at__lt=cutoff) | Q(ended_at__isnull=True, last_seen_at__lt=cutoff, created_at__lt=now - absolute)
    )


def sessions_expired(now: datetime.datetime) -> QuerySet:
    """Django's stored sessions past their expiry: unreadable already (the store checks the date)."""
    return Session.objects.filter(expire_date__lte=now)


def account_sessions_expired(now: datetime.datetime) -> QuerySet:
    cutoff = now - _days("MONCOMPTE_RETENTION_SESSION_DAYS")
    # A session never marked ended is dead once past its absolute limit and unseen since the cutoff.
    absolute = datetime.timedelta(seconds=settings.MONCOMPTE_SESSION_ABSOLUTE_SECONDS)
    live_keys = Session.objects.filter(expire_date__gt=now).values("session_key")
    return AccountSession.objects.filter(
        Q(ended_at__lt=cutoff) | Q(ended_at__isnull=True, last_seen_at__lt=cutoff, created_at__lt=now - absolute)
    ).exclude(session_key__in=live_keys)


def challenges_expired(now: datetime.datetime) -> QuerySet:
    # Never within the window in which the sends to one destination are counted.
    keep = max(_days("MONCOMPTE_RETENTION_CODE_DAYS"), CODE_SENDING_WINDOW)
    return ContactChallenge.objects.filter(expires_at__lt=now - keep, created_at__lt=now - keep)


def legacy_attempts_expired(now: datetime.datetime) -> QuerySet:
    # Never within the week the caps count, even if the setting were lowered below it.
    keep = max(_days("MONCOMPTE_RETENTION_LEGACY_ATTEMPT_DAYS"), LEGACY_COUNTING_WINDOW)
    return LegacyCodeAttempt.objects.filter(at__lt=now - keep)


def throttle_counters_lapsed(now: datetime.datetime) -> QuerySet:
    return ThrottleCounter.objects.filter(expires_at__lt=now - _days("MONCOMPTE_RETENTION_THROTTLE_DAYS"))


def messages_done(now: datetime.datetime) -> QuerySet:
    # A pending message is still to be sent: never.
    cutoff = now - _days("MONCOMPTE_RETENTION_MESSAGE_DAYS")
    return Message.objects.filter(status__in=(MessageStatus.SENT, MessageStatus.FAILED), created_at__lt=cutoff)


def outbox_entries_old(now: datetime.datetime) -> QuerySet:
    return OutboxEntry.objects.filter(created_at__lt=now - _days("MONCOMPTE_RETENTION_MESSAGE_DAYS"))


def invitations_closed(now: datetime.datetime) -> QuerySet:
    cutoff = now - _days("MONCOMPTE_RETENTION_INVITATION_DAYS")
    return Invitation.objects.filter(
        Q(accepted_at__lt=cutoff)
        | Q(cancelled_at__lt=cutoff)
        # Open but expired since the cutoff (cutoff < now, so an unexpired one never matches).
        | Q(accepted_at__isnull=True, cancelled_at__isnull=True, expires_at__lt=cutoff)
    )


def identity_documents_decided(now: datetime.datetime) -> QuerySet:
    cutoff = now - _days("MONCOMPTE_RETENTION_IDENTITY_DOCUMENT_DAYS")
    return IdentityDocument.objects.exclude(identity_check__state=IdentityCheckState.TO_VERIFY).filter(
        identity_check__decided_at__lt=cutoff
    )


def signup_claims_decided(now: datetime.datetime) -> QuerySet:
    cutoff = now - _days("MONCOMPTE_RETENTION_SIGNUP_CLAIM_DAYS")
    return (
        IdentityCheck.objects.exclude(state=IdentityCheckState.TO_VERIFY)
        .filter(decided_at__lt=cutoff)
        .exclude(claimed_identifier_encrypted="", claimed_identifier_digest="")
    )


def procedures_ended(now: datetime.datetime) -> QuerySet:
    """Drafts expired (their values were wiped at the expiry: moncompte.procedures.expiry) or
    abandoned that long ago, with their history (deleted with them). Never a draft in progress
    nor a submitted request, which is part of the file's history."""
    cutoff = now - _days("MONCOMPTE_RETENTION_PROCEDURE_DAYS")
    return Procedure.objects.filter(
        Q(state=Procedure.State.EXPIRED, expires_at__lt=cutoff)
        | Q(state=Procedure.State.CANCELLED, updated_at__lt=cutoff)
    )


def phone_codes_done(now: datetime.datetime) -> QuerySet:
    """Phone codes used, superseded or expired before the cutoff. Never a live code (unused, not
    superseded, unexpired), nor one within the hour the issues of a person are counted in."""
    cutoff = now - max(_days("MONCOMPTE_RETENTION_CODE_DAYS"), PHONE_CODE_COUNTING_WINDOW)
    return PhoneCode.objects.filter(
        Q(used_at__lt=cutoff) | Q(superseded_at__lt=cutoff) | Q(expires_at__lt=cutoff), created_at__lt=cutoff
    )


def phone_attempts_old(now: datetime.datetime) -> QuerySet:
    # Never within the 24 hours the phone's caps count, even if the setting were lowered below it.
    keep = max(_days("MONCOMPTE_RETENTION_PHONE_ATTEMPT_DAYS"), PHONE_CAPS_WINDOW)
    return PhoneAttempt.objects.filter(at__lt=now - keep)


def phone_authentications_done(now: datetime.datetime) -> QuerySet:
    """Redeemed or expired before the cutoff (cutoff < now: a reference still to redeem never matches)."""
    cutoff = now - _days("MONCOMPTE_RETENTION_PHONE_AUTHENTICATION_DAYS")
    return PhoneAuthentication.objects.filter(Q(redeemed_at__lt=cutoff) | Q(expires_at__lt=cutoff))


# --- The purges ----------------------------------------------------------------------------------


def _purge_with(query: Callable[[datetime.datetime], QuerySet]) -> Callable[..., int]:
    def purge(*, now: datetime.datetime, dry_run: bool = False) -> int:
        return _delete_in_batches(query(now), dry_run=dry_run)

    purge.__name__ = f"purge_{query.__name__}"
    return purge


def purge_identity_documents(*, now: datetime.datetime, dry_run: bool = False) -> int:
    """The files first, then their rows: a run stopped between the two finds the row again and
    deletes nothing twice (deleting a missing file is no error), and no file is left without a row."""
    queryset = identity_documents_decided(now)
    if dry_run:
        return queryset.count()
    total = 0
    while True:
        batch = list(queryset.order_by("pk")[: _batch_size()])
        if not batch:
            return total
        for document in batch:
            if document.file:
                document.file.storage.delete(document.file.name)
        with transaction.atomic():
            queryset.filter(pk__in=[document.pk for document in batch]).delete()
        total += len(batch)


def purge_signup_claims(*, now: datetime.datetime, dry_run: bool = False) -> int:
    """Erases the sealed claimed number (digest and ciphertext); the check and its decision stay."""
    queryset = signup_claims_decided(now)
    if dry_run:
        return queryset.count()
    total = 0
    while True:
        with transaction.atomic():
            pks = list(queryset.order_by("pk").values_list("pk", flat=True)[: _batch_size()])
            if not pks:
                return total
            queryset.filter(pk__in=pks).update(claimed_identifier_digest="", claimed_identifier_encrypted="")
        total += len(pks)


KINDS: tuple[Kind, ...] = (
    Kind("sessions", "MONCOMPTE_SESSION_ABSOLUTE_SECONDS", _purge_with(sessions_expired)),
    Kind("account_sessions", "MONCOMPTE_RETENTION_SESSION_DAYS", _purge_with(account_sessions_expired)),
    Kind("codes", "MONCOMPTE_RETENTION_CODE_DAYS", _purge_with(challenges_expired)),
    Kind("legacy_code_attempts", "MONCOMPTE_RETENTION_LEGACY_ATTEMPT_DAYS", _purge_with(legacy_attempts_expired)),
    Kind("throttle_counters", "MONCOMPTE_RETENTION_THROTTLE_DAYS", _purge_with(throttle_counters_lapsed)),
    Kind("messages", "MONCOMPTE_RETENTION_MESSAGE_DAYS", _purge_with(messages_done)),
    Kind("outbox_entries", "MONCOMPTE_RETENTION_MESSAGE_DAYS", _purge_with(outbox_entries_old)),
    Kind("invitations", "MONCOMPTE_RETENTION_INVITATION_DAYS", _purge_with(invitations_closed)),
    Kind("identity_documents", "MONCOMPTE_RETENTION_IDENTITY_DOCUMENT_DAYS", purge_identity_documents),
    Kind("signup_claims", "MONCOMPTE_RETENTION_SIGNUP_CLAIM_DAYS", purge_signup_claims),
    Kind("procedures", "MONCOMPTE_RETENTION_PROCEDURE_DAYS", _purge_with(procedures_ended)),
    # AGENTS (issue 12): the agents' sessions, with their counter services and assisted flows.
    Kind("agent_sessions", "MONCOMPTE_RETENTION_SESSION_DAYS", _purge_with(agent_sessions_expired)),
    # TELEPHONY (issue 12): the phone's codes, tries and authentications.
    Kind("phone_codes", "MONCOMPTE_RETENTION_CODE_DAYS", _purge_with(phone_codes_done)),
    Kind("phone_attempts", "MONCOMPTE_RETENTION_PHONE_ATTEMPT_DAYS", _purge_with(phone_attempts_old)),
    Kind(
        "phone_authentications",
        "MONCOMPTE_RETENTION_PHONE_AUTHENTICATION_DAYS",
        _purge_with(phone_authentications_done),
    ),
)


def purge_expired(*, now: datetime.datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Runs every purge; returns the count per kind (what would go, with ``dry_run``)."""
    now = now or timezone.now()
    return {kind.name: kind.purge(now=now, dry_run=dry_run) for kind in KINDS}
