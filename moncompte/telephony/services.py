"""The phone channel's rules: the phone codes, the phone authentications and their hard caps.

A caller is identified in one of two ways (docs/telephony.md):

- **the old code**, until ``MONCOMPTE_LEGACY_CODE_PHONE_UNTIL``: numéro allocataire + Caf + the
  file's old 8-digit code, whether or not the file's first connection was done on the web
  (moncompte.accounts.legacy: the same attempts and per-file waits as the web); the person
  identified is the file's responsible person. From the end date on it is refused before
  anything is looked up, with the way to get a phone code;
- **the phone code**: NIR + the person's live one-time 6-digit code (``phone_code_issue``: shown
  in Mon Compte or sent by SMS to the verified mobile; 30 minutes, single use, the next one
  supersedes it).

**Hard caps** (``PhoneAttempt``, 24 hours): ``MONCOMPTE_PHONE_MAX_FAILURES_PER_FILE`` wrong tries
on one (Caf, numéro) or one NIR, then that target is refused on the phone, whatever the line,
until its oldest failure leaves the window; ``MONCOMPTE_PHONE_MAX_FAILURES_PER_LINE`` wrong
tries from one calling line (every hidden line shares one key), then that line is refused for
every target. A refused try does not look at the code's result and is not a failure.

**No oracle**: an unknown numéro or NIR costs the same statements, the same keyed hashes and a
comparison against a dummy digest, is counted and capped like a known one and gets the same
answer as a wrong code. Every try leaves a journal entry, committed before the refusal.

**Few, plain statements** (moncompte.telephony.statements, docs/benchmarks.md "Telephony"): the
locks are taken by the statement that reads the file or the person, the caps' rows (the web's
old-code rows too) are read in one more, the try's rows and the authentication are written in
one; the journal entry is in the same transaction.

A success gives a ``PhoneAuthentication``: a reference ``TEL-XXXX-XXXX`` that the agent who takes
the call redeems once in the console (``phone_authentication_redeem``). An agent may also check
a NIR and phone code the caller reads out (``phone_code_check_by_agent``: the same caps, the
agent standing for the line).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import math
import secrets
import unicodedata

import phonenumbers
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from moncompte.access.agents import AgentPermission, agent_may
from moncompte.access.policy import couple
from moncompte.accounts.legacy import (
    PHONE_CAPPED,
    PHONE_CODE_ENDED,
    PHONE_CODE_RETIRED,
    WRONG_CODE,
    legacy_code_accepted_by_phone,
    legacy_code_phone_reason,
    legacy_code_phone_try,
    legacy_file_key_of,
    legacy_lock,
)
from moncompte.accounts.legacy import WEEK as LEGACY_COUNTING_WINDOW
from moncompte.accounts.models import Account
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError, NotAllowed, Throttled
from moncompte.core.waits import wait_text
from moncompte.households.models import Dossier
from moncompte.identity.identifiers import CROCKFORD_ALPHABET, IdentifierError, parse_identifier
from moncompte.identity.models import Person
from moncompte.identity.protection import identifier_digests
from moncompte.notifications.models import Channel as MessageChannel
from moncompte.notifications.services import message_send
from moncompte.telephony import statements
from moncompte.telephony.models import PhoneAttempt, PhoneAuthentication, PhoneCode, TelephonyClient
from moncompte.telephony.selectors import verified_mobile

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
CODE_DIGITS = 6
REFERENCE_PREFIX = "TEL"
REFERENCE_LENGTH = 8  # Crockford base32: 40 random bits, read out in two groups of four
# What the platform sends for a hidden number ("masqué"): one key for all of them.
HIDDEN_LINE = "masqué"
_HIDDEN_WORDS = {
    "",
    "masque",
    "masqué",
    "hidden",
    "anonyme",
    "anonymous",
    "inconnu",
    "unknown",
    "prive",
    "privé",
    "private",
}
# Compared with when there is no digest to compare with: no keyed hash can equal it.
_NO_DIGEST = "0" * 64
# PostgreSQL advisory locks on two int4 keys, apart from moncompte.accounts.legacy's 7452.
_LINE_LOCK_CLASS = 7453
_TARGET_LOCK_CLASS = 7454

WRONG_PHONE_CODE = (
    "Numéro de sécurité sociale ou code téléphone incorrect, ou code expiré ou déjà utilisé. Un code "
    "téléphone est valable {minutes} minutes et ne sert qu'une fois : demandez-en un nouveau dans Mon "
    "Compte, rubrique « Code téléphone »."
)
LINE_CAPPED = (
    "Trop d'essais erronés depuis cette ligne téléphonique : l'identification par téléphone y est "
    "suspendue. Réessayez dans {wait}, ou faites-vous aider à l'accueil de votre Caf."
)
PERSON_CAPPED = (
    "Trop d'essais erronés pour ce numéro de sécurité sociale : l'identification par téléphone est "
    "suspendue. Réessayez dans {wait}, ou faites-vous aider à l'accueil de votre Caf."
)
NO_RESPONSIBLE = (
    "Ce dossier ne peut pas être identifié par téléphone pour le moment. Faites-vous aider à l'accueil de votre Caf."
)
UNKNOWN_CAF = "Aucune Caf ne porte ce numéro. Indiquez le numéro à 3 chiffres de la Caf."
NO_VERIFIED_MOBILE = (
    "Aucun numéro de téléphone mobile validé n'est enregistré dans votre compte : ajoutez-en un dans « Mes "
    "coordonnées » pour recevoir le code par SMS, ou affichez le code ici."
)
TOO_MANY_CODES = "Vous avez demandé trop de codes téléphone. Vous pourrez en demander un nouveau dans {wait}."
REFERENCE_REFUSALS = {
    "unknown": "Aucune identification téléphonique ne correspond à cette référence. Vérifiez la saisie.",
    "used": "Cette référence d'identification téléphonique a déjà été utilisée.",
    "expired": ("Cette référence d'identification téléphonique a expiré : l'appelant doit s'identifier à nouveau."),
}


class PhoneAuthenticationError(DomainError):
    """A phone authentication refused. ``code``: wrong_credentials, capped (status 429,
    ``wait_seconds``), legacy_code_ended, legacy_code_retired, no_responsible, unknown_caf,
    invalid_identifier, reference_unknown / reference_used / reference_expired."""

    def __init__(self, message: str, *, code: str, field: str | None = None, wait_seconds: int = 0):
        super().__init__(message, code=code, field=field)
        self.wait_seconds = wait_seconds
        if wait_seconds:
            self.status = 429


class PhoneCodeError(DomainError):
    """No phone code can be issued (``code`` no_verified_mobile)."""


# Keyed hashes ----------------------------------------------------------------------------------


def _keyed(purpose: str, value: str) -> str:
    """HMAC-SHA256 with MONCOMPTE_PHONE_KEY; the purpose keeps the kinds of values apart."""
    message = f"{purpose}|{value}".encode()
    return hmac.new(settings.MONCOMPTE_PHONE_KEY.encode(), message, hashlib.sha256).hexdigest()


def phone_code_digest(person_id: int, code: str) -> str:
    """A code's digest is bound to its person: the same 6 digits of two people differ."""
    return _keyed("code", f"{person_id}|{code}")


