"""The legacy 8-digit codes of the system before October 2021, channel by channel.

One code per file (``LegacyCredential``), tried by two channels:

- **the web** (the first connection, moncompte.accounts.first_connection) accepts it until the
  file's first connection retires it there (``retired_on_web_at``);
- **the phone** (the telephony API, ``legacy_code_check_by_phone``) accepts it until
  ``settings.MONCOMPTE_LEGACY_CODE_PHONE_UNTIL`` (ISO date, that day excluded), then refuses it
  for every file, whatever the web did; an agent may retire it earlier for one file
  (``retired_on_phone_at``).

Every try goes through ``legacy_code_try``, which does **the same work whether the numéro is a
file's or not**, up to the comparison of the code: the same keyed hashes, the same SQL statements
(a lock on the numéro's key, the credential's lookup, one count, one attempt row; the caller adds
one journal entry), a comparison against a dummy digest when there is no code to compare with.
The caps are counted on ``LegacyCodeAttempt`` rows keyed by a keyed hash of (Caf, numéro), so an
unknown numéro is capped and slowed exactly like a known one and answers the same.
The telephony API (moncompte.telephony.services) folds the same reads and writes into its own
statements, along with its own caps, and has ``legacy_code_phone_try`` apply the same rules to
what it read (the comparison, the file's wait, the outcome): the same keyed hashes, and again
the same statements for an unknown numéro.

The caps (docs/first-connection.md has the arithmetic):

- **per client and file** (the client's address, an IPv6 /64): at most
  ``MAX_WRONG_CODES_PER_CLIENT_PER_DAY`` wrong codes in 24 hours and
  ``MAX_WRONG_CODES_PER_CLIENT_PER_WEEK`` in 7 days; then that client only is refused, until its
  oldest failure leaves the window. Strangers never use up the allocataire's own tries.
- **per file, every client and both channels together**: ``FREE_WRONG_CODES_PER_FILE_PER_DAY``
  wrong codes in 24 hours are free; after that every try on the file waits after its last wrong
  code, 1 minute doubling to at most ``FILE_WAIT_MAX_SECONDS`` (1 hour). It only slows, never
  blocks: whatever strangers did, a try is possible at most an hour after the last wrong code.
  It is the guess budget: at most 34 wrong codes in any 24 hours (12,410 a year at most, 24 a
  day once an attack is sustained), odds below 1.3 in 10,000 a year of finding a file's code.

A refused try (capped or waiting) does not look at the code's result and does not count as a
wrong code: hammering during a wait does not lengthen it (the client's address throttle of the
caller slows that).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import ipaddress
import math
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from moncompte.accounts.models import LegacyCodeAttempt, LegacyCredential
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError
from moncompte.core.waits import wait_text
from moncompte.households.models import Caf, Dossier

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Per client and file: a hard cap, on that client only.
MAX_WRONG_CODES_PER_CLIENT_PER_DAY = 5
MAX_WRONG_CODES_PER_CLIENT_PER_WEEK = 10
# Per file (every client, both channels): free wrong codes a day, then growing, bounded waits.
FREE_WRONG_CODES_PER_FILE_PER_DAY = 5
FILE_WAIT_FIRST_SECONDS = 60
FILE_WAIT_MAX_SECONDS = 3600

DAY = datetime.timedelta(days=1)
WEEK = datetime.timedelta(days=7)
# Compared with when there is no code to compare with: no code's digest can equal it.
_NO_DIGEST = "0" * 64
# PostgreSQL advisory locks on two int4 keys (a key space apart from the journal's bigint keys).
_LOCK_CLASS = 7452

WRONG_CODE = "Numéro allocataire ou code confidentiel incorrect. Vérifiez votre saisie et votre Caf."
CAPPED = (
    "Trop de codes erronés ont été saisis pour ce numéro allocataire. Pour la sécurité du dossier, "
    "réessayez dans {wait}. Vous pouvez aussi vous faire aider au 09 69 32 52 52 ou à l'accueil de votre Caf."
)
PHONE_CAPPED = (
    "Trop de codes erronés ont été saisis pour ce numéro allocataire. Réessayez dans {wait}, ou "
    "faites-vous aider à l'accueil de votre Caf."
)
# After the end date the caller is told how to get the phone code that replaces the old one
# (moncompte.telephony: NIR + a one-time code from Mon Compte or by SMS).
HOW_TO_GET_A_PHONE_CODE = (
    "Identifiez-vous avec votre numéro de sécurité sociale et un code téléphone à 6 chiffres : "
    "obtenez-le dans Mon Compte, rubrique « Code téléphone », ou recevez-le par SMS sur votre mobile "
    "validé depuis cette même rubrique. Si vous n'avez pas encore de compte, faites votre première "
    "connexion sur le site, ou faites-vous aider à l'accueil de votre Caf."
)
PHONE_CODE_ENDED = "L'ancien code confidentiel n'est plus accepté par téléphone. " + HOW_TO_GET_A_PHONE_CODE
PHONE_CODE_RETIRED = "Ce code confidentiel n'est plus accepté par téléphone pour ce dossier. " + HOW_TO_GET_A_PHONE_CODE


class LegacyCodeError(DomainError):
    """The old code is refused; ``code``: wrong_code, capped (status 429, ``wait_seconds``),
    phone_code_ended, phone_code_retired."""

    def __init__(self, message: str, *, code: str, field: str | None = None, wait_seconds: int = 0):
        super().__init__(message, code=code, field=field)
        self.wait_seconds = wait_seconds
        if code == "capped":
            self.status = 429


def _keyed(value: str) -> str:
    return hmac.new(settings.MONCOMPTE_LEGACY_CODE_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def legacy_code_digest(code: str) -> str:
    return _keyed(code)


def legacy_code_matches(code: str, digest: str) -> bool:
    return hmac.compare_digest(legacy_code_digest(code), digest)


def legacy_file_key(caf: Caf, numero: str) -> str:
    """The keyed hash that the attempts on (Caf, numéro) are counted on, a file or not.

    (Codes are 8 digits: ``file|…`` is never one, so no code digest equals a file key.)
    Migration accounts.0007 writes the same value out."""
    return legacy_file_key_of(caf.code, numero)


def legacy_file_key_of(caf_code: str, numero: str) -> str:
    """``legacy_file_key`` from the Caf's number, before the Caf is read (the telephony API)."""
    return _keyed(f"file|{caf_code}|{numero}")


