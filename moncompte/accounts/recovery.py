"""Password reset through a validated contact, and password change by a signed-in person.

Reset ("Mot de passe oublié", PRODUCT.md section 1: "no answer ever reveals whether a NIR
exists"):

1. ``password_reset_request``: the person types an identifier. Whatever it is (unknown, a person
   without account, an inactive account, an account without validated contact, or a real one),
   the answer is the same redirect to the same neutral page ("Si un compte existe pour ce
   numéro, un code vient d'être envoyé à ses coordonnées validées"), and the same work is done:
   one look-up, one throttling count, one journal entry and always **two challenges**, one per
   slot (email, then mobile). A slot with a validated contact gets a real code
   (``challenge_issue``, purpose PASSWORD_RESET, one flow per channel, so each channel has its
   own code); a slot without one gets a *decoy*: a ContactChallenge row with no destination, no
   message and a random digest that no code matches. The decoys go through the very same
   ``challenge_check`` as real codes, so a wrong code answers "incorrect, N tries left", then
   "too many tries" or "expired", exactly as for a real account. A send refused by the
   per-destination rate limit is silently replaced by a decoy (and journaled), for the same
   reason. Masked contacts are never shown before the code is proven.
2. ``password_reset_verify``: the typed code is checked against both flows (both are always
   checked, so the work does not depend on which one matches). Each wrong code costs a try on
   both; both flows start together, so their counters stay in step. Two live codes per request
   double an attacker's odds (2 x 5 tries on 10^6 codes), which the per-identifier and
   per-address throttling then bounds.
3. ``password_reset_complete``: the policy, then the new hash, ``password_changed_at``, every
   session of the person ended, a notice to each validated contact, a journal entry. The person
   is not signed in: they sign in with the new password.

Sending happens after the commit, in the task worker (database task backend in production): the
request itself does only database writes. What still differs between a real account and a decoy
(the message rows) is covered by a minimum duration of the request step
(``reset_request_min_seconds``), applied by the view.

Throttling: every reset request and every wrong code counts on a per-identifier scope (keyed by
a hash of the identifier digest, or of the browser's device token when it already signed in to
that account, as for sign-in) and on the per-address scope "password_reset". Unknown identifiers
are counted exactly like known ones, so a throttled answer tells nothing either.

Change (``password_change``): the current password is required (a wrong one counts on a
per-account scope), then the policy; every other session ends, the current one is kept (the view
renews its key with ``update_session_auth_hash`` and calls ``session_rekeyed``), and every
validated contact is told.

Nothing here logs or journals a code or a password.
"""

import dataclasses
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from moncompte.accounts import throttling
from moncompte.accounts.models import Account, Contact
from moncompte.accounts.passwords import password_problems
from moncompte.accounts.reauth import WrongPassword, reauthenticate
from moncompte.accounts.services import verified_contacts
from moncompte.accounts.sessions import session_rekeyed, sessions_end_all
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, ContactChannel
from moncompte.core.errors import DomainError, Throttled
from moncompte.core.waits import too_many_attempts, wait_text
from moncompte.identity.identifiers import Identifier
from moncompte.identity.protection import identifier_digest
from moncompte.identity.services import identifier_holder
from moncompte.notifications.services import message_channel_for, message_send
from moncompte.verification.contacts import mask_destination
from moncompte.verification.models import Purpose
from moncompte.verification.services import (
    CheckOutcome,
    CodeSendRefused,
    challenge_check,
    challenge_decoy,
    challenge_issue,
    new_flow_ref,
)

__all__ = [
    "RESET_SLOTS",
    "PasswordRefused",
    "ResetCheck",
    "ResetRequest",
    "password_change",
    "password_reset_complete",
    "password_reset_request",
    "password_reset_verify",
    "reset_request_min_seconds",
    "session_rekeyed",
]

# The two slots of every reset request, in this order: one flow (and one code) per channel.
RESET_SLOTS = (ContactChannel.EMAIL, ContactChannel.PHONE)

DEFAULT_RESET_REQUEST_MIN_SECONDS = 0.25

MESSAGE_WRONG_CURRENT = "Votre mot de passe actuel est incorrect."
MESSAGE_UNCHANGED = "Le nouveau mot de passe doit être différent de votre mot de passe actuel."


def reset_request_min_seconds() -> float:
    """How long a reset request takes at least (``MONCOMPTE_PASSWORD_RESET_MIN_SECONDS``)."""
    return float(getattr(settings, "MONCOMPTE_PASSWORD_RESET_MIN_SECONDS", DEFAULT_RESET_REQUEST_MIN_SECONDS))