def calling_line_key(calling_line: str | None) -> str:
    """The keyed hash of a calling line: its E.164 form when it parses (French numbers written
    nationally included), its digits otherwise; every hidden or missing number is one line."""
    text = unicodedata.normalize("NFKC", calling_line or "").strip().lower()
    value = "hidden"
    if text not in _HIDDEN_WORDS:
        try:
            number = phonenumbers.parse(text, "FR")
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_possible_number(number):
            value = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        else:
            digits = "".join(c for c in text if c.isdigit())
            value = f"raw:{digits}" if digits else "hidden"
    return _keyed("line", value)


def agent_line_key(agent) -> str:
    """The "line" of a caller who reads their code to an agent: the agent."""
    return _keyed("agent", str(agent.pk))


def _file_target_key(caf_code: str, numero: str) -> str:
    return _keyed("file", f"{caf_code}|{numero}")


def _nir_target_key(value: str) -> str:
    return _keyed("nir", value)


def _reference_compact(reference: str) -> str:
    """What an agent typed, as the 8 characters of the reference ("" if it cannot be one):
    case, spaces, dashes and the TEL prefix ignored; O read as 0, I and L as 1 (Crockford)."""
    text = unicodedata.normalize("NFKC", reference or "").upper()
    text = "".join(c for c in text if c.isalnum())
    if text.startswith(REFERENCE_PREFIX) and len(text) == len(REFERENCE_PREFIX) + REFERENCE_LENGTH:
        text = text[len(REFERENCE_PREFIX) :]
    text = text.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(text) != REFERENCE_LENGTH or any(c not in CROCKFORD_ALPHABET for c in text):
        return ""
    return text