def legacy_client_key(address: str | None) -> str:
    """The keyed hash of the client an attempt is counted on: its address, or the /64 of an IPv6
    address (one subscriber gets a whole /64 and can change addresses within it at will)."""
    value = address or ""
    try:
        parsed = ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        if parsed.version == 6:
            value = str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return _keyed(f"client|{value}")


def legacy_code_phone_until() -> datetime.date:
    """The first day the phone refuses old codes (MONCOMPTE_LEGACY_CODE_PHONE_UNTIL, ISO date)."""
    value = getattr(settings, "MONCOMPTE_LEGACY_CODE_PHONE_UNTIL", None)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value
    return _iso_date(value) if isinstance(value, str) else _iso_date(None)


@functools.lru_cache(maxsize=8)
def _iso_date(value: str | None) -> datetime.date:
    # Cached by the setting's text: not parsed again on every phone call (a changed setting is
    # another key; an error is not cached).
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


@dataclass(frozen=True)
class LegacyTry:
    """What ``legacy_code_try`` found. ``outcome``: a ``LegacyCodeAttempt.Outcome`` (``right``
    only for a file's own code); ``credential`` is None for an unknown numéro or a file without
    code; ``wait_seconds`` and ``reason`` (``client``: this client's cap, ``file``: the file's
    wait) for a refused try."""

    credential: LegacyCredential | None
    outcome: str
    wait_seconds: int = 0
    reason: str = ""

    @property
    def dossier(self) -> Dossier | None:
        return self.credential.dossier if self.credential is not None else None


def legacy_lock(file_key: str) -> tuple[int, int]:
    """The PostgreSQL advisory lock (two int4 keys) that serializes the tries on one numéro."""
    return _LOCK_CLASS, int.from_bytes(bytes.fromhex(file_key[:8]), "big", signed=True)


