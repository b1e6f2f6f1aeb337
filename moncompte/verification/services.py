"""One-time codes: issue, resend, check.

A code is 6 digits from ``secrets``, valid 10 minutes, 5 tries, single use; only its keyed hash
is stored. It is sent through ``message_send`` in the same transaction as the challenge, so a
code exists in the database if and only if its message will be sent.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from moncompte.core.actors import ContactChannel
from moncompte.core.errors import DomainError
from moncompte.core.waits import wait_text  # the one wait text (older callers import it from here)
from moncompte.notifications.services import message_channel_for, message_send
from moncompte.verification.contacts import normalize_email, parse_mobile
from moncompte.verification.models import ContactChallenge, Purpose

CODE_DIGITS = 6
DESTINATION_WINDOW = timedelta(hours=1)

# The message each purpose sends.
_TEMPLATE_OF_PURPOSE = {
    Purpose.CONTACT_VALIDATION: "contact_code",
    Purpose.FIRST_CONNECTION: "contact_code",
    Purpose.SIGNUP: "contact_code",
    Purpose.CONTACT_CHANGE: "contact_code",
    Purpose.PASSWORD_RESET: "reset_code",
    Purpose.SIGNIN_UNLOCK: "unlock_code",
}


def _now() -> datetime:
    return timezone.now()


def new_flow_ref() -> str:
    """A random reference for a web flow to keep in its session (43 characters)."""
    return secrets.token_urlsafe(32)


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _digest(*, flow_ref: str, purpose: str, code: str) -> str:
    message = f"{purpose}|{flow_ref}|{code}".encode()
    return hmac.new(settings.MONCOMPTE_CODE_KEY.encode(), message, hashlib.sha256).hexdigest()


def normalize_destination(*, channel: str, destination: str) -> str:
    """The stored form of a destination; ValueError (French message) if it is not valid."""
    if channel == ContactChannel.EMAIL:
        return normalize_email(destination)
    if channel == ContactChannel.PHONE:
        return parse_mobile(destination)
    raise ValueError(f"Unknown channel {channel!r}.")


def _resend_delay(sends: int) -> int:
    delays = settings.MONCOMPTE_CODE_RESEND_DELAYS
    return int(delays[min(max(sends, 1), len(delays)) - 1])


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds() + 0.999))


class CodeSendRefused(DomainError):
    """No code is sent now; ``wait_seconds`` tells when one may be, ``message`` says it in French."""

    code = "code_send_refused"
    status = 429

    def __init__(self, wait_seconds: int, message: str, *, field: str | None = None):
        super().__init__(message, field=field)
        self.wait_seconds = wait_seconds


def challenge_current(*, flow_ref: str, purpose: str, lock: bool = False) -> ContactChallenge | None:
    """The live challenge of a flow for a purpose (the latest one not superseded), if any."""
    queryset = ContactChallenge.objects.filter(flow_ref=flow_ref, purpose=purpose, superseded_at__isnull=True)
    if lock:
        queryset = queryset.select_for_update()
    return queryset.order_by("-created_at", "-id").first()


def _check_destination_rate(destination: str, now: datetime) -> None:
    """At most N codes an hour to one address or number, whatever the flows (no SMS bombing)."""
    recent = ContactChallenge.objects.filter(destination=destination, created_at__gt=now - DESTINATION_WINDOW)
    limit = settings.MONCOMPTE_CODE_MAX_SENDS_PER_DESTINATION_PER_HOUR
    if recent.count() >= limit:
        oldest = recent.order_by("created_at").values_list("created_at", flat=True)[
            recent.count() - limit
        ]  # the send whose leaving the window frees a place
        wait = _seconds_until(oldest + DESTINATION_WINDOW, now)
        raise CodeSendRefused(
            wait,
            "Trop de codes ont été envoyés à ce destinataire. "
            f"Vous pourrez en demander un nouveau dans {wait_text(wait)}.",
        )


def _create_and_send(
    *, purpose: str, channel: str, destination: str, flow_ref: str, account, sends: int, now: datetime
) -> ContactChallenge:
    code = _new_code()
    ttl = settings.MONCOMPTE_CODE_TTL_SECONDS
    challenge = ContactChallenge.objects.create(
        purpose=purpose,
        channel=channel,
        destination=destination,
        code_digest=_digest(flow_ref=flow_ref, purpose=purpose, code=code),
        flow_ref=flow_ref,
        account=account,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
        sends=sends,
        next_send_at=now + timedelta(seconds=_resend_delay(sends)),
    )
    challenge.message = message_send(
        channel=message_channel_for(channel),
        recipient=destination,
        template=_TEMPLATE_OF_PURPOSE[purpose],
        context={"code": code, "minutes": ttl // 60},
        account=account,
        expires_at=challenge.expires_at,
    )
    challenge.save(update_fields=["message"])
    return challenge


def challenge_issue(*, purpose: str, channel: str, destination: str, flow_ref: str, account=None) -> ContactChallenge:
    """Send a new code to ``destination`` and return its challenge.

    Earlier unconsumed challenges of the same flow and purpose die. Raises ValueError (French
    message) for an invalid destination, and CodeSendRefused when the same destination of the same
    flow got a code too recently (use ``challenge_resend``) or got too many codes this hour.
    """
    if purpose not in Purpose.values or channel not in ContactChannel.values:
        raise ValueError("Unknown purpose or channel.")
    if not flow_ref or len(flow_ref) > 64:
        raise ValueError("flow_ref must be a non-empty reference of at most 64 characters.")
    destination = normalize_destination(channel=channel, destination=destination)
    with transaction.atomic():
        now = _now()
        previous = challenge_current(flow_ref=flow_ref, purpose=purpose, lock=True)
        same = previous is not None and previous.channel == channel and previous.destination == destination
        if same and previous.consumed_at is None and now < previous.next_send_at:
            wait = _seconds_until(previous.next_send_at, now)
            raise CodeSendRefused(
                wait, f"Un code vient de vous être envoyé. Vous pourrez en demander un nouveau dans {wait_text(wait)}."
            )
        _check_destination_rate(destination, now)
        ContactChallenge.objects.filter(
            flow_ref=flow_ref, purpose=purpose, superseded_at__isnull=True, consumed_at__isnull=True
        ).update(superseded_at=now)
        return _create_and_send(
            purpose=purpose,
            channel=channel,
            destination=destination,
            flow_ref=flow_ref,
            account=account,
            sends=previous.sends + 1 if same else 1,
            now=now,
        )


@dataclass(frozen=True)
class ResendResult:
    sent: bool
    challenge: ContactChallenge | None
    wait_seconds: int = 0
    message: str = ""


def challenge_resend(*, challenge: ContactChallenge) -> ResendResult:
    """A new code for the same flow, purpose and destination; the old code dies.

    Allowed only once the wait after the previous send is over: 30 s, then 60 s, 120 s, 300 s,
    600 s, then 900 s each time. Refused: ``sent`` is False and ``wait_seconds`` says how long.
    """
    with transaction.atomic():
        now = _now()
        current = challenge_current(flow_ref=challenge.flow_ref, purpose=challenge.purpose, lock=True)
        if current is None or current.consumed_at is not None:
            return ResendResult(
                sent=False,
                challenge=current,
                message="Ce code a déjà été utilisé : aucun nouveau code n'est nécessaire.",
            )
        if now < current.next_send_at:
            wait = _seconds_until(current.next_send_at, now)
            return ResendResult(
                sent=False,
                challenge=current,
                wait_seconds=wait,
                message=f"Vous pourrez demander un nouveau code dans {wait_text(wait)}.",
            )
        try:
            _check_destination_rate(current.destination, now)
        except CodeSendRefused as refused:
            return ResendResult(
                sent=False, challenge=current, wait_seconds=refused.wait_seconds, message=refused.message
            )
        current.superseded_at = now
        current.save(update_fields=["superseded_at"])
        new = _create_and_send(
            purpose=current.purpose,
            channel=current.channel,
            destination=current.destination,
            flow_ref=current.flow_ref,
            account=current.account,
            sends=current.sends + 1,
            now=now,
        )
        return ResendResult(sent=True, challenge=new, message="Un nouveau code vous a été envoyé.")


class CheckOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    USED = "used"
    NONE = "none"


@dataclass(frozen=True)
class CheckResult:
    outcome: CheckOutcome
    remaining_tries: int = 0
    challenge: ContactChallenge | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == CheckOutcome.OK

    @property
    def message(self) -> str:
        match self.outcome:
            case CheckOutcome.OK:
                return "Le code est validé."
            case CheckOutcome.WRONG:
                tries = self.remaining_tries
                return f"Le code saisi est incorrect. Il vous reste {tries} essai{'s' if tries > 1 else ''}."
            case CheckOutcome.EXPIRED:
                return "Ce code a expiré. Demandez un nouveau code."
            case CheckOutcome.EXHAUSTED:
                return (
                    f"Vous avez saisi {settings.MONCOMPTE_CODE_MAX_ATTEMPTS} codes incorrects. "
                    "Demandez un nouveau code."
                )
            case CheckOutcome.USED:
                return "Ce code a déjà été utilisé."
            case _:
                return "Aucun code n'est en attente. Demandez un nouveau code."


def challenge_check(*, flow_ref: str, purpose: str, code: str) -> CheckResult:
    """Check a code typed by the person against the live challenge of the flow.

    Single use: of several concurrent checks with the right code, exactly one gets ``ok``.
    Every wrong code costs a try, whatever its shape; after the last one a new code is needed.
    """
    typed = "".join((code or "").split())
    with transaction.atomic():
        challenge = challenge_current(flow_ref=flow_ref, purpose=purpose, lock=True)
        if challenge is None:
            return CheckResult(CheckOutcome.NONE)
        now = _now()
        max_attempts = settings.MONCOMPTE_CODE_MAX_ATTEMPTS
        if challenge.consumed_at is not None:
            return CheckResult(CheckOutcome.USED, challenge=challenge)
        if challenge.attempts >= max_attempts:
            return CheckResult(CheckOutcome.EXHAUSTED, challenge=challenge)
        if now >= challenge.expires_at:
            return CheckResult(CheckOutcome.EXPIRED, challenge=challenge)
        expected = challenge.code_digest
        given = _digest(flow_ref=challenge.flow_ref, purpose=challenge.purpose, code=typed)
        if hmac.compare_digest(expected, given):
            # Conditional update: even without row locks (SQLite), only one check consumes it.
            consumed = ContactChallenge.objects.filter(pk=challenge.pk, consumed_at__isnull=True).update(
                consumed_at=now
            )
            if not consumed:
                return CheckResult(CheckOutcome.USED, challenge=challenge)
            challenge.consumed_at = now
            return CheckResult(CheckOutcome.OK, remaining_tries=max_attempts - challenge.attempts, challenge=challenge)
        challenge.attempts += 1
        challenge.save(update_fields=["attempts"])
        remaining = max_attempts - challenge.attempts
        if remaining <= 0:
            return CheckResult(CheckOutcome.EXHAUSTED, challenge=challenge)
        return CheckResult(CheckOutcome.WRONG, remaining_tries=remaining, challenge=challenge)


def challenge_decoy(*, purpose: str, channel: str, flow_ref: str) -> ContactChallenge:
    """A challenge that answers like a real one and that no code matches; nothing is sent.

    For flows that must not tell whether a code went out (an unknown identifier, no contact, a
    destination over its cap): the person's next steps behave the same either way.
    """
    now = _now()
    return ContactChallenge.objects.create(
        purpose=purpose,
        channel=channel,
        destination="",
        code_digest=secrets.token_hex(32),
        flow_ref=flow_ref,
        account=None,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.MONCOMPTE_CODE_TTL_SECONDS),
        next_send_at=now + timedelta(seconds=int(settings.MONCOMPTE_CODE_RESEND_DELAYS[0])),
    )