def _new_reference() -> tuple[str, str]:
    """(the reference as shown, its digest)."""
    body = "".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{REFERENCE_PREFIX}-{body[:4]}-{body[4:]}", _keyed("reference", body)


# The platform's clients ------------------------------------------------------------------------


def _client_digest(client_id: str, secret: str) -> str:
    return _keyed("client", f"{client_id}|{secret}")


def telephony_client_create(*, actor: Actor, name: str) -> tuple[TelephonyClient, str]:
    """A new client of the telephony API; returns it and its secret (given here only: only its
    keyed hash is stored)."""
    client_id = f"tel-{secrets.token_hex(8)}"
    secret = secrets.token_urlsafe(32)  # 32 random bytes
    with transaction.atomic():
        client = TelephonyClient.objects.create(
            client_id=client_id, name=name, secret_digest=_client_digest(client_id, secret)
        )
        journal_record(
            action=JournalAction.PHONE_CLIENT_CREATED, actor=actor, detail={"client_id": client_id, "name": name}
        )
    return client, secret


def telephony_client_authenticate(*, client_id: str, secret: str) -> TelephonyClient | None:
    """The active client whose id and secret these are, else None (an unknown id is compared
    against a dummy digest: the same work)."""
    with connection.cursor() as cursor:
        client = statements.telephony_client(cursor, client_id[:64])
    matches = hmac.compare_digest(
        _client_digest(client_id, secret), client.secret_digest if client is not None else _NO_DIGEST
    )
    if client is None or not matches or not client.is_active:
        return None
    return client


# The phone code ----------------------------------------------------------------------------------


def phone_code_issue(*, actor: Actor, by_sms: bool) -> tuple[PhoneCode, str | None]:
    """A new phone code for the signed-in person; the previous live one is superseded.

    Returns the code row and the code to show (None when sent by SMS: then it is only in the
    SMS, to the account's verified mobile). At most MONCOMPTE_PHONE_CODE_MAX_PER_HOUR codes an
    hour (``Throttled``, journaled). Only the code's keyed hash is stored."""
    account = actor.account
    if account is None:
        raise NotAllowed()
    person = account.person
    if by_sms:
        delivered_by = PhoneCode.DeliveredBy.SMS
    elif actor.channel == Channel.API:
        delivered_by = PhoneCode.DeliveredBy.API
    else:
        delivered_by = PhoneCode.DeliveredBy.WEB
    mobile = verified_mobile(account) if by_sms else None
    if by_sms and mobile is None:
        raise PhoneCodeError(NO_VERIFIED_MOBILE, code="no_verified_mobile")
    minutes = settings.MONCOMPTE_PHONE_CODE_MINUTES
    limit = settings.MONCOMPTE_PHONE_CODE_MAX_PER_HOUR
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    wait = 0
    with transaction.atomic():
        # One issue at a time per account: the count and the superseding cannot interleave.
        Account.objects.select_for_update().filter(pk=account.pk).values_list("pk", flat=True).first()
        now = timezone.now()
        recent = list(
            PhoneCode.objects.filter(person=person, created_at__gt=now - HOUR)
            .order_by("created_at")
            .values_list("created_at", flat=True)
        )
        if len(recent) >= limit:
            # The code whose leaving the hour frees a place.
            wait = max(1, math.ceil((recent[len(recent) - limit] + HOUR - now).total_seconds()))
            journal_record(action=JournalAction.PHONE_CODE_THROTTLED, actor=actor, detail={"by_sms": by_sms})
        else:
            PhoneCode.objects.filter(person=person, used_at__isnull=True, superseded_at__isnull=True).update(
                superseded_at=now
            )
            phone_code = PhoneCode.objects.create(
                person=person,
                code_digest=phone_code_digest(person.pk, code),
                created_at=now,
                expires_at=now + datetime.timedelta(minutes=minutes),
                delivered_by=delivered_by,
            )
            if mobile is not None:
                # Written with the code, sent after commit (moncompte.notifications).
                message_send(
                    channel=MessageChannel.SMS,
                    recipient=mobile.value,
                    template="phone_code",
                    context={"code": code, "minutes": minutes},
                    account=account,
                    expires_at=phone_code.expires_at,
                )
            action = {
                PhoneCode.DeliveredBy.WEB: JournalAction.PHONE_CODE_ISSUED_WEB,
                PhoneCode.DeliveredBy.API: JournalAction.PHONE_CODE_ISSUED_API,
                PhoneCode.DeliveredBy.SMS: JournalAction.PHONE_CODE_ISSUED_SMS,
            }[delivered_by]
            journal_record(action=action, actor=actor, detail={"minutes": minutes})
    if wait:
        raise Throttled(wait, message=TOO_MANY_CODES.format(wait=wait_text(wait)))
    return phone_code, (None if by_sms else code)


