"""The sending task. Enqueued by ``message_send`` in the caller's transaction."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from moncompte.logging import redact
from moncompte.notifications.crypto import UnsealError
from moncompte.notifications.email import email_send
from moncompte.notifications.models import Channel, Message, MessageStatus
from moncompte.notifications.sms import sms_gateway

logger = logging.getLogger(__name__)


class MessageDeliveryError(Exception):
    """Raised by the task after a failed attempt (already recorded), so the task shows as failed."""


def _describe(exc: BaseException, body: str) -> str:
    """What went wrong, without the body or anything code-like from it."""
    text = f"{type(exc).__name__}: {exc}"
    if body:
        text = text.replace(body, "[corps masqué]")
        for word in body.split():
            if len(word) >= 4 and any(char.isdigit() for char in word):
                text = text.replace(word.strip(".,;:()"), "[masqué]")
    return redact(text)[:500]


def _retry_delay(attempts: int) -> int:
    delays = settings.MONCOMPTE_MESSAGE_RETRY_DELAYS
    return int(delays[min(attempts, len(delays)) - 1])


def _send(message: Message, body: str) -> None:
    key = str(message.idempotency_key)
    if message.channel == Channel.EMAIL:
        email_send(to=message.recipient, subject=message.subject, body=body, idempotency_key=key)
    elif message.channel == Channel.SMS:
        sms_gateway().send(to=message.recipient, text=body, idempotency_key=key)
    else:
        raise ValueError(f"Unknown channel {message.channel!r}.")


def _attempt(message_id: int) -> tuple[str, str]:
    """One delivery attempt under the row lock: (status, error of this attempt or "")."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            return "missing", ""
        if message.status != MessageStatus.PENDING:
            # Already sent (a task that runs twice sends nothing twice) or given up.
            return message.status, ""
        now = timezone.now()
        if message.expires_at is not None and now >= message.expires_at:
            message.status = MessageStatus.FAILED
            message.last_error = "Expiré avant d'avoir pu être envoyé."
            message.erase_body()
            message.save(update_fields=["status", "last_error", "body_sealed"])
            return message.status, ""

        message.attempts += 1
        message.last_attempt_at = now
        body = ""
        try:
            body = message.get_body()
            # A savepoint: an outbox write that fails is undone alone, the bookkeeping stays.
            with transaction.atomic():
                _send(message, body)
        except Exception as exc:
            message.last_error = _describe(exc, body)
            if isinstance(exc, UnsealError) or message.attempts >= settings.MONCOMPTE_MESSAGE_MAX_ATTEMPTS:
                message.status = MessageStatus.FAILED
                message.erase_body()
            else:
                backend = deliver_message.get_backend()
                if backend.supports_defer:
                    # Written in this transaction, like the failure it answers.
                    run_after = now + timedelta(seconds=_retry_delay(message.attempts))
                    deliver_message.using(run_after=run_after).enqueue(message.pk)
            message.save(update_fields=["attempts", "last_attempt_at", "last_error", "status", "body_sealed"])
            return message.status, message.last_error

        message.status = MessageStatus.SENT
        message.sent_at = timezone.now()
        message.last_error = ""
        message.erase_body()
        message.save(update_fields=["attempts", "last_attempt_at", "last_error", "status", "sent_at", "body_sealed"])
        return message.status, ""


@task()
def deliver_message(message_id: int) -> str:
    """Send one message at most once; on failure record it, schedule a retry, and raise."""
    status, error = _attempt(message_id)
    if error:
        logger.warning("Message %s not delivered (%s): %s", message_id, status, error)
        raise MessageDeliveryError(f"Message {message_id} not delivered ({status}): {error}")
    return status
