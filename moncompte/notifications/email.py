"""Emails go through Django's email backends (settings.EMAIL_BACKEND).

Production: ``django.core.mail.backends.smtp.EmailBackend`` with EMAIL_HOST, EMAIL_PORT, ... from
the environment. Development: ``OutboxEmailBackend`` below writes into the outbox instead.
"""

from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from moncompte.notifications.models import Channel, OutboxEntry


def message_id_domain() -> str:
    if settings.MONCOMPTE_EMAIL_MESSAGE_ID_DOMAIN:
        return settings.MONCOMPTE_EMAIL_MESSAGE_ID_DOMAIN
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "moncompte.localhost"


def email_send(*, to: str, subject: str, body: str, idempotency_key: str) -> None:
    """Send one text email; its Message-ID derives from the idempotency key, so a resend after a
    crash carries the same Message-ID and receiving systems can tell it is the same message."""
    email = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={
            "Message-ID": f"<{idempotency_key}@{message_id_domain()}>",
            "Auto-Submitted": "auto-generated",
        },
        connection=get_connection(fail_silently=False),
    )
    email.send(fail_silently=False)


class OutboxEmailBackend(BaseEmailBackend):
    """Development: each email is written to the outbox (sealed), read at /dev/messages/."""

    def send_messages(self, email_messages) -> int:
        count = 0
        for email in email_messages:
            for recipient in email.recipients():
                entry = OutboxEntry(
                    channel=Channel.EMAIL,
                    recipient=recipient,
                    subject=str(email.subject)[:255],
                    reference=str(email.extra_headers.get("Message-ID", ""))[:255],
                )
                entry.set_body(str(email.body))
                entry.save()
            count += 1
        return count