# The hard caps --------------------------------------------------------------------------------


def _lock_key(key: str) -> int:
    return int.from_bytes(bytes.fromhex(key[:8]), "big", signed=True)


def _caps_locks(*, line_key: str, target_key: str) -> list[tuple[int, int]]:
    """The locks that serialize the tries of one line, then of one target (always in this order:
    no deadlock), so that parallel calls cannot overrun a cap."""
    return [(_LINE_LOCK_CLASS, _lock_key(line_key)), (_TARGET_LOCK_CLASS, _lock_key(target_key))]


def _refusal(
    rows: list[tuple[str, str, datetime.datetime]], *, line_key: str, target_key: str, now: datetime.datetime
) -> tuple[int, str]:
    """(seconds to wait, "line" or "target") when a cap refuses the try now, else (0, "").

    ``rows``: the wrong tries of the last 24 hours of this line or on this target, read in one
    statement (statements.wrong_tries), (line key, target key, time) each."""
    ends: list[tuple[datetime.datetime, str]] = []
    for reason, limit, times in (
        (
            "line",
            settings.MONCOMPTE_PHONE_MAX_FAILURES_PER_LINE,
            sorted(at for line, _, at in rows if line == line_key),
        ),
        (
            "target",
            settings.MONCOMPTE_PHONE_MAX_FAILURES_PER_FILE,
            sorted(at for _, target, at in rows if target == target_key),
        ),
    ):
        if len(times) >= limit:
            # Refused until enough failures leave the window to be under the cap again.
            ends.append((times[len(times) - limit] + DAY, reason))
    end, reason = max(ends, default=(now, ""))
    seconds = math.ceil((end - now).total_seconds())
    return (seconds, reason) if seconds > 0 else (0, "")


def _capped_error(*, reason: str, wait: int, legacy: bool) -> PhoneAuthenticationError:
    if reason == "line":
        message = LINE_CAPPED
    else:
        message = PHONE_CAPPED if legacy else PERSON_CAPPED
    return PhoneAuthenticationError(message.format(wait=wait_text(wait)), code="capped", wait_seconds=wait)


# Phone authentications ------------------------------------------------------------------------


def _require_phone(actor: Actor) -> None:
    if actor.channel != Channel.PHONE:
        raise ValueError("The phone authentications are the phone channel's.")


def _detail(*, method: str, client: TelephonyClient | None, line_key: str, **extra) -> dict:
    # The line as a short keyed hash (the security team can tell lines apart), never in clear.
    detail = {"method": method, "line_ref": line_key[:16], **extra}
    if client is not None:
        detail["client"] = client.client_id
    return detail


