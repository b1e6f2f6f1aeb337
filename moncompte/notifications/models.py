"""Messages sent to people (email, SMS) and the development outbox."""

import uuid

from django.db import models

from moncompte.notifications.crypto import seal, unseal


class Channel(models.TextChoices):
    EMAIL = "email", "Courriel"
    SMS = "sms", "SMS"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "En attente"
    SENT = "sent", "Envoyé"
    FAILED = "failed", "Échec"


class Message(models.Model):
    """One email or SMS to one recipient, sent by the task ``deliver_message``.

    The body is sealed (AES-GCM, ``moncompte.notifications.crypto``) because it holds one-time
    codes; it is erased once the message is sent or given up. ``last_error`` never holds the body.
    """

    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    template = models.CharField(max_length=64)
    subject = models.CharField(max_length=255, blank=True)
    body_sealed = models.BinaryField(default=b"", blank=True, editable=False)
    status = models.CharField(max_length=8, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="notification_messages"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Past this instant the message is pointless (an expired code) and is given up, not sent.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "message"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"Message {self.pk} ({self.channel}, {self.status})"

    def _aad(self) -> bytes:
        return f"message:{self.idempotency_key}".encode()

    def set_body(self, body: str) -> None:
        self.body_sealed = seal(body, aad=self._aad())

    def get_body(self) -> str:
        return unseal(self.body_sealed, aad=self._aad())

    @property
    def has_body(self) -> bool:
        return bool(self.body_sealed)

    def erase_body(self) -> None:
        self.body_sealed = b""


class OutboxEntry(models.Model):
    """What would have been sent, in development: read at /dev/messages/ (DEBUG only).

    Bodies are sealed here too, so that a development database holds no code in clear either.
    """

    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=255, blank=True)
    body_sealed = models.BinaryField(default=b"", editable=False)
    # Message-ID of an email, idempotency key of an SMS.
    reference = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "message de la boîte d'envoi de développement"
        verbose_name_plural = "messages de la boîte d'envoi de développement"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Boîte d'envoi {self.pk} ({self.channel})"

    def set_body(self, body: str) -> None:
        self.body_sealed = seal(body, aad=b"outbox")

    def get_body(self) -> str:
        return unseal(self.body_sealed, aad=b"outbox")
