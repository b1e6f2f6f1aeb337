"""The legacy 8-digit codes (web and phone) of the system before October 2021."""

import hashlib
import hmac

from django.conf import settings


def legacy_code_digest(code: str) -> str:
    return hmac.new(settings.MONCOMPTE_LEGACY_CODE_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def legacy_code_matches(code: str, digest: str) -> bool:
    return hmac.compare_digest(legacy_code_digest(code), digest)