def _authentication_create(
    cursor,
    written: list,
    *,
    person: Person,
    dossier: Dossier | None,
    method: str,
    client: TelephonyClient | None,
    now: datetime.datetime,
) -> PhoneAuthentication:
    reference, digest = _new_reference()
    authentication = PhoneAuthentication(
        reference_digest=digest,
        person=person,
        dossier=dossier,
        method=method,
        client=client,
        created_at=now,
        expires_at=now + datetime.timedelta(minutes=settings.MONCOMPTE_PHONE_AUTHENTICATION_MINUTES),
    )
    # With the try's rows, in one statement on PostgreSQL.
    statements.insert_all(cursor, [*written, authentication])
    # Given to the caller's platform once, never stored in clear.
    authentication.reference = reference
    return authentication


def _responsible_of(cursor, dossier: Dossier) -> Person | None:
    # The file's rows in one statement; which one is current and which is the responsible
    # person's is the model's and the policy's to say.
    members = [member for member in statements.household(cursor, dossier.pk) if member.is_current()]
    responsible, _ = couple(members)
    return responsible.person if responsible is not None else None


def phone_authenticate_legacy(
    *,
    actor: Actor,
    caf_code: str,
    numero: str,
    code: str,
    calling_line: str | None,
    client: TelephonyClient | None = None,
) -> PhoneAuthentication:
    """Numéro allocataire + Caf + the file's old 8-digit code, before the end date.

    Returns the authentication (its ``reference`` attribute: the clear reference, once), the
    person being the file's responsible person; raises PhoneAuthenticationError otherwise."""
    _require_phone(actor)
    line_key = calling_line_key(calling_line)
    method = PhoneAttempt.Method.LEGACY_CODE
    if not legacy_code_accepted_by_phone():
        # Refused before anything is looked up: no attempt, nothing counted against the file.
        journal_record(
            action=JournalAction.PHONE_AUTH_ENDED,
            actor=actor,
            detail=_detail(method=method, client=client, line_key=line_key),
        )
        raise PhoneAuthenticationError(PHONE_CODE_ENDED, code="legacy_code_ended")
    target_key = _file_target_key(caf_code, numero)
    file_key = legacy_file_key_of(caf_code, numero)
    authentication = None
    with transaction.atomic(), connection.cursor() as cursor:
        now = timezone.now()
        # The phone's caps and the file's old-code caps shared with the web
        # (moncompte.accounts.legacy) are locked by the statement that reads the Caf, the file
        # and its old code (the same for an unknown numéro); their rows are read after it.
        locks = [*_caps_locks(line_key=line_key, target_key=target_key), legacy_lock(file_key)]
        caf, credential = statements.locked_legacy_file(cursor, locks=locks, caf_code=caf_code, numero=numero)
        if caf is None:
            # The Cafs' numbers are public: telling one does not exist tells nothing about a
            # file. Nothing was written: the block ends empty.
            raise PhoneAuthenticationError(UNKNOWN_CAF, code="unknown_caf", field="caf")
        rows, legacy_wrong = statements.wrong_tries(
            cursor,
            line_key=line_key,
            target_key=target_key,
            since=now - DAY,
            legacy_file_key=file_key,
            legacy_since=now - LEGACY_COUNTING_WINDOW,
        )
        wait, capped_by = _refusal(rows, line_key=line_key, target_key=target_key, now=now)
        attempt, legacy_row = legacy_code_phone_try(
            file_key=file_key, credential=credential, code=code, wrong=legacy_wrong, refused=bool(wait), now=now
        )
        reason = legacy_code_phone_reason(attempt)
        person = None
        if wait:
            reason = f"capped_{capped_by}"
        elif reason == "capped":
            # The file's waits shared with the web (moncompte.accounts.legacy).
            reason, capped_by, wait = "capped_file_wait", "target", attempt.wait_seconds
        elif not reason:
            person = _responsible_of(cursor, attempt.dossier)
            reason = "" if person is not None else "no_responsible"
        if reason.startswith("capped"):
            outcome = PhoneAttempt.Outcome.REFUSED
        elif reason in ("unknown", "wrong"):
            outcome = PhoneAttempt.Outcome.WRONG
        else:
            outcome = PhoneAttempt.Outcome.RIGHT  # the code was the file's (retired or not)
        # The web's row and the phone's: written with the authentication, if any.
        written = [
            legacy_row,
            PhoneAttempt(line_key=line_key, target_key=target_key, method=method, outcome=outcome, at=now),
        ]
        detail = _detail(method=method, client=client, line_key=line_key)
        if reason:
            statements.insert_all(cursor, written)
            action = JournalAction.PHONE_AUTH_CAPPED if wait else JournalAction.PHONE_AUTH_FAILURE
            journal_record(
                action=action,
                actor=actor,
                subject_person=None,
                dossier=attempt.dossier,
                detail={**detail, "reason": reason},
            )
        else:
            authentication = _authentication_create(
                cursor, written, person=person, dossier=attempt.dossier, method=method, client=client, now=now
            )
            journal_record(
                action=JournalAction.PHONE_AUTH_SUCCESS,
                actor=actor,
                subject_person=person,
                dossier=attempt.dossier,
                detail=detail,
            )
    # Outside the block: the attempt and its journal entry are committed before refusing.
    if wait:
        raise _capped_error(reason=capped_by, wait=wait, legacy=True)
    if reason == "retired":
        raise PhoneAuthenticationError(PHONE_CODE_RETIRED, code="legacy_code_retired")
    if reason == "no_responsible":
        raise PhoneAuthenticationError(NO_RESPONSIBLE, code="no_responsible")
    if reason:
        raise PhoneAuthenticationError(WRONG_CODE, code="wrong_credentials")
    return authentication


