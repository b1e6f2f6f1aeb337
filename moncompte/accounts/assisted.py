"""The assisted first connection at the counter (issue 12; PRODUCT.md section 5).

An agent serving a person at the counter (a ``CounterService`` whose person was identified with
an identity document) starts it for that person when they have no account and may have one
(the policy's CLAIM_AT_COUNTER on the file: any current member, old enough). The agent's screen
shows a **handoff code** once; the person types it on the counter's public terminal or on their
own phone, confirms their name, and types their own password: the agent never sees it, and it
is kept nowhere but in the account's hash (not in the journal, not in the flow's row, not in
the agent's session). Then the person's web session opens on that device and the contact
validation takes over, as after any first connection.

The handoff code: 8 characters of Crockford's base32 (the invitations' alphabet: no I, L, O or
U), shown ``XXXX-XXXX``. Its first 3 characters find the flow (``handoff_lookup``, unique among
the live flows), the whole code proves it (``handoff_digest``): both are keyed hashes
(``MONCOMPTE_AGENT_KEY``), the code itself is never stored. So a wrong code is counted **on the
flow** it points to, and MONCOMPTE_ASSISTED_MAX_ATTEMPTS wrong codes cancel it, whatever the
number of addresses they come from; wrong codes are also counted per client address (growing
waits, as for the other codes). The code lives MONCOMPTE_ASSISTED_MINUTES and serves once.

The account is created under locks that serialize everything that could give the person an
account twice: the flow's row (two devices typing one code), the file's legacy credential (a
first connection of the file, as ``first_connection_complete`` takes it) and the person's row
(two flows of one person); and the unique ``Account.person`` refuses any other path. The legacy
code of the file is retired on the web as the person's own first connection would retire it
(when the person is one who may claim the file with it: R, S+, S); a child's account leaves it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from moncompte.access.agents import AgentPermission, agent_may
from moncompte.access.policy import Action, decide
from moncompte.accounts import throttling
from moncompte.accounts.models import Account, AssistedFirstConnection, LegacyCredential
from moncompte.accounts.passwords import password_problems
from moncompte.accounts.services import AccountNotAllowed, account_allowed, account_create
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.core.waits import wait_text
from moncompte.counter.models import CounterService, Proof
from moncompte.counter.selectors import counter_service_for
from moncompte.households.invitations import CODE_ALPHABET, invitations_close_for
from moncompte.identity.models import Person

__all__ = [
    "AssistedError",
    "AssistedStatus",
    "assisted_first_connection_claim",
    "assisted_first_connection_complete",
    "assisted_first_connection_decline",
    "assisted_first_connection_offered",
    "assisted_first_connection_pending",
    "assisted_first_connection_refusal",
    "assisted_first_connection_start",
    "assisted_first_connection_status",
    "handoff_code_canonical",
    "handoff_code_shown",
]

CODE_LENGTH = 8  # 40 bits
LOOKUP_LENGTH = 3  # finds the flow; the 5 others (25 bits) prove it, with at most 5 tries
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_CODE_SEPARATORS = " \t-._\u00a0\u202f"
# A code older than this is not even looked at: "not valid", as an unknown one.
_LOOKUP_HORIZON = datetime.timedelta(days=1)

# For the agent (the start, and the reason the console gives when it does not offer it).
NOT_AT_COUNTER = (
    "La première connexion accompagnée se fait à l'accueil, pour une personne identifiée sur "
    "présentation d'une pièce d'identité. Identifiez d'abord la personne avec sa pièce d'identité."
)
NOT_ELIGIBLE = (
    "Cette personne ne peut pas créer son compte à partir de ce dossier : seuls ses membres actuels "
    "(responsable du dossier, conjoint ou conjointe, enfants et autres personnes du foyer) le peuvent."
)
TOO_YOUNG = "Un compte personnel peut être créé à partir de {age} ans : cette personne est trop jeune."
HAS_ACCOUNT_FOR_AGENT = (
    "Cette personne a déjà un compte Mon Compte : elle se connecte avec son numéro de sécurité sociale "
    "et son mot de passe (« Mot de passe oublié ? » si elle ne s'en souvient plus)."
)

# For the person (the public pages).
MALFORMED = (
    "Le code comporte 8 lettres et chiffres, sous la forme XXXX-XXXX : recopiez-le depuis l'écran de l'agent d'accueil."
)
INVALID = (
    "Ce code n'est pas valable. Vérifiez votre saisie : le code à 8 caractères est affiché sur l'écran "
    "de l'agent d'accueil."
)
EXPIRED = "Ce code a expiré. Demandez un nouveau code à l'agent d'accueil."
USED = "Ce code a déjà servi : il ne sert qu'une fois. Demandez un nouveau code à l'agent d'accueil."
NO_LONGER_VALID = "Ce code n'est plus valable. Demandez un nouveau code à l'agent d'accueil."
TOO_MANY_ATTEMPTS = (
    "Trop d'erreurs de saisie : pour votre sécurité, ce code est annulé. Demandez un nouveau code à l'agent d'accueil."
)
THROTTLED = "Trop de codes incorrects depuis votre connexion. Réessayez dans {wait}."
HAS_ACCOUNT = (
    "Vous avez déjà un compte : connectez-vous avec votre numéro de sécurité sociale et votre mot de "
    "passe. Mot de passe oublié ? Vous pouvez le retrouver."
)
PERSON_NOT_ELIGIBLE = "Votre compte ne peut pas être créé ainsi. Adressez-vous à l'agent d'accueil."


class AssistedError(DomainError):
    """A refusal. ``code``: not_at_counter, not_eligible, too_young, has_account (to the agent at
    the start, to the person afterwards), malformed, invalid, expired, used, no_longer_valid,
    too_many_attempts, throttled (status 429, ``wait_seconds``), weak_password (field
    ``password``)."""

    def __init__(self, message: str, *, code: str, field: str | None = None, wait_seconds: int = 0):
        super().__init__(message, code=code, field=field)
        self.wait_seconds = wait_seconds
        if code == "throttled":
            self.status = 429
        elif code == "has_account":
            self.status = 409
        elif code in ("expired", "used", "no_longer_valid", "too_many_attempts"):
            self.status = 410


# The handoff code --------------------------------------------------------------------------


def _keyed(purpose: str, value: str) -> str:
    return hmac.new(
        settings.MONCOMPTE_AGENT_KEY.encode(), f"assisted:{purpose}:{value}".encode(), hashlib.sha256
    ).hexdigest()


def _lookup(canonical: str) -> str:
    return _keyed("lookup", canonical[:LOOKUP_LENGTH])[:32]


def _digest(canonical: str) -> str:
    return _keyed("code", canonical)


def handoff_code_canonical(typed: str) -> str | None:
    """The canonical code of what a person typed, or None if it cannot be one: any case, spaces
    or dashes between the groups, I and L read as 1, O as 0 (as the invitation codes)."""
    text = "".join(char for char in (typed or "")[:100] if char not in _CODE_SEPARATORS).upper().translate(_READ_AS)
    if len(text) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in text):
        return None
    return text


def handoff_code_shown(canonical: str) -> str:
    return f"{canonical[:4]}-{canonical[4:]}"


def _live(now: datetime.datetime) -> Q:
    return Q(completed_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now)


def _new_code(now: datetime.datetime) -> str:
    """A new code whose lookup part no live flow uses (so that a wrong try is counted on one flow)."""
    for _draw in range(20):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not AssistedFirstConnection.objects.filter(_live(now), handoff_lookup=_lookup(code)).exists():
            return code
    # 32,768 lookups: twenty draws all taken means thousands of live flows; one more is harmless
    # (a wrong try is then counted on both flows).
    return code


# The agent's side --------------------------------------------------------------------------


def _has_account(person: Person) -> bool:
    return Account.objects.filter(person=person).exists()


def _refusal(service: CounterService) -> AssistedError | None:
    """Why the person served may not get an assisted first connection now (None: they may)."""
    if (
        service.channel != Channel.COUNTER
        or service.person_id is None
        or service.proof != Proof.IDENTITY_DOCUMENT
        or service.identified_at is None
    ):
        return AssistedError(NOT_AT_COUNTER, code="not_at_counter")
    person = service.person
    if _has_account(person):
        return AssistedError(HAS_ACCOUNT_FOR_AGENT, code="has_account")
    if not decide(person=person, dossier=service.dossier, action=Action.CLAIM_AT_COUNTER).allowed:
        return AssistedError(NOT_ELIGIBLE, code="not_eligible")
    if not account_allowed(person):
        return AssistedError(TOO_YOUNG.format(age=settings.MONCOMPTE_ACCOUNT_MIN_AGE), code="too_young")
    return None


def _agent_may_assist(actor: Actor, service: CounterService) -> bool:
    return agent_may(actor.agent, AgentPermission.ASSIST_FIRST_CONNECTION, caf_id=service.dossier.caf_id)


def _service_for(actor: Actor, service_id: int) -> CounterService:
    service = counter_service_for(actor=actor, service_id=service_id)
    if not _agent_may_assist(actor, service):
        raise NotAllowed
    return service


def assisted_first_connection_offered(*, actor: Actor, service: CounterService) -> bool:
    """Whether the console offers the assisted first connection for this service (the agent's
    service, as ``counter_service_for`` gives it): the agent may assist on its Caf and the
    person served may get one now."""
    return actor.agent is not None and _agent_may_assist(actor, service) and _refusal(service) is None


def assisted_first_connection_start(*, actor: Actor, service_id: int) -> tuple[AssistedFirstConnection, str]:
    """Start it for the person served in ``service_id`` (the acting agent's own service);
    returns the flow and the handoff code as shown (``XXXX-XXXX``), given here only.

    NotAllowed (not found) unless the service is the agent's and their roles allow it on the
    file's Caf; AssistedError when the person may not get one (journaled). A live flow of the
    same person is replaced: its code stops working.
    """
    service = _service_for(actor, service_id)
    refusal = _refusal(service)
    if refusal is not None:
        journal_record(
            action=JournalAction.ASSISTED_START_REFUSED,
            actor=actor,
            subject_person=service.person,
            dossier=service.dossier,
            detail={"service": service.pk, "reason": refusal.code},
        )
        raise refusal
    now = timezone.now()
    with transaction.atomic():
        AssistedFirstConnection.objects.filter(_live(now), person=service.person).update(
            cancelled_at=now, cancel_reason=AssistedFirstConnection.CancelReason.REPLACED
        )
        code = _new_code(now)
        assisted = AssistedFirstConnection.objects.create(
            service=service,
            person=service.person,
            dossier=service.dossier,
            agent=actor.agent,
            handoff_lookup=_lookup(code),
            handoff_digest=_digest(code),
            created_at=now,
            expires_at=now + datetime.timedelta(minutes=settings.MONCOMPTE_ASSISTED_MINUTES),
        )
        journal_record(
            action=JournalAction.ASSISTED_STARTED,
            actor=actor,
            subject_person=service.person,
            dossier=service.dossier,
            detail={"assisted": assisted.pk, "service": service.pk},
        )
    return assisted, handoff_code_shown(code)


@dataclass(frozen=True)
class AssistedStatus:
    """What the agent's screen says of the latest flow of a service: its state, never anything
    the person typed. ``state``: waiting, claimed, password_created, contact_validated, expired,
    cancelled."""

    assisted: AssistedFirstConnection
    state: str
    label: str
    detail: str

    @property
    def live(self) -> bool:
        return self.state in ("waiting", "claimed")


_CANCEL_DETAILS = {
    AssistedFirstConnection.CancelReason.REPLACED: "Une nouvelle première connexion accompagnée a été lancée.",
    AssistedFirstConnection.CancelReason.ATTEMPTS: "Trop de codes incorrects ont été saisis : le code est annulé.",
    AssistedFirstConnection.CancelReason.DECLINED: "La personne ne s'est pas reconnue dans le nom affiché.",
}


def _status(assisted: AssistedFirstConnection, now: datetime.datetime) -> AssistedStatus:
    if assisted.completed_at is not None:
        account = Account.objects.filter(person_id=assisted.person_id).only("contact_validated_at").first()
        if account is not None and account.contact_validated_at is not None:
            return AssistedStatus(
                assisted, "contact_validated", "Moyen de contact validé", "Le compte est prêt à être utilisé."
            )
        return AssistedStatus(
            assisted,
            "password_created",
            "Mot de passe créé",
            "Le compte est créé. La personne valide maintenant une adresse électronique ou un numéro de mobile.",
        )
    if assisted.cancelled_at is not None:
        return AssistedStatus(assisted, "cancelled", "Annulée", _CANCEL_DETAILS.get(assisted.cancel_reason, ""))
    if assisted.expires_at <= now:
        return AssistedStatus(assisted, "expired", "Code expiré", "Le code n'a pas servi à temps.")
    if assisted.claimed_at is not None:
        return AssistedStatus(
            assisted, "claimed", "En attente", "Le code a été saisi : la personne choisit son mot de passe."
        )
    return AssistedStatus(assisted, "waiting", "En attente", "La personne n'a pas encore saisi le code.")


def assisted_first_connection_status(*, actor: Actor, service_id: int) -> tuple[CounterService, AssistedStatus | None]:
    """The agent's service and the state of its latest assisted first connection (None: none
    started yet). NotAllowed as for the start."""
    service = _service_for(actor, service_id)
    latest = AssistedFirstConnection.objects.filter(service=service).order_by("-created_at", "-pk").first()
    return service, (None if latest is None else _status(latest, timezone.now()))


def assisted_first_connection_refusal(*, actor: Actor, service_id: int) -> AssistedError | None:
    """Why the agent's service may not start one now (None: it may); NotAllowed as for the start."""
    return _refusal(_service_for(actor, service_id))