class PasswordRefused(DomainError):
    """The password was not changed.

    ``code``: "weak" (``messages`` lists every reason of the policy), "same", "wrong_current" or
    "throttled" (``wait_seconds``); ``field`` names the form field the messages belong to, or None.
    """

    code = "password_refused"

    def __init__(self, messages: list[str], *, code: str, field: str | None = None, wait_seconds: int = 0):
        super().__init__(" ".join(messages), code=code, field=field)
        self.messages = messages
        self.wait_seconds = wait_seconds
        if code == "throttled":
            self.status = 429


# Reset, step 1 ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResetRequest:
    """What the web flow keeps in its server-side session after step 1.

    ``account_id`` is None for an identifier without usable account: its flows hold decoys only.
    ``wait_seconds`` > 0: throttled, nothing was done (and nothing is to be kept).
    """

    flow_refs: tuple[str, ...] = ()
    account_id: int | None = None
    throttle_key: str = ""
    former_identifier: bool = False
    wait_seconds: int = 0

    @property
    def throttled(self) -> bool:
        return self.wait_seconds > 0

    def wait_message(self) -> str:
        return (
            f"Trop de demandes pour ce numéro ou depuis votre connexion. Réessayez dans {wait_text(self.wait_seconds)}."
        )


def password_reset_request(*, actor: Actor, identifier: Identifier, device_token: str | None = None) -> ResetRequest:
    """Step 1: send a code to every validated contact of the identifier's account, if any.

    ``actor`` is the visitor asking. The outcome, the work and the time (with the view's minimum
    duration) are the same whether the identifier exists or not; see the module docstring.
    """
    digest = identifier_digest(identifier.value)
    throttle_key = throttling.password_reset_key(identifier_digest=digest, device_token=device_token)
    scopes = throttling.password_reset_scopes(throttle_key, actor.client_address or "")
    wait = throttling.scopes_wait(scopes)
    if wait:
        journal_record(action=JournalAction.PASSWORD_RESET_THROTTLED, actor=actor, detail={"wait_seconds": wait})
        return ResetRequest(wait_seconds=wait)
    # Every request counts, known identifier or not: each one may send messages.
    throttling.scopes_failed(scopes)

    person, former = identifier_holder(identifier)
    account = getattr(person, "account", None) if person is not None else None
    if account is not None and not account.is_active:
        account = None
    # The latest validated contact of each kind (the query runs for an unknown identifier too).
    contacts = Contact.objects.filter(account_id=account.pk if account is not None else None, verified_at__isnull=False)
    by_kind = {contact.kind: contact for contact in contacts.order_by("verified_at", "id")}

    flow_refs = []
    sent = refused = 0
    with transaction.atomic():
        for kind in RESET_SLOTS:
            flow_ref = new_flow_ref()
            flow_refs.append(flow_ref)
            channel = kind
            contact = by_kind.get(kind)
            if contact is None:
                challenge_decoy(purpose=Purpose.PASSWORD_RESET, channel=channel, flow_ref=flow_ref)
                continue
            try:
                challenge_issue(
                    purpose=Purpose.PASSWORD_RESET,
                    channel=channel,
                    destination=contact.value,
                    flow_ref=flow_ref,
                    account=account,
                )
            except (CodeSendRefused, ValueError):
                # Too many codes to this destination this hour (or a stored value no longer valid):
                # nothing is sent, and the answer must not tell.
                refused += 1
                challenge_decoy(purpose=Purpose.PASSWORD_RESET, channel=channel, flow_ref=flow_ref)
            else:
                sent += 1
        journal_record(
            action=JournalAction.PASSWORD_RESET_REQUEST,
            actor=actor,
            subject_person=person if account is not None else None,
            detail={"sent": sent, "refused": refused},
        )
    return ResetRequest(
        flow_refs=tuple(flow_refs),
        account_id=account.pk if account is not None else None,
        throttle_key=throttle_key,
        former_identifier=former and account is not None,
    )


# Reset, step 2 ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResetCheck:
    """The answer to a typed code: ``account`` once proven, else a French ``message``."""

    account: Account | None = None
    message: str = ""
    outcome: str = ""
    wait_seconds: int = 0

    @property
    def ok(self) -> bool:
        return self.account is not None