def _parse_nir(identifier: str):
    try:
        return parse_identifier(identifier)
    except IdentifierError as error:
        raise PhoneAuthenticationError(error.message, code="invalid_identifier", field="identifier") from None


def _phone_code_try(
    *,
    actor: Actor,
    identifier: str,
    code: str,
    line_key: str,
    detail: dict,
    client: TelephonyClient | None,
    authenticate: bool,
) -> tuple[Person, PhoneAuthentication | None]:
    """NIR + phone code under the caps; the code is consumed on success. The same statements
    and keyed hashes whether the NIR is a person's or not, with or without a live code."""
    parsed = _parse_nir(identifier)
    target_key = _nir_target_key(parsed.value)
    # Person.objects.with_identifier's digests: one per configured key.
    digests = identifier_digests(parsed.value)
    method = PhoneAttempt.Method.PHONE_CODE
    authentication = None
    with transaction.atomic(), connection.cursor() as cursor:
        now = timezone.now()
        # One statement takes the caps' locks and reads the person and their live code (the same
        # whether either exists); the caps' rows are read after it.
        person, live = statements.locked_person_and_live_code(
            cursor, locks=_caps_locks(line_key=line_key, target_key=target_key), identifier_digests=digests
        )
        rows, _ = statements.wrong_tries(cursor, line_key=line_key, target_key=target_key, since=now - DAY)
        wait, capped_by = _refusal(rows, line_key=line_key, target_key=target_key, now=now)
        person_id = person.pk if person is not None else 0
        # Always compared, refused or not, person or not: the same keyed hash every time.
        matches = hmac.compare_digest(
            phone_code_digest(person_id, "".join((code or "").split())),
            live.code_digest if live is not None else _NO_DIGEST,
        )
        if wait:
            reason, outcome = f"capped_{capped_by}", PhoneAttempt.Outcome.REFUSED
        elif person is None:
            reason, outcome = "unknown", PhoneAttempt.Outcome.WRONG
        elif not matches:
            reason, outcome = "wrong", PhoneAttempt.Outcome.WRONG
        elif live.expires_at <= now:
            reason, outcome = "expired", PhoneAttempt.Outcome.WRONG
        else:
            # Single use: consumed only if nobody consumed or superseded it meanwhile.
            taken = statements.phone_code_take(cursor, code_id=live.pk, now=now)
            reason, outcome = ("", PhoneAttempt.Outcome.RIGHT) if taken else ("wrong", PhoneAttempt.Outcome.WRONG)
        written = [PhoneAttempt(line_key=line_key, target_key=target_key, method=method, outcome=outcome, at=now)]
        if reason:
            statements.insert_all(cursor, written)
            action = JournalAction.PHONE_AUTH_CAPPED if wait else JournalAction.PHONE_AUTH_FAILURE
            journal_record(action=action, actor=actor, subject_person=person, detail={**detail, "reason": reason})
        else:
            if authenticate:
                authentication = _authentication_create(
                    cursor, written, person=person, dossier=None, method=method, client=client, now=now
                )
            else:
                statements.insert_all(cursor, written)
            journal_record(action=JournalAction.PHONE_AUTH_SUCCESS, actor=actor, subject_person=person, detail=detail)
    if wait:
        raise _capped_error(reason=capped_by, wait=wait, legacy=False)
    if reason:
        message = WRONG_PHONE_CODE.format(minutes=settings.MONCOMPTE_PHONE_CODE_MINUTES)
        raise PhoneAuthenticationError(message, code="wrong_credentials")
    return person, authentication