# The person's side -------------------------------------------------------------------------


def _count_failure(assisted: AssistedFirstConnection, actor: Actor, now: datetime.datetime) -> bool:
    """One wrong code on a live flow (locked by the caller); True when it cancels the flow."""
    assisted.failed_attempts += 1
    fields = ["failed_attempts"]
    cancelled = assisted.failed_attempts >= settings.MONCOMPTE_ASSISTED_MAX_ATTEMPTS
    if cancelled:
        assisted.cancelled_at = now
        assisted.cancel_reason = AssistedFirstConnection.CancelReason.ATTEMPTS
        fields += ["cancelled_at", "cancel_reason"]
    assisted.save(update_fields=fields)
    journal_record(
        action=JournalAction.ASSISTED_CODE_FAILURE,
        actor=actor,
        subject_person=assisted.person,
        dossier=assisted.dossier,
        detail={"assisted": assisted.pk, "attempts": assisted.failed_attempts, "cancelled": cancelled},
    )
    return cancelled


def _waiting(assisted: AssistedFirstConnection, now: datetime.datetime) -> bool:
    """Open and its code not typed yet (the Python form of ``_live``, without the claimed ones)."""
    return (
        assisted.claimed_at is None
        and assisted.completed_at is None
        and assisted.cancelled_at is None
        and assisted.expires_at > now
    )