def password_reset_verify(
    *,
    actor: Actor,
    flow_refs: tuple[str, ...] | list[str],
    account_id: int | None,
    throttle_key: str,
    code: str,
) -> ResetCheck:
    """Step 2: check ``code`` against every flow of the request (decoys included)."""
    scopes = throttling.password_reset_scopes(throttle_key, actor.client_address or "")
    wait = throttling.scopes_wait(scopes)
    if wait:
        journal_record(action=JournalAction.PASSWORD_RESET_THROTTLED, actor=actor, detail={"wait_seconds": wait})
        return ResetCheck(message=too_many_attempts(wait), outcome="throttled", wait_seconds=wait)
    # Every flow is checked, whatever the first answer: the work does not depend on the match.
    results = [challenge_check(flow_ref=ref, purpose=Purpose.PASSWORD_RESET, code=code) for ref in flow_refs]
    proven = next((r for r in results if r.ok), None)
    account = None
    if proven is not None and account_id is not None and proven.challenge.account_id == account_id:
        account = Account.objects.filter(pk=account_id, is_active=True).select_related("person").first()
    if account is not None:
        throttling.scopes_cleared(scopes[:1])
        journal_record(action=JournalAction.PASSWORD_RESET_CODE_SUCCESS, actor=_proven(actor, account))
        return ResetCheck(account=account, outcome=CheckOutcome.OK)

    throttling.scopes_failed(scopes)
    shown = next((r for r in results if r.outcome != CheckOutcome.NONE), None) or results[0]
    if shown.ok:  # proven for another account than the flow's (cannot happen): never accepted
        shown_message, outcome = "Ce code a déjà été utilisé.", CheckOutcome.USED
    else:
        shown_message, outcome = shown.message, shown.outcome
    journal_record(action=JournalAction.PASSWORD_RESET_CODE_FAILURE, actor=actor, detail={"outcome": str(outcome)})
    return ResetCheck(message=shown_message, outcome=outcome)


# Setting the password -----------------------------------------------------------------------


def _check_policy(account: Account, password: str) -> None:
    problems = password_problems(password, person=account.person)
    if problems:
        raise PasswordRefused([p.message for p in problems], code="weak", field="password")


def _notify(account: Account, changed_at) -> int:
    """Tell each validated contact that the password changed; returns how many were told."""
    told = 0
    for contact in verified_contacts(account):
        message_send(
            channel=message_channel_for(contact.kind),
            recipient=contact.value,
            template="password_changed",
            context={"changed_at": changed_at},
            account=account,
        )
        told += 1
    return told


def _set_password(account: Account, password: str):
    now = timezone.now()
    account.set_password(password)
    account.password_changed_at = now
    account.save(update_fields=["password", "password_changed_at"])
    return now


def masked_contacts(account: Account) -> list[str]:
    """The validated contacts of ``account``, masked: only for someone who proved a code."""
    return [mask_destination(contact.kind, contact.value) for contact in verified_contacts(account)]


def _proven(actor: Actor, account: Account) -> Actor:
    """The visitor of a reset, once they proved a code of ``account``: they act as its person."""
    return dataclasses.replace(actor, person=account.person)


def password_reset_complete(*, actor: Actor, account: Account, password: str, device_token: str | None = None) -> int:
    """Step 3: set the new password, end every session, tell the person; returns sessions ended.

    Raises PasswordRefused ("weak") when the policy refuses the password: nothing is changed.
    The sign-in counters of the identifier (and of this browser's device token) are cleared: the
    person proved they hold a contact, and may have failed many times before asking.
    """
    _check_policy(account, password)
    with transaction.atomic():
        account = Account.objects.select_for_update().select_related("person").get(pk=account.pk)
        changed_at = _set_password(account, password)
        proven = _proven(actor, account)
        ended = sessions_end_all(actor=proven, account=account, reason="password_reset")
        told = _notify(account, changed_at)
        journal_record(
            action=JournalAction.PASSWORD_RESET, actor=proven, detail={"sessions_ended": ended, "notified": told}
        )
    digest = identifier_digest(account.person.identifier.value)
    throttling.signin_succeeded(identifier_digest=digest)
    if device_token:
        throttling.signin_succeeded(identifier_digest=digest, device_token=device_token)
    return ended


# Change -------------------------------------------------------------------------------------


def password_change(*, actor: Actor, current_password: str, new_password: str) -> int:
    """The signed-in actor changes their password; returns how many other sessions were ended.

    The current password goes through the one re-authentication (moncompte.accounts.reauth:
    throttled per account, journaled). Raises PasswordRefused: "throttled", "wrong_current",
    "weak" or "same"; nothing is changed then. The actor's session stays open: the channel
    renews its key (the web: ``update_session_auth_hash``, then ``session_rekeyed``).
    """
    account = actor.account
    try:
        reauthenticate(actor=actor, password=current_password, purpose="password_change")
    except Throttled as throttled:
        raise PasswordRefused([throttled.message], code="throttled", wait_seconds=throttled.wait_seconds) from None
    except WrongPassword:
        raise PasswordRefused([MESSAGE_WRONG_CURRENT], code="wrong_current", field="current_password") from None
    _check_policy(account, new_password)
    if new_password == current_password:
        raise PasswordRefused([MESSAGE_UNCHANGED], code="same", field="password")
    with transaction.atomic():
        changed_at = _set_password(account, new_password)
        ended = sessions_end_all(actor=actor, except_session_key=actor.session_key, reason="password_changed")
        told = _notify(account, changed_at)
        journal_record(
            action=JournalAction.PASSWORD_CHANGE, actor=actor, detail={"sessions_ended": ended, "notified": told}
        )
    return ended
