"""The legacy 8-digit codes of the system before October 2021, channel by channel.

One code per file (``LegacyCredential``), tried by two channels that share its hard caps (at
most 5 wrong codes a day and 10 a week per file, whatever the channel: 10^8 codes must not be
guessable by spreading the tries):

- **the web** (the first connection, moncompte.accounts.first_connection) accepts it until the
  file's first connection retires it there (``retired_on_web_at``);
- **the phone** (the telephony API, ``legacy_code_check_by_phone``) accepts it until
  ``settings.MONCOMPTE_LEGACY_CODE_PHONE_UNTIL`` (ISO date, that day excluded), then refuses it
  for every file, whatever the web did; an agent may retire it earlier for one file
  (``retired_on_phone_at``).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from moncompte.accounts.models import LegacyCodeAttempt, LegacyCredential
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError
from moncompte.households.models import Caf, Dossier

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_WRONG_CODES_PER_DAY = 5
MAX_WRONG_CODES_PER_WEEK = 10

WRONG_CODE = "Numéro allocataire ou code confidentiel incorrect. Vérifiez votre saisie et votre Caf."
CAPPED = (
    "Trop de codes erronés ont été saisis pour ce dossier. Pour sa sécurité, la saisie est bloquée "
    "pendant quelques jours. Vous pouvez vous faire aider au 09 69 32 52 52 ou à l'accueil de votre Caf."
)
PHONE_CODE_ENDED = (
    "L'ancien code confidentiel n'est plus accepté par téléphone. Utilisez votre compte Mon Compte : "
    "numéro de sécurité sociale et mot de passe (si vous n'en avez pas encore, faites votre première "
    "connexion sur le site), ou faites-vous aider à l'accueil de votre Caf."
)
PHONE_CODE_RETIRED = (
    "Ce code confidentiel n'est plus accepté par téléphone pour ce dossier. Utilisez votre compte Mon "
    "Compte : numéro de sécurité sociale et mot de passe, ou faites-vous aider à l'accueil de votre Caf."
)


class LegacyCodeError(DomainError):
    """The old code is refused; ``code``: wrong_code, capped, phone_code_ended, phone_code_retired."""

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message, code=code, field=field)


def legacy_code_digest(code: str) -> str:
    return hmac.new(settings.MONCOMPTE_LEGACY_CODE_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def legacy_code_matches(code: str, digest: str) -> bool:
    return hmac.compare_digest(legacy_code_digest(code), digest)


def legacy_code_phone_until() -> datetime.date:
    """The first day the phone refuses old codes (MONCOMPTE_LEGACY_CODE_PHONE_UNTIL, ISO date)."""
    value = getattr(settings, "MONCOMPTE_LEGACY_CODE_PHONE_UNTIL", None)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
            raise ValueError(value)
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise ImproperlyConfigured(
            "MONCOMPTE_LEGACY_CODE_PHONE_UNTIL must be an ISO date (AAAA-MM-JJ), the first day the phone "
            "refuses old codes."
        ) from None


def legacy_code_accepted_by_phone(today: datetime.date | None = None) -> bool:
    return (today or timezone.localdate()) < legacy_code_phone_until()


def _wrong_codes(credential: LegacyCredential, since: datetime.datetime) -> int:
    return LegacyCodeAttempt.objects.filter(credential=credential, succeeded=False, at__gte=since).count()


def _capped(credential: LegacyCredential) -> bool:
    now = timezone.now()
    return (
        _wrong_codes(credential, now - datetime.timedelta(days=1)) >= MAX_WRONG_CODES_PER_DAY
        or _wrong_codes(credential, now - datetime.timedelta(days=7)) >= MAX_WRONG_CODES_PER_WEEK
    )


def legacy_code_try(*, caf: Caf, numero: str, code: str) -> tuple[LegacyCredential | None, str]:
    """Try a file's old code under its caps, for any channel: (credential, outcome).

    ``outcome``: "unknown" (no such file or no code: the credential is None), "capped", "wrong"
    or "right". Must run inside the caller's transaction: the credential's row lock serializes
    the tries on one file, so parallel tries (on the web and the phone) cannot overrun the caps.
    The caller journals and refuses.
    """
    credential = (
        LegacyCredential.objects.select_for_update()
        .select_related("dossier")
        .filter(dossier__caf=caf, dossier__numero=numero)
        .first()
    )
    if credential is None:
        return None, "unknown"
    if _capped(credential):
        return credential, "capped"
    matches = legacy_code_matches(code, credential.code_digest)
    LegacyCodeAttempt.objects.create(credential=credential, succeeded=matches)
    return credential, "right" if matches else "wrong"


def legacy_code_check_by_phone(*, actor: Actor, caf: Caf, dossier_numero: str, code: str) -> Dossier:
    """The telephony API's check of a file's old code; returns the file, or raises LegacyCodeError.

    Accepted until MONCOMPTE_LEGACY_CODE_PHONE_UNTIL whatever the web did (the first connection
    retires the code on the web only); refused from that day on, before anything is looked up.
    The file's caps are those of the web (shared attempts). Unknown files and wrong codes get
    the same answer.
    """
    if actor.channel != Channel.PHONE:
        raise ValueError("legacy_code_check_by_phone is the phone channel's check.")
    if not legacy_code_accepted_by_phone():
        journal_record(action=JournalAction.LEGACY_CODE_PHONE_FAILURE, actor=actor, detail={"reason": "ended"})
        raise LegacyCodeError(PHONE_CODE_ENDED, code="phone_code_ended")
    with transaction.atomic():
        credential, outcome = legacy_code_try(caf=caf, numero=dossier_numero, code=code)
        dossier = credential.dossier if credential is not None else None
        if outcome == "right" and credential.retired_on_phone_at is not None:
            outcome = "retired"
        if outcome == "right":
            journal_record(action=JournalAction.LEGACY_CODE_PHONE_SUCCESS, actor=actor, dossier=dossier)
        else:
            journal_record(
                action=JournalAction.LEGACY_CODE_PHONE_FAILURE, actor=actor, dossier=dossier, detail={"reason": outcome}
            )
    # Outside the block: the attempt and its journal entry are committed before refusing.
    if outcome == "capped":
        raise LegacyCodeError(CAPPED, code="capped")
    if outcome == "retired":
        raise LegacyCodeError(PHONE_CODE_RETIRED, code="phone_code_retired")
    if outcome != "right":
        raise LegacyCodeError(WRONG_CODE, code="wrong_code")
    return dossier