def _matching(candidates: list[AssistedFirstConnection], canonical: str) -> AssistedFirstConnection | None:
    digest = _digest(canonical)
    return next((c for c in candidates if hmac.compare_digest(c.handoff_digest, digest)), None)


def _refusal_of_match(assisted: AssistedFirstConnection, now: datetime.datetime) -> AssistedError | None:
    if assisted.completed_at is not None or assisted.claimed_at is not None:
        return AssistedError(USED, code="used", field="code")
    if assisted.cancelled_at is not None:
        return AssistedError(NO_LONGER_VALID, code="no_longer_valid", field="code")
    if assisted.expires_at <= now:
        return AssistedError(EXPIRED, code="expired", field="code")
    if _has_account(assisted.person):
        return AssistedError(HAS_ACCOUNT, code="has_account", field="code")
    return None


def assisted_first_connection_claim(*, actor: Actor, handoff_code: str) -> AssistedFirstConnection:
    """The person types the handoff code (``actor``: a visitor of the web, not signed in).

    A throttled address is refused before any look-up; a code that is no code at all (its shape)
    is refused without counting. Otherwise the flows whose lookup the code points to are locked:
    the right code claims its flow, once (a second device gets "used"); a wrong one counts on
    the client address and on each live flow it points to, cancelling it at the cap. Every try
    is journaled, refusals in a transaction committed before the refusal is raised.
    """
    scope = [throttling.address_scope("assisted_first_connection", actor.client_address or "")]
    wait = throttling.scopes_wait(scope)
    if wait:
        journal_record(action=JournalAction.ASSISTED_CODE_THROTTLED, actor=actor, subject_person=None)
        raise AssistedError(THROTTLED.format(wait=wait_text(wait)), code="throttled", field="code", wait_seconds=wait)
    canonical = handoff_code_canonical(handoff_code)
    if canonical is None:
        raise AssistedError(MALFORMED, code="malformed", field="code")
    now = timezone.now()
    with transaction.atomic():
        candidates = list(
            AssistedFirstConnection.objects.select_for_update()
            .select_related("person", "dossier")
            .filter(handoff_lookup=_lookup(canonical), created_at__gt=now - _LOOKUP_HORIZON)
            .order_by("pk")
        )
        match = _matching(candidates, canonical)
        if match is None:
            # Counted on the flows still waiting for their code (not on one being completed).
            cancelled = [_count_failure(c, actor, now) for c in candidates if _waiting(c, now)]
            if not cancelled:
                journal_record(action=JournalAction.ASSISTED_CODE_FAILURE, actor=actor, subject_person=None)
            refusal = AssistedError(
                TOO_MANY_ATTEMPTS if any(cancelled) else INVALID,
                code="too_many_attempts" if any(cancelled) else "invalid",
                field="code",
            )
        else:
            refusal = _refusal_of_match(match, now)
            if refusal is not None:
                journal_record(
                    action=JournalAction.ASSISTED_CODE_FAILURE,
                    actor=actor,
                    subject_person=match.person,
                    dossier=match.dossier,
                    detail={"assisted": match.pk, "reason": refusal.code},
                )
            else:
                match.claimed_at = now
                match.save(update_fields=["claimed_at"])
                journal_record(
                    action=JournalAction.ASSISTED_CODE_ACCEPTED,
                    actor=actor,
                    subject_person=match.person,
                    dossier=match.dossier,
                    detail={"assisted": match.pk},
                )
    # Outside the block: the counted try and its journal entry are committed before refusing.
    if refusal is not None:
        if refusal.code != "has_account":
            throttling.scopes_failed(scope)
        raise refusal
    return match


