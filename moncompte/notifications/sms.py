"""SMS gateways, chosen by the setting MONCOMPTE_SMS_BACKEND (a dotted path).

The HTTP protocol spoken to the operator's SMS service (docs/notifications.md):
``POST MONCOMPTE_SMS_URL`` with ``Authorization: Bearer MONCOMPTE_SMS_TOKEN`` and the JSON body
``{"to": "+33612345678", "text": "...", "idempotency_key": "<uuid>"}``; any 2xx answer means
accepted. The service must treat a repeated idempotency key as the same SMS (a worker that dies
after the send and before recording it sends again with the same key).
"""

import json
import urllib.error
import urllib.request
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from moncompte.notifications.models import Channel, OutboxEntry


class SmsDeliveryError(Exception):
    """The gateway did not accept the SMS. The message never holds the text."""


class SmsGateway(Protocol):
    def send(self, *, to: str, text: str, idempotency_key: str) -> None: ...


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect would resend the bearer token and the text elsewhere: refuse it.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HttpSmsGateway:
    def __init__(self, *, url: str | None = None, token: str | None = None, timeout: float | None = None):
        self.url = url or settings.MONCOMPTE_SMS_URL
        self.token = token if token is not None else settings.MONCOMPTE_SMS_TOKEN
        self.timeout = timeout or settings.MONCOMPTE_SMS_TIMEOUT
        if not self.url.startswith(("https://", "http://")):
            raise SmsDeliveryError("MONCOMPTE_SMS_URL must be an http(s) URL.")

    def send(self, *, to: str, text: str, idempotency_key: str) -> None:
        payload = json.dumps({"to": to, "text": text, "idempotency_key": idempotency_key}).encode()
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": idempotency_key,
            },
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            exc.close()
            raise SmsDeliveryError(f"SMS gateway answered HTTP {exc.code}.") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SmsDeliveryError(f"SMS gateway unreachable ({type(reason).__name__}).") from None
        if not 200 <= status < 300:
            raise SmsDeliveryError(f"SMS gateway answered HTTP {status}.")


class OutboxSmsGateway:
    """Development: the SMS is written to the outbox (sealed), read at /dev/messages/."""

    def send(self, *, to: str, text: str, idempotency_key: str) -> None:
        entry = OutboxEntry(channel=Channel.SMS, recipient=to, reference=idempotency_key)
        entry.set_body(text)
        entry.save()


def sms_gateway() -> SmsGateway:
    return import_string(settings.MONCOMPTE_SMS_BACKEND)()
