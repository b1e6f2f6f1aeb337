"""Who a FranceConnect identity is here, the link on its ``sub``, and what the first time creates.

**Recognition** (``franceconnect_recognise``), in this order:

1. The identity's birth date must allow an account (moncompte.accounts.services.account_allowed:
   over 15): else refused, whoever it designates.
2. The identity is matched without identifier (moncompte.identity.matching.match_person:
   normalised names, birth date, sex, birth place or country). Exactly one person must come out,
   and that person's NIR digits must agree with the identity (``nir_identity_problems``: sex,
   year and month, place); a disagreement makes it no match. Several persons with that identity
   are "several", whatever their NIRs say: an ambiguity for an agent, never a sign-in.
3. A link already stored for the ``sub`` is the usual case (later sign-ins): the identity must
   still designate the linked person (a person whose identity changed since, or a duplicate
   that appeared, is refused, with a generic message).
4. No link yet: one person recognised waits for the person's confirmation
   (``franceconnect_link_confirm``); none or several is "not recognised", the same answer for
   both (no enumeration), and the channel offers the identity check instead.

Every outcome but a confirmation still to come is journaled with a reason code, never a claim;
refusals in their own transaction before they are raised.

**Confirmation** (``franceconnect_link_confirm``): everything is checked again, then, in one
transaction, the link and, for a person without an account, the account (no usable password: the
person signs in through FranceConnect, validates a contact, and may choose a password later,
``franceconnect_password_set``). The link's unique ``sub`` and unique person make a second
confirmation fail: it is refused, never a second link. The person's open invitations close with
the account's creation, as with every other way an account comes (issue 9).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.accounts.passwords import password_problems
from moncompte.accounts.recovery import PasswordRefused
from moncompte.accounts.services import account_allowed, account_create
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError
from moncompte.franceconnect.identity import PivotIdentity
from moncompte.franceconnect.models import FranceConnectLink
from moncompte.households.invitations import invitations_close_for
from moncompte.identity.matching import MatchOutcome, match_person, nir_identity_problems
from moncompte.identity.models import Person

__all__ = [
    "Confirmed",
    "FranceConnectRefused",
    "PasswordAlreadySet",
    "Recognised",
    "Recognition",
    "franceconnect_link_confirm",
    "franceconnect_link_used",
    "franceconnect_password_set",
    "franceconnect_recognise",
]

MESSAGE_REFUSED = (
    "Nous ne pouvons pas vous connecter avec FranceConnect. Connectez-vous avec votre numéro de "
    "sécurité sociale et votre mot de passe, ou contactez votre Caf."
)


class FranceConnectRefused(DomainError):
    """Nobody is signed in; ``reason`` (a code for the journal) says why, the message never does."""

    code = "franceconnect_refused"
    message = MESSAGE_REFUSED
    status = 403

    def __init__(self, reason: str, *, message: str | None = None):
        super().__init__(message)
        self.reason = reason


class PasswordAlreadySet(DomainError):
    code = "password_exists"
    message = "Votre compte a déjà un mot de passe : vous pouvez le changer depuis la page « Mot de passe »."


class Recognition(enum.StrEnum):
    LINKED = "linked"  # the link exists: signed in at once
    TO_CONFIRM = "to_confirm"  # one person recognised, no link yet: the person confirms first
    NOT_RECOGNISED = "not_recognised"  # none or several: the identity check path


@dataclass(frozen=True)
class Recognised:
    outcome: Recognition
    person: Person | None = None
    account: Account | None = None  # the person's account, if they have one


@dataclass(frozen=True)
class Confirmed:
    account: Account
    account_created: bool


def _refuse(actor: Actor, reason: str, *, person: Person | None = None, message: str | None = None):
    with transaction.atomic():
        journal_record(
            action=JournalAction.FRANCECONNECT_REFUSED, actor=actor, subject_person=person, detail={"reason": reason}
        )
    raise FranceConnectRefused(reason, message=message)


def _designated(identity: PivotIdentity) -> tuple[MatchOutcome, Person | None]:
    """The person the identity designates (ONE), or NONE or MANY (module docstring, step 2)."""
    result = match_person(**identity.matching_fields())
    if result.outcome is not MatchOutcome.ONE:
        return result.outcome, None
    person = result.person
    problems = nir_identity_problems(
        person.identifier,
        birth_date=identity.birth_date,
        sex=identity.sex,
        birth_place_code=identity.birth_place_code,
        birth_country_code=identity.birth_country_code,
    )
    if problems:
        return MatchOutcome.MISMATCH, None
    return MatchOutcome.ONE, person


_NOT_RECOGNISED_REASONS = {MatchOutcome.NONE: "no_match", MatchOutcome.MISMATCH: "nir_cross_check"}


def franceconnect_recognise(*, actor: Actor, sub: str, identity: PivotIdentity) -> Recognised:
    """Who this FranceConnect identity is here (module docstring). Raises FranceConnectRefused."""
    if not account_allowed(Person(birth_date=identity.birth_date)):
        _refuse(
            actor,
            "too_young",
            message=f"Un compte personnel peut être créé à partir de {settings.MONCOMPTE_ACCOUNT_MIN_AGE} ans.",
        )
    outcome, person = _designated(identity)
    link = FranceConnectLink.objects.select_related("person").filter(sub=sub).first()
    if link is not None:
        if person is None or person.pk != link.person_id:
            _refuse(actor, "link_mismatch", person=link.person)
        return _with_account(actor, Recognition.LINKED, person)
    if outcome is MatchOutcome.MANY:
        journal_record(action=JournalAction.FRANCECONNECT_SEVERAL, actor=actor, detail={"reason": "several"})
        return Recognised(Recognition.NOT_RECOGNISED)
    if person is None:
        reason = _NOT_RECOGNISED_REASONS.get(outcome, "no_match")
        journal_record(action=JournalAction.FRANCECONNECT_NO_MATCH, actor=actor, detail={"reason": reason})
        return Recognised(Recognition.NOT_RECOGNISED)
    if FranceConnectLink.objects.filter(person=person).exists():
        # The person confirmed another FranceConnect identity before: never two links.
        _refuse(actor, "person_linked_elsewhere", person=person)
    return _with_account(actor, Recognition.TO_CONFIRM, person)


def _with_account(actor: Actor, outcome: Recognition, person: Person) -> Recognised:
    account = Account.objects.filter(person=person).first()
    if account is not None and not account.is_active:
        _refuse(actor, "account_inactive", person=person)
    if outcome is Recognition.LINKED and account is None:
        # The link and the account are created together: a link without an account is not ours.
        _refuse(actor, "link_without_account", person=person)
    return Recognised(outcome, person, account)


def franceconnect_link_confirm(*, actor: Actor, sub: str, identity: PivotIdentity, person_id: int) -> Confirmed:
    """The person confirmed that the person recognised (``person_id``) is them: store the link,
    and create their account if they had none. Raises FranceConnectRefused (nothing written)."""
    recognised = franceconnect_recognise(actor=actor, sub=sub, identity=identity)
    if recognised.outcome is Recognition.LINKED:
        _refuse(actor, "already_linked", person=recognised.person)
    if recognised.outcome is not Recognition.TO_CONFIRM or recognised.person.pk != person_id:
        _refuse(actor, "no_longer_recognised")
    person = recognised.person
    try:
        with transaction.atomic():
            FranceConnectLink.objects.create(sub=sub, person=person, last_used_at=timezone.now())
            account = recognised.account
            created = account is None
            if created:
                # No usable password: FranceConnect is the way in, a password may come later.
                account = account_create(actor=actor, person=person, password=None)
                # An invitation the person had received serves no more, however the account came.
                invitations_close_for(actor=actor.signed_in_as(account, session_key=actor.session_key), person=person)
            journal_record(
                action=JournalAction.FRANCECONNECT_LINK_CONFIRMED,
                actor=actor,
                subject_person=person,
                detail={"account_created": created},
            )
    except IntegrityError:
        # A second confirmation (double submission, another tab) or a race: the first one won.
        _refuse(actor, "already_linked", person=person)
    return Confirmed(account=account, account_created=created)


def franceconnect_link_used(*, sub: str) -> None:
    """A sign-in through the link: when it was last used (the sign-in itself is journaled by the session)."""
    FranceConnectLink.objects.filter(sub=sub).update(last_used_at=timezone.now())


def franceconnect_password_set(*, actor: Actor, password: str) -> Account:
    """The first password of an account created through FranceConnect (it had none); the account
    as saved (the channel keeps its session valid with the new password's hash).

    The password policy of moncompte.accounts.passwords applies (PasswordRefused "weak"); an
    account that already has a password changes it the usual way (PasswordAlreadySet).
    """
    with transaction.atomic():
        account = Account.objects.select_for_update().select_related("person").get(pk=actor.account.pk)
        if account.has_usable_password():
            raise PasswordAlreadySet(field="password")
        problems = password_problems(password, person=account.person)
        if problems:
            raise PasswordRefused([p.message for p in problems], code="weak", field="password")
        account.set_password(password)
        account.password_changed_at = timezone.now()
        account.save(update_fields=["password", "password_changed_at"])
        journal_record(action=JournalAction.FRANCECONNECT_PASSWORD_SET, actor=actor)
    return account