def _check_pending(assisted: AssistedFirstConnection | None, now: datetime.datetime) -> AssistedFirstConnection:
    """A flow claimed by the person and still open; else the French reason."""
    if assisted is None or assisted.claimed_at is None:
        raise AssistedError(NO_LONGER_VALID, code="no_longer_valid")
    if assisted.completed_at is not None:
        raise AssistedError(USED, code="used")
    if assisted.cancelled_at is not None:
        raise AssistedError(NO_LONGER_VALID, code="no_longer_valid")
    if assisted.expires_at <= now:
        raise AssistedError(EXPIRED, code="expired")
    return assisted


def assisted_first_connection_pending(*, assisted_id: int) -> AssistedFirstConnection:
    """The flow a browser claimed (its id kept in that browser's server-side session), still
    open, with its person; else AssistedError."""
    assisted = AssistedFirstConnection.objects.select_related("person").filter(pk=assisted_id).first()
    return _check_pending(assisted, timezone.now())


def assisted_first_connection_decline(*, actor: Actor, assisted_id: int) -> None:
    """The person does not recognise the name shown: the flow is cancelled (the agent sees it)."""
    with transaction.atomic():
        assisted = _check_pending(
            AssistedFirstConnection.objects.select_for_update().filter(pk=assisted_id).first(), timezone.now()
        )
        assisted.cancelled_at = timezone.now()
        assisted.cancel_reason = AssistedFirstConnection.CancelReason.DECLINED
        assisted.save(update_fields=["cancelled_at", "cancel_reason"])
        journal_record(
            action=JournalAction.ASSISTED_DECLINED,
            actor=actor,
            subject_person=assisted.person,
            dossier=assisted.dossier,
            detail={"assisted": assisted.pk},
        )


