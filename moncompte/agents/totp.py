"""The agents' second factor: TOTP (RFC 6238) through django-otp, and single-use recovery codes.

The device is ``AgentTOTPDevice`` (django-otp's ThrottlingMixin: waits of factor × 2^(n-1)
seconds after n wrong codes). A code is checked by ``django_otp.oath.TOTP`` within the device's
``tolerance`` (one step each side by default: a code that has just changed is still accepted),
and never twice: ``last_t`` keeps the step of the last code accepted, and only a later step is
taken. The caller holds the device's row lock, so two requests never both take one code.

Recovery codes are stored as keyed hashes (``settings.MONCOMPTE_AGENT_KEY``) only, and shown once
when generated. The enrolment shows the secret as text and as a QR code (an inline SVG drawn by
qrcode's own factory: no image library, no script).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.util import random_hex

from moncompte.agents.models import Agent, AgentRecoveryCode, AgentTOTPDevice

RECOVERY_CODE_COUNT = 10
# No 0/O, 1/I/L, U/V confusion: read on paper, typed back by hand.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
RECOVERY_CODE_LENGTH = 10  # about 48 bits each, behind the password and django-otp's waits
TOTP_DIGITS = 6


def normalise_code(value: str) -> str:
    """A typed activation or recovery code: upper case, spaces and dashes dropped."""
    return "".join(ch for ch in (value or "").upper() if ch not in " -\t")[:64]


def random_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def grouped(code: str, size: int) -> str:
    """``ABCDEFGHJK`` → ``ABCDE-FGHJK``: easier to read out and to copy."""
    return "-".join(code[i : i + size] for i in range(0, len(code), size))


def keyed_digest(purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for ``purpose`` with the agents' key (64 hex characters)."""
    return hmac.new(settings.MONCOMPTE_AGENT_KEY.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


# Enrolment -----------------------------------------------------------------------------------


def device_new(agent: Agent) -> AgentTOTPDevice:
    """A fresh, unconfirmed device for ``agent`` in place of any earlier one (caller's transaction)."""
    AgentTOTPDevice.objects.filter(agent=agent).delete()
    return AgentTOTPDevice.objects.create(agent=agent, key=random_hex(20), digits=TOTP_DIGITS)


def secret_base32(device: AgentTOTPDevice) -> str:
    """The secret as an authenticator app takes it when typed (base32, no padding)."""
    return base64.b32encode(binascii.unhexlify(device.key)).decode().rstrip("=")


def secret_for_display(device: AgentTOTPDevice) -> str:
    secret = secret_base32(device)
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(device: AgentTOTPDevice) -> str:
    """The ``otpauth://`` address the QR code carries (Google Authenticator's key URI format)."""
    issuer = settings.MONCOMPTE_AGENT_TOTP_ISSUER
    label = quote(f"{issuer}:{device.agent.email}")
    query = urlencode(
        {
            "secret": secret_base32(device),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(text: str) -> str:
    """``text`` as a QR code, an SVG element to put in the page (dark on a white square, so that
    it scans whatever the page's colour scheme)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, border=4)
    svg = image.to_string(encoding="unicode")
    return svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)


# Checking a code -----------------------------------------------------------------------------


def wait_seconds(device: AgentTOTPDevice) -> int:
    """Seconds before django-otp lets the device check a code again; 0 when it may now."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return 0
    locked_until = (data or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, int((locked_until - timezone.now()).total_seconds() + 0.999))


def totp_matches(device: AgentTOTPDevice, code: str) -> bool:
    """Whether ``code`` is a code of ``device`` not used yet; on success the step is recorded
    (replay guard), the drift followed and the throttle reset, saved. Counts no failure: the
    caller does that outside its transaction, so that a rollback does not forget it."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == device.digits):
        return False
    totp = TOTP(binascii.unhexlify(device.key), device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(code), tolerance=device.tolerance, min_t=device.last_t + 1):
        return False
    device.last_t = totp.t()
    device.drift = totp.drift
    device.throttle_reset(commit=False)
    device.save(update_fields=["last_t", "drift", "throttling_failure_timestamp", "throttling_failure_count"])
    return True


# Recovery codes ------------------------------------------------------------------------------


def _recovery_digest(agent_id: int, code: str) -> str:
    return keyed_digest(f"agent-recovery:{agent_id}", normalise_code(code))


def recovery_codes_new(agent: Agent) -> list[str]:
    """Ten new codes in place of the earlier ones (caller's transaction); returned for display
    once, grouped ``XXXXX-XXXXX``, never kept."""
    AgentRecoveryCode.objects.filter(agent=agent).delete()
    codes = [random_code(RECOVERY_CODE_LENGTH) for _ in range(RECOVERY_CODE_COUNT)]
    now = timezone.now()
    AgentRecoveryCode.objects.bulk_create(
        [AgentRecoveryCode(agent=agent, code_digest=_recovery_digest(agent.pk, code), created_at=now) for code in codes]
    )
    return [grouped(code, RECOVERY_CODE_LENGTH // 2) for code in codes]


def recovery_code_take(agent: Agent, code: str) -> int | None:
    """Marks ``code`` used if it is one of the agent's unused codes; returns how many remain, or
    None when it is not one. Every unused code is compared in constant time."""
    digest = _recovery_digest(agent.pk, code)
    rows = list(AgentRecoveryCode.objects.filter(agent=agent, used_at__isnull=True).order_by("id"))
    found = None
    for row in rows:
        if hmac.compare_digest(row.code_digest, digest):
            found = row
    if found is None:
        return None
    # Conditional: of two requests with one code, only one marks it.
    if not AgentRecoveryCode.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=timezone.now()):
        return None
    return len(rows) - 1


def recovery_codes_remaining(agent: Agent) -> int:
    return AgentRecoveryCode.objects.filter(agent=agent, used_at__isnull=True).count()
