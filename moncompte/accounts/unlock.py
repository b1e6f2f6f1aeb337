"""Signing in without waiting when strangers keep an identifier throttled (issue 8, point 4).

The sign-in counts failures per identifier (moncompte.accounts.throttling): anyone who knows a
person's NIR can keep that counter full with one wrong password every few minutes, and every
browser of that person that holds no device token then waits up to 15 minutes, for as long as
the attack lasts. The unlock gives such a browser its own way in, that a stranger can neither
use nor block:

1. ``unlock_request``: the person types their identifier **and their password**. The password
   is checked (one Argon2 run, whatever the identifier: ``signin.password_matches``) but the
   answer never says whether it was right: it is always the same neutral page ("Si un compte
   correspond à ces identifiants, un code vient d'être envoyé…"). Only when the password is
   right does a code go to each validated contact of the account; otherwise, and for an unknown
   identifier, a person without account or an account without contact, two *decoy* challenges
   are made (as in moncompte.accounts.recovery), so the next step answers alike too.
2. ``unlock_verify``: the code typed back, checked against both flows (5 tries each, 10
   minutes, single use: moncompte.verification). Once proven, the channel opens the session and
   gives the browser a device token (the same as after a normal sign-in): from then on it has
   its own counter, and the identifier's counter no longer concerns it.

Why the password comes first, not after the code: a code sent on a mere identifier would let
any stranger send them (the person is flooded) and exhaust the per-destination cap of the
verification app (10 codes an hour, every purpose counted): the stranger would block the unlock
itself, again with a few requests an hour. Sent only after the right password, a code costs the
attacker the secret they are trying to guess. And a wrong password here teaches nothing: the
answer is the same, and only the holder of the contact would notice a code, and that holder can
reset the password anyway (recovery). So no free guess is given.

Limits, none of which a stranger can fill for someone else:
- every request and every wrong code counts on a per-address scope of its own
  (``throttling.address_scope("signin_unlock", ...)``: 30 free, then doubling waits up to an
  hour); nothing is counted per identifier, which is what a stranger could fill;
- codes: the verification app's per-destination cap (silently replaced by a decoy when
  reached, and journaled), its 5 tries per code and its 10 minutes;
- the flow's state (flow references, the account id when the password was right, a stamp of
  the password hash) lives in the server-side session only; a password changed meanwhile makes
  the proven code worthless (``password_stamp``).

What differs between a real account and a decoy (the message rows) is covered by a minimum
duration of the request step (``unlock_request_min_seconds``), applied by the channel.

Nothing here logs or journals a code or a password.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac

from moncompte.accounts import throttling
from moncompte.accounts.models import Account, Contact
from moncompte.accounts.signin import password_matches
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, ContactChannel
from moncompte.core.waits import too_many_attempts, wait_text
from moncompte.identity.identifiers import Identifier
from moncompte.identity.services import identifier_holder
from moncompte.verification.models import Purpose
from moncompte.verification.services import (
    CheckOutcome,
    CheckResult,
    CodeSendRefused,
    challenge_check,
    challenge_decoy,
    challenge_issue,
    new_flow_ref,
)

__all__ = [
    "UNLOCK_PURPOSE",
    "UNLOCK_SLOTS",
    "UnlockCheck",
    "UnlockRequest",
    "unlock_request",
    "unlock_request_min_seconds",
    "unlock_verify",
]

# The codes' own purpose, and its message: "your password was just typed on a new device; if it
# was not you, change it". Flows never mix: a code's digest binds its flow.
UNLOCK_PURPOSE = Purpose.SIGNIN_UNLOCK

# The two slots of every request, in this order: one flow (and one code) per channel.
UNLOCK_SLOTS = (ContactChannel.EMAIL, ContactChannel.PHONE)

# The per-address scope of unlock requests and wrong codes (moncompte.accounts.throttling).
ADDRESS_SCOPE = "signin_unlock"


MESSAGE_STALE = "Ce code n'est plus valable. Recommencez la demande."


def unlock_request_min_seconds() -> float:
    """How long an unlock request takes at least (``MONCOMPTE_SIGNIN_UNLOCK_MIN_SECONDS``)."""
    return float(settings.MONCOMPTE_SIGNIN_UNLOCK_MIN_SECONDS)


def _scopes(actor: Actor) -> list[throttling.ThrottleScope]:
    return [throttling.address_scope(ADDRESS_SCOPE, actor.client_address or "")]


def _password_stamp(account: Account) -> str:
    """A keyed digest of the account's current password hash: changes when the password does."""
    return salted_hmac("moncompte.accounts.unlock", account.password).hexdigest()[:32]


# Step 1 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnlockRequest:
    """What the channel keeps in its server-side session after step 1.

    ``account_id`` is set only when the password was right; ``wait_seconds`` > 0: throttled,
    nothing was done (and nothing is to be kept).
    """

    flow_refs: tuple[str, ...] = ()
    account_id: int | None = None
    password_stamp: str = ""
    former_identifier: bool = False
    wait_seconds: int = 0

    @property
    def throttled(self) -> bool:
        return self.wait_seconds > 0

    def wait_message(self) -> str:
        return f"Trop de demandes depuis votre connexion. Réessayez dans {wait_text(self.wait_seconds)}."