def assisted_first_connection_complete(*, actor: Actor, assisted_id: int, password: str) -> Account:
    """Create the person's account with the password they typed, all or nothing.

    ``actor``: the visitor whose browser claimed the flow. Everything is checked again under the
    locks (the module's docstring): the flow still open, the person still eligible and without
    an account. The password is checked by the usagers' policy and goes to ``account_create``
    only: not in the flow's row, not in the journal.
    """
    with transaction.atomic():
        now = timezone.now()
        assisted = _check_pending(
            AssistedFirstConnection.objects.select_for_update().filter(pk=assisted_id).first(), now
        )
        # The order of first_connection_complete: the file's credential first, then the person.
        credential = LegacyCredential.objects.select_for_update().filter(dossier_id=assisted.dossier_id).first()
        person = Person.objects.select_for_update(no_key=True).get(pk=assisted.person_id)
        problems = password_problems(password, person=person)
        if problems:
            raise AssistedError(" ".join(p.message for p in problems), code="weak_password", field="password")
        if _has_account(person):
            raise AssistedError(HAS_ACCOUNT, code="has_account")
        if not decide(person=person, dossier=assisted.dossier, action=Action.CLAIM_AT_COUNTER).allowed:
            raise AssistedError(PERSON_NOT_ELIGIBLE, code="not_eligible")
        try:
            with transaction.atomic():
                account = account_create(actor=actor, person=person, password=password)
        except IntegrityError:
            # Account.person is unique: the person got an account meanwhile through another path.
            raise AssistedError(HAS_ACCOUNT, code="has_account") from None
        except AccountNotAllowed:
            raise AssistedError(PERSON_NOT_ELIGIBLE, code="too_young") from None
        if (
            credential is not None
            and credential.retired_on_web_at is None
            and decide(person=person, dossier=assisted.dossier, action=Action.CLAIM_BY_FIRST_CONNECTION).allowed
        ):
            # As this person's own first connection would: the old code no longer opens the file
            # on the web (the phone keeps it until its end date, moncompte.accounts.legacy).
            credential.retired_on_web_at = now
            credential.save(update_fields=["retired_on_web_at"])
        assisted.completed_at = now
        assisted.save(update_fields=["completed_at"])
        acting = actor.signed_in_as(account, session_key=actor.session_key)
        journal_record(
            action=JournalAction.ASSISTED_COMPLETED,
            actor=acting,
            subject_person=person,
            dossier=assisted.dossier,
            detail={"assisted": assisted.pk},
        )
        # Issue 9: an invitation the person had received serves no more (shown "Compte créé").
        invitations_close_for(actor=acting, person=person)
    return account