def _lock(file_key: str) -> None:
    """Serialize the tries on one numéro, whether it is a file's or not (the same statement for
    both): the count and the new row cannot be overrun by parallel tries on either channel. On
    SQLite the IMMEDIATE transactions already serialize every writer."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(legacy_lock(file_key)))


def _file_wait(wrong_today: int) -> int:
    """Seconds a try on a file must come after its last wrong code, given its wrong codes of the
    last 24 hours: none for the free ones, then 1 minute doubling, at most FILE_WAIT_MAX_SECONDS."""
    if wrong_today <= FREE_WRONG_CODES_PER_FILE_PER_DAY:
        return 0
    doublings = min(wrong_today - FREE_WRONG_CODES_PER_FILE_PER_DAY - 1, 30)
    return min(FILE_WAIT_FIRST_SECONDS * 2**doublings, FILE_WAIT_MAX_SECONDS)


def _refusal(*, file_key: str, client_key: str, now: datetime.datetime) -> tuple[int, str]:
    """(seconds to wait, "client" or "file") if the try must be refused now; (0, "") otherwise.

    One statement: the wrong codes of the last week on this numéro (at most 7 × 34, the
    ceiling's own bound), counted here for the file and for this client. (Six filtered
    aggregates in SQL cost more to build with the ORM than these few rows to read.)"""
    wrong = list(
        LegacyCodeAttempt.objects.filter(file_key=file_key, outcome=LegacyCodeAttempt.Outcome.WRONG, at__gt=now - WEEK)
        .order_by()
        .values_list("client_key", "at")
    )
    return _refusal_of(wrong, client_key=client_key, now=now)


def _refusal_of(
    wrong: list[tuple[str, datetime.datetime]], *, client_key: str, now: datetime.datetime
) -> tuple[int, str]:
    """``_refusal`` on the wrong codes of the week already read, (client key, time) each."""
    today = [(client, at) for client, at in wrong if at > now - DAY]
    ends: list[tuple[datetime.datetime, str]] = []
    if client_key:  # none on the phone: its caps per calling line are moncompte.telephony's
        mine_today = [at for client, at in today if client == client_key]
        mine_week = [at for client, at in wrong if client == client_key]
        if len(mine_today) >= MAX_WRONG_CODES_PER_CLIENT_PER_DAY:
            ends.append((min(mine_today) + DAY, "client"))
        if len(mine_week) >= MAX_WRONG_CODES_PER_CLIENT_PER_WEEK:
            ends.append((min(mine_week) + WEEK, "client"))
    wait = _file_wait(len(today))
    if wait:
        ends.append((max(at for _, at in today) + datetime.timedelta(seconds=wait), "file"))
    end, reason = max(ends, default=(now, ""))
    seconds = math.ceil((end - now).total_seconds())
    return (seconds, reason) if seconds > 0 else (0, "")


def _outcome(*, credential: LegacyCredential | None, matches: bool, refused: bool) -> str:
    if refused:
        return LegacyCodeAttempt.Outcome.REFUSED
    if matches and credential is not None:
        return LegacyCodeAttempt.Outcome.RIGHT
    return LegacyCodeAttempt.Outcome.WRONG


def legacy_code_try(
    *, caf: Caf, numero: str, code: str, channel: str, client_address: str | None, refused: bool = False
) -> LegacyTry:
    """Try the old code of (Caf, numéro) under the caps, for any channel, and record the try.

    Must run inside the caller's transaction, which journals the try and commits it before
    refusing (a refusal leaves its trace). The work is the same for an unknown numéro, a file
    without code, a wrong code and a refused try: only the comparison's result differs. The
    phone has no client key (``client_address`` is ignored there); the file's caps are shared.
    ``refused``: the caller's own caps refuse the try (the phone's per line and per file,
    moncompte.telephony): recorded as refused, never as a wrong code, whatever the comparison.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("legacy_code_try runs inside the caller's transaction.")
    now = timezone.now()
    file_key = legacy_file_key(caf, numero)
    client_key = "" if channel == Channel.PHONE else legacy_client_key(client_address)
    _lock(file_key)
    credential = (
        LegacyCredential.objects.select_related("dossier")
        .filter(dossier__caf=caf, dossier__numero=numero)
        .order_by("pk")
        .first()
    )
    wait, reason = _refusal(file_key=file_key, client_key=client_key, now=now)
    # Always compared, even when refused or without a file: the same keyed hash every time.
    matches = legacy_code_matches(code, credential.code_digest if credential is not None else _NO_DIGEST)
    outcome = _outcome(credential=credential, matches=matches, refused=bool(wait or refused))
    LegacyCodeAttempt.objects.create(file_key=file_key, client_key=client_key, channel=channel, outcome=outcome, at=now)
    return LegacyTry(credential=credential, outcome=outcome, wait_seconds=wait, reason=reason)