def unlock_request(*, actor: Actor, identifier: Identifier, password: str) -> UnlockRequest:
    """Step 1: when ``password`` opens the account of ``identifier``, send a code to each of its
    validated contacts; otherwise make decoys. The same answer and work either way."""
    scopes = _scopes(actor)
    wait = throttling.scopes_wait(scopes)
    if wait:
        journal_record(action=JournalAction.SIGNIN_UNLOCK_THROTTLED, actor=actor, detail={"wait_seconds": wait})
        return UnlockRequest(wait_seconds=wait)
    # Every request counts, right password or not: each one costs an Argon2 run and may send.
    throttling.scopes_failed(scopes)

    holder, former = identifier_holder(identifier)
    account = getattr(holder, "account", None) if holder is not None else None
    password_ok = password_matches(account, password)
    if not password_ok:
        account = None
    # The latest validated contact of each kind (the query runs without an account too).
    contacts = Contact.objects.filter(account_id=account.pk if account is not None else None, verified_at__isnull=False)
    by_kind = {contact.kind: contact for contact in contacts.order_by("verified_at", "id")}

    flow_refs = []
    sent = refused = 0
    with transaction.atomic():
        for channel in UNLOCK_SLOTS:
            flow_ref = new_flow_ref()
            flow_refs.append(flow_ref)
            contact = by_kind.get(channel)
            if contact is None:
                challenge_decoy(purpose=UNLOCK_PURPOSE, channel=channel, flow_ref=flow_ref)
                continue
            try:
                challenge_issue(
                    purpose=UNLOCK_PURPOSE,
                    channel=channel,
                    destination=contact.value,
                    flow_ref=flow_ref,
                    account=account,
                )
            except (CodeSendRefused, ValueError):
                # Too many codes to this destination this hour (or a stored value no longer
                # valid): nothing is sent, and the answer must not tell.
                refused += 1
                challenge_decoy(purpose=UNLOCK_PURPOSE, channel=channel, flow_ref=flow_ref)
            else:
                sent += 1
        journal_record(
            action=JournalAction.SIGNIN_UNLOCK_REQUEST,
            actor=actor,
            subject_person=holder,
            detail={"password_ok": password_ok, "sent": sent, "refused": refused},
        )
    return UnlockRequest(
        flow_refs=tuple(flow_refs),
        account_id=account.pk if account is not None else None,
        password_stamp=_password_stamp(account) if account is not None else "",
        former_identifier=former and account is not None,
    )


# Step 2 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnlockCheck:
    """The answer to a typed code: ``account`` once proven (the channel opens the session), else
    a French ``message``. ``former_identifier``: proven, but with an identifier that was
    replaced: the channel tells the new one and opens no session (as the sign-in does)."""

    account: Account | None = None
    message: str = ""
    outcome: str = ""
    wait_seconds: int = 0
    former_identifier: bool = False

    @property
    def ok(self) -> bool:
        return self.account is not None


def unlock_verify(
    *,
    actor: Actor,
    flow_refs: tuple[str, ...] | list[str],
    account_id: int | None,
    password_stamp: str,
    code: str,
    former_identifier: bool = False,
) -> UnlockCheck:
    """Step 2: check ``code`` against every flow of the request (decoys included)."""
    scopes = _scopes(actor)
    wait = throttling.scopes_wait(scopes)
    if wait:
        journal_record(action=JournalAction.SIGNIN_UNLOCK_THROTTLED, actor=actor, detail={"wait_seconds": wait})
        return UnlockCheck(message=too_many_attempts(wait), outcome="throttled", wait_seconds=wait)
    # Every flow is checked, whatever the first answer: the work does not depend on the match.
    results = [challenge_check(flow_ref=ref, purpose=UNLOCK_PURPOSE, code=code) for ref in flow_refs]
    proven = next((r for r in results if r.ok), None)
    account = None
    if proven is not None and account_id is not None and proven.challenge.account_id == account_id:
        account = Account.objects.filter(pk=account_id, is_active=True).select_related("person").first()
        if account is not None and not constant_time_compare(_password_stamp(account), password_stamp):
            # The password changed since step 1 (a reset, say): the proof was for the old one.
            journal_record(
                action=JournalAction.SIGNIN_UNLOCK_FAILURE,
                actor=actor,
                subject_person=account.person,
                detail={"outcome": "stale"},
            )
            return UnlockCheck(message=MESSAGE_STALE, outcome="stale")
    if account is not None:
        if former_identifier:
            journal_record(action=JournalAction.SIGNIN_FORMER_IDENTIFIER, actor=actor, subject_person=account.person)
        # The success is journaled by the session the channel opens (SIGNIN_UNLOCK_SUCCESS).
        return UnlockCheck(account=account, outcome=CheckOutcome.OK, former_identifier=former_identifier)

    throttling.scopes_failed(scopes)
    shown = next((r for r in results if r.outcome != CheckOutcome.NONE), None) or CheckResult(CheckOutcome.NONE)
    if shown.ok:  # proven for another account than the flow's (cannot happen): never accepted
        message, outcome = "Ce code a déjà été utilisé.", CheckOutcome.USED
    else:
        message, outcome = shown.message, shown.outcome
    journal_record(action=JournalAction.SIGNIN_UNLOCK_FAILURE, actor=actor, detail={"outcome": str(outcome)})
    return UnlockCheck(message=message, outcome=outcome)