def phone_authenticate_code(
    *,
    actor: Actor,
    identifier: str,
    code: str,
    calling_line: str | None,
    client: TelephonyClient | None = None,
) -> PhoneAuthentication:
    """NIR (any accepted shape) + the person's live phone code, through the telephony platform.

    Returns the authentication (``reference``: the clear reference, once); raises
    PhoneAuthenticationError. The code is consumed on success."""
    _require_phone(actor)
    line_key = calling_line_key(calling_line)
    detail = _detail(method=PhoneAttempt.Method.PHONE_CODE, client=client, line_key=line_key)
    _, authentication = _phone_code_try(
        actor=actor,
        identifier=identifier,
        code=code,
        line_key=line_key,
        detail=detail,
        client=client,
        authenticate=True,
    )
    return authentication


def _require_serving_agent(actor: Actor) -> None:
    if not agent_may(actor.agent, AgentPermission.SERVE_PERSON):
        raise NotAllowed()


def phone_code_check_by_agent(*, actor: Actor, identifier: str, code: str) -> Person:
    """The caller reads their NIR and phone code to the agent: the person, or
    PhoneAuthenticationError. The same caps, the agent standing for the calling line."""
    _require_serving_agent(actor)
    line_key = agent_line_key(actor.agent)
    detail = {"method": PhoneAttempt.Method.PHONE_CODE, "by": "agent"}
    person, _ = _phone_code_try(
        actor=actor, identifier=identifier, code=code, line_key=line_key, detail=detail, client=None, authenticate=False
    )
    return person


def phone_authentication_redeem(*, actor: Actor, reference: str) -> PhoneAuthentication:
    """The agent on the phone types the reference the platform gave the caller: the
    authentication (``person``, ``dossier`` or None, ``method``), once, before it expires.
    A reference of a file of a Caf the agent does not serve is unknown to them."""
    _require_serving_agent(actor)
    agent = actor.agent
    compact = _reference_compact(reference)
    digest = _keyed("reference", compact) if compact else _NO_DIGEST
    reason = ""
    with transaction.atomic():
        now = timezone.now()
        authentication = (
            # Only the authentication's row: PostgreSQL cannot lock the outer join's (no file).
            PhoneAuthentication.objects.select_for_update(of=("self",))
            .select_related("person", "dossier")
            .filter(reference_digest=digest)
            .order_by("-created_at", "-pk")
            .first()
        )
        if authentication is None or (
            authentication.dossier is not None
            and not agent_may(agent, AgentPermission.SERVE_PERSON, caf_id=authentication.dossier.caf_id)
        ):
            reason, authentication = "unknown", None
        elif authentication.redeemed_at is not None:
            reason = "used"
        elif authentication.expires_at <= now:
            reason = "expired"
        if reason:
            journal_record(
                action=JournalAction.PHONE_AUTH_REDEEM_FAILURE,
                actor=actor,
                subject_person=authentication.person if authentication is not None else None,
                dossier=authentication.dossier if authentication is not None else None,
                detail={"reason": reason},
            )
        else:
            authentication.redeemed_at = now
            authentication.redeemed_by = agent
            authentication.save(update_fields=["redeemed_at", "redeemed_by"])
            journal_record(
                action=JournalAction.PHONE_AUTH_REDEEMED,
                actor=actor,
                subject_person=authentication.person,
                dossier=authentication.dossier,
                detail={"method": authentication.method},
            )
    if reason:
        raise PhoneAuthenticationError(REFERENCE_REFUSALS[reason], code=f"reference_{reason}", field="reference")
    return authentication
