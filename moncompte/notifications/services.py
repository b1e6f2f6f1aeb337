"""Sending emails and SMS: ``message_send`` is the one way in."""

import re
from datetime import datetime

from django.db import transaction

from moncompte.core.actors import ContactChannel
from moncompte.notifications.models import Channel, Message
from moncompte.notifications.rendering import message_render
from moncompte.notifications.tasks import deliver_message

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


_MESSAGE_CHANNEL = {ContactChannel.EMAIL: Channel.EMAIL, ContactChannel.PHONE: Channel.SMS}


def message_channel_for(contact_channel: ContactChannel | str) -> Channel:
    """How a message reaches a contact: an email to an address, an SMS to a mobile phone."""
    return _MESSAGE_CHANNEL[ContactChannel(contact_channel)]


def _check_recipient(channel: str, recipient: str) -> None:
    if channel == Channel.SMS and not _E164.match(recipient):
        raise ValueError("An SMS recipient is an E.164 number (+33612345678).")
    if channel == Channel.EMAIL and (recipient.count("@") != 1 or any(c in recipient for c in "\r\n<>,; ")):
        raise ValueError("An email recipient is one plain address.")


def message_send(
    *,
    channel: str,
    recipient: str,
    template: str,
    context: dict,
    account=None,
    expires_at: datetime | None = None,
) -> Message:
    """Render a French message, store it sealed and enqueue its sending, in one transaction.

    With the database task backend, the task row is written in the same transaction as the
    message: if the caller's transaction rolls back, neither exists and nothing is sent; once it
    commits, a worker sends it. ``expires_at``: past it the message is given up rather than sent
    (a one-time code that has expired).
    """
    if channel not in Channel.values:
        raise ValueError(f"Unknown channel {channel!r}.")
    _check_recipient(channel, recipient)
    rendered = message_render(channel=channel, template=template, context=context)
    with transaction.atomic():
        message = Message(
            channel=channel,
            recipient=recipient,
            template=template,
            subject=rendered.subject,
            account=account,
            expires_at=expires_at,
        )
        message.set_body(rendered.body)
        message.save()
        deliver_message.enqueue(message.pk)
    return message