def legacy_code_phone_try(
    *,
    file_key: str,
    credential: LegacyCredential | None,
    code: str,
    wrong: list[tuple[str, datetime.datetime]],
    refused: bool,
    now: datetime.datetime,
) -> tuple[LegacyTry, LegacyCodeAttempt]:
    """``legacy_code_try`` for the telephony API, which reads and writes in its own statements
    along with its own caps (moncompte.telephony.services.phone_authenticate_legacy): under the
    file's lock (``legacy_lock(file_key)``), it read the credential of (Caf, numéro) or None and
    the file's wrong codes of the last ``WEEK`` on both channels, (client key, time) each.

    The same comparison against the code or the dummy digest, the same file's wait and the same
    outcome as ``legacy_code_try`` on the phone; returns the try and its ``LegacyCodeAttempt``,
    not saved yet: the caller inserts it in the same transaction."""
    wait, reason = _refusal_of(wrong, client_key="", now=now)
    # Always compared, even when refused or without a file: the same keyed hash every time.
    matches = legacy_code_matches(code, credential.code_digest if credential is not None else _NO_DIGEST)
    outcome = _outcome(credential=credential, matches=matches, refused=bool(wait or refused))
    row = LegacyCodeAttempt(file_key=file_key, client_key="", channel=Channel.PHONE, outcome=outcome, at=now)
    return LegacyTry(credential=credential, outcome=outcome, wait_seconds=wait, reason=reason), row


def legacy_code_phone_reason(attempt: LegacyTry) -> str:
    """Why the phone refuses ``attempt`` ("capped", "unknown", "wrong", "retired"), or "" when
    the file's old code opens it. The telephony API (moncompte.telephony) asks the same."""
    if attempt.outcome == LegacyCodeAttempt.Outcome.REFUSED:
        return "capped"
    if attempt.outcome == LegacyCodeAttempt.Outcome.WRONG:
        return "unknown" if attempt.dossier is None else "wrong"
    if attempt.credential.retired_on_phone_at is not None:
        return "retired"
    return ""


def legacy_code_phone_error(reason: str, attempt: LegacyTry) -> LegacyCodeError:
    """The refusal the phone gives for ``reason``: unknown files and wrong codes alike."""
    if reason == "capped":
        return LegacyCodeError(
            PHONE_CAPPED.format(wait=wait_text(attempt.wait_seconds)), code="capped", wait_seconds=attempt.wait_seconds
        )
    if reason == "retired":
        return LegacyCodeError(PHONE_CODE_RETIRED, code="phone_code_retired")
    return LegacyCodeError(WRONG_CODE, code="wrong_code")


def legacy_code_check_by_phone(*, actor: Actor, caf: Caf, dossier_numero: str, code: str) -> Dossier:
    """The phone's check of a file's old code; returns the file, or raises LegacyCodeError.

    Accepted until MONCOMPTE_LEGACY_CODE_PHONE_UNTIL whatever the web did (the first connection
    retires the code on the web only); refused from that day on, before anything is looked up.
    The file's caps are those of the web (the same attempts, the same per-file waits). Unknown
    files and wrong codes get the same answer, and so do capped ones. The telephony API
    (moncompte.telephony.services.phone_authenticate_legacy) makes the same check with the
    phone's own hard caps per calling line and per file on top.
    """
    if actor.channel != Channel.PHONE:
        raise ValueError("legacy_code_check_by_phone is the phone channel's check.")
    if not legacy_code_accepted_by_phone():
        journal_record(action=JournalAction.LEGACY_CODE_PHONE_FAILURE, actor=actor, detail={"reason": "ended"})
        raise LegacyCodeError(PHONE_CODE_ENDED, code="phone_code_ended")
    with transaction.atomic():
        attempt = legacy_code_try(
            caf=caf, numero=dossier_numero, code=code, channel=Channel.PHONE, client_address=actor.client_address
        )
        dossier = attempt.dossier
        reason = legacy_code_phone_reason(attempt)
        if reason:
            journal_record(
                action=JournalAction.LEGACY_CODE_PHONE_FAILURE, actor=actor, dossier=dossier, detail={"reason": reason}
            )
        else:
            journal_record(action=JournalAction.LEGACY_CODE_PHONE_SUCCESS, actor=actor, dossier=dossier)
    # Outside the block: the attempt and its journal entry are committed before refusing.
    if reason:
        raise legacy_code_phone_error(reason, attempt)
    return dossier
