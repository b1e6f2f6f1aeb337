"""Writes on a household: the delegation (autorisation de gestion) and a declared separation.

Every function asks the one policy (moncompte.access.policy) on rows locked in its own
transaction, writes the journal entry and queues the messages in that same transaction: if
anything fails, nothing is changed, nothing is journaled and nothing is sent. The policy is read
from the database at each request, so a change here takes effect on the very next request of
every open session (docs/access.md, "Delegation" and "Separation").
"""

import datetime
import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from moncompte.access.policy import Action, Standing, decide_for_standing, standing_of
from moncompte.accounts import throttling
from moncompte.accounts.models import Account, ContactKind
from moncompte.accounts.services import verified_contacts
from moncompte.audit.services import journal_record
from moncompte.households.models import Dossier, Member, Role, SituationChange
from moncompte.notifications.services import message_send
from moncompte.verification.services import wait_text

_CHANNEL_OF_KIND = {ContactKind.EMAIL: "email", ContactKind.PHONE: "sms"}
_POSTAL_CODE = re.compile(r"^\d{5}$")

MESSAGE_NOT_ALLOWED = "Vous ne pouvez pas modifier l'autorisation de gestion de ce dossier."
MESSAGE_WRONG_PASSWORD = "Mot de passe incorrect."  # noqa: S105 (a message, not a password)
MESSAGE_NO_SPOUSE = "Aucun conjoint ou conjointe n'est rattaché(e) à ce dossier."
MESSAGE_ALREADY_GRANTED = "L'autorisation de gestion est déjà accordée."
MESSAGE_NOT_GRANTED = "Aucune autorisation de gestion n'est en cours."


class DelegationError(Exception):
    """A delegation change refused; ``message`` is French, for the person. Nothing was changed.

    ``code``: "not_allowed", "wrong_password", "throttled", "no_spouse", "already_granted",
    "not_granted".
    """

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class SeparationError(Exception):
    """A separation refused; ``message`` is French, ``field`` the form field it is about (or None)."""

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


@dataclass(frozen=True)
class DelegationChange:
    action: str  # "granted", "revoked" (by the responsible person) or "renounced" (by the spouse)
    spouse: Member
    at: datetime.datetime


# Helpers ----------------------------------------------------------------------------------------


def _locked_members(dossier: Dossier) -> list[Member]:
    """The file's current responsible person and spouse, locked until the end of the transaction."""
    return list(
        Member.objects.current()
        .select_for_update()
        .filter(dossier=dossier, role__in=[Role.RESPONSABLE, Role.CONJOINT])
        .select_related("person")
        .order_by("id")
    )


def _actor_standing(person, dossier: Dossier) -> tuple[Member | None, Standing]:
    """The actor's membership (locked) and standing, read inside the caller's transaction."""
    member = Member.objects.select_for_update().filter(person=person, dossier=dossier).first()
    return member, standing_of(member)


def _notify(people, *, template: str, context: dict) -> int:
    """Queue the message to every validated contact of each person with an account."""
    told = 0
    for person in people:
        account = Account.objects.filter(person=person).first()
        if account is None:
            continue
        for contact in verified_contacts(account):
            message_send(
                channel=_CHANNEL_OF_KIND[contact.kind],
                recipient=contact.value,
                template=template,
                context=context,
                account=account,
            )
            told += 1
    return told


def _password_scope(account: Account) -> throttling.ThrottleScope:
    return throttling.ThrottleScope(
        "throttle:household_password:account:" + hashlib.sha256(str(account.pk).encode()).hexdigest()[:32],
        settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER,
        settings.MONCOMPTE_THROTTLE_MAX_WAIT_PER_IDENTIFIER,
    )


def _check_password(*, actor_person, actor_account: Account, password: str, dossier: Dossier, **journal) -> None:
    """The person re-enters their password; wrong attempts are counted and slowed down."""
    if actor_account.person_id != actor_person.pk:
        raise ValueError("actor_account is not the account of actor_person.")
    scope = [_password_scope(actor_account)]
    wait = throttling.scopes_wait(scope)
    if wait:
        raise DelegationError(f"Trop de tentatives. Réessayez dans {wait_text(wait)}.", code="throttled")
    if not actor_account.check_password(password):
        throttling.scopes_failed(scope)
        journal_record(
            action="delegation.password_failure",
            actor_person=actor_person,
            subject_person=actor_person,
            dossier=dossier,
            **journal,
        )
        raise DelegationError(MESSAGE_WRONG_PASSWORD, code="wrong_password")


# Delegation -------------------------------------------------------------------------------------


def delegation_grant(
    *,
    actor_person,
    dossier: Dossier,
    password: str,
    actor_account: Account,
    session_key: str | None = None,
    client_address: str | None = None,
) -> DelegationChange:
    """The responsible person authorizes the current spouse to manage the file.

    Raises DelegationError (nothing changed): not the responsible person, wrong password,
    no current spouse, delegation already granted.
    """
    journal = {"session_key": session_key, "client_address": client_address}
    with transaction.atomic():
        _, current = _actor_standing(actor_person, dossier)
        allowed = decide_for_standing(current, Action.MANAGE_DELEGATION).allowed
        if not allowed or current != Standing.RESPONSABLE:
            raise DelegationError(MESSAGE_NOT_ALLOWED, code="not_allowed")
    # Outside the write transaction: a wrong attempt is counted and journaled even though refused.
    _check_password(
        actor_person=actor_person, actor_account=actor_account, password=password, dossier=dossier, **journal
    )
    with transaction.atomic():
        members = _locked_members(dossier)
        # Checked again on the locked rows: the standing may have changed since.
        actor = next((m for m in members if m.person_id == actor_person.pk), None)
        if actor is None or standing_of(actor) != Standing.RESPONSABLE:
            raise DelegationError(MESSAGE_NOT_ALLOWED, code="not_allowed")
        spouse = next((m for m in members if m.role == Role.CONJOINT), None)
        if spouse is None:
            raise DelegationError(MESSAGE_NO_SPOUSE, code="no_spouse")
        if spouse.delegation_granted_at is not None:
            raise DelegationError(MESSAGE_ALREADY_GRANTED, code="already_granted")
        now = timezone.now()
        spouse.delegation_granted_at = now
        spouse.save(update_fields=["delegation_granted_at"])
        told = _notify(
            [actor.person, spouse.person],
            template="delegation_granted",
            context={"responsable": actor.person.display_name, "spouse": spouse.person.display_name, "at": now},
        )
        journal_record(
            action="delegation.granted",
            actor_person=actor_person,
            subject_person=spouse.person,
            dossier=dossier,
            detail={"notified": told},
            **journal,
        )
    return DelegationChange(action="granted", spouse=spouse, at=now)


def delegation_revoke(
    *,
    actor_person,
    dossier: Dossier,
    password: str,
    actor_account: Account,
    session_key: str | None = None,
    client_address: str | None = None,
) -> DelegationChange:
    """The responsible person withdraws the delegation, or the delegated spouse renounces it.

    Raises DelegationError (nothing changed): neither of them, wrong password, no delegation.
    """
    journal = {"session_key": session_key, "client_address": client_address}
    with transaction.atomic():
        _, current = _actor_standing(actor_person, dossier)
        if not decide_for_standing(current, Action.MANAGE_DELEGATION).allowed:
            raise DelegationError(MESSAGE_NOT_ALLOWED, code="not_allowed")
    _check_password(
        actor_person=actor_person, actor_account=actor_account, password=password, dossier=dossier, **journal
    )
    with transaction.atomic():
        members = _locked_members(dossier)
        actor = next((m for m in members if m.person_id == actor_person.pk), None)
        current = standing_of(actor)
        if actor is None or current not in (Standing.RESPONSABLE, Standing.SPOUSE_DELEGATED):
            # A spouse whose delegation was withdrawn meanwhile lands here too.
            raise DelegationError(
                MESSAGE_NOT_GRANTED if current == Standing.SPOUSE else MESSAGE_NOT_ALLOWED,
                code="not_granted" if current == Standing.SPOUSE else "not_allowed",
            )
        spouse = next((m for m in members if m.role == Role.CONJOINT), None)
        if spouse is None or spouse.delegation_granted_at is None:
            raise DelegationError(MESSAGE_NOT_GRANTED, code="not_granted")
        responsable = next((m for m in members if m.role == Role.RESPONSABLE), None)
        renounced = current == Standing.SPOUSE_DELEGATED
        now = timezone.now()
        spouse.delegation_granted_at = None
        spouse.save(update_fields=["delegation_granted_at"])
        people = [m.person for m in (responsable, spouse) if m is not None]
        told = _notify(
            people,
            template="delegation_revoked",
            context={
                "responsable": responsable.person.display_name if responsable else "le ou la responsable du dossier",
                "spouse": spouse.person.display_name,
                "at": now,
                "renounced": renounced,
            },
        )
        action = "renounced" if renounced else "revoked"
        journal_record(
            action=f"delegation.{action}",
            actor_person=actor_person,
            subject_person=spouse.person,
            dossier=dossier,
            detail={"notified": told},
            **journal,
        )
    return DelegationChange(action=action, spouse=spouse, at=now)


# Separation -------------------------------------------------------------------------------------

ADDRESS_FIELDS = ("address_line1", "address_line2", "postal_code", "city")
_REQUIRED_ADDRESS = {
    "address_line1": "Saisissez l'adresse (numéro et voie).",
    "postal_code": "Saisissez le code postal.",
    "city": "Saisissez la commune.",
}


def _clean_address(new_address: dict) -> dict:
    address = {k: " ".join(str(new_address.get(k) or "").split()) for k in ADDRESS_FIELDS}
    for field, message in _REQUIRED_ADDRESS.items():
        if not address[field]:
            raise SeparationError(message, code="address", field=field)
    if not _POSTAL_CODE.match(address["postal_code"]):
        raise SeparationError("Le code postal comporte 5 chiffres.", code="address", field="postal_code")
    for field in ADDRESS_FIELDS:
        if len(address[field]) > 200:
            raise SeparationError("200 caractères au plus.", code="address", field=field)
    return address


def separation_declare(
    *,
    actor_person,
    dossier: Dossier,
    separated_on: datetime.date,
    leaving_person,
    new_address: dict,
    session_key: str | None = None,
    client_address: str | None = None,
) -> SituationChange:
    """One of the two spouses declares their separation.

    Whoever leaves, the spouse's membership (role conjoint) ends today: the delegation goes, and
    the former spouse sees nothing more of the file on their next request, in every channel,
    while keeping their account and their own data. The declared date and the new address of the
    one who leaves go on a SituationChange for the agents, who decide who keeps the file (if the
    responsible person is the one leaving, the file stays theirs until an agent changes it).

    Raises SeparationError (nothing changed): not allowed, no current spouse, leaving person not
    one of the two spouses, date in the future, incomplete address.
    """
    today = timezone.localdate()
    if separated_on > today:
        raise SeparationError(
            "La date de séparation ne peut pas être dans le futur.", code="future_date", field="separated_on"
        )
    address = _clean_address(new_address)
    with transaction.atomic():
        members = _locked_members(dossier)
        actor = next((m for m in members if m.person_id == actor_person.pk), None)
        if actor is None or not decide_for_standing(standing_of(actor), Action.DECLARE_SEPARATION).allowed:
            raise SeparationError("Vous ne pouvez pas déclarer de séparation sur ce dossier.", code="not_allowed")
        responsable = next((m for m in members if m.role == Role.RESPONSABLE), None)
        spouse = next((m for m in members if m.role == Role.CONJOINT), None)
        if spouse is None or responsable is None:
            raise SeparationError(MESSAGE_NO_SPOUSE, code="no_spouse")
        if leaving_person.pk == spouse.person_id:
            leaving = spouse
        elif leaving_person.pk == responsable.person_id:
            leaving = responsable
        else:
            raise SeparationError(
                "La personne qui part doit être l'un des deux conjoints.", code="leaving_person", field="leaving"
            )
        now = timezone.now()
        had_delegation = spouse.delegation_granted_at is not None
        spouse.delegation_granted_at = None
        spouse.ended_on = today
        spouse.save(update_fields=["delegation_granted_at", "ended_on"])
        change = SituationChange.objects.create(
            dossier=dossier,
            kind=SituationChange.Kind.SEPARATION,
            declared_by=actor_person,
            declared_at=now,
            effective_on=separated_on,
            data={
                "leaving_person_id": leaving.person_id,
                "leaving_role": leaving.role,
                "former_spouse_person_id": spouse.person_id,
                "responsable_person_id": responsable.person_id,
                "new_address": address,
                "delegation_removed": had_delegation,
            },
        )
        told = _notify(
            [responsable.person, spouse.person],
            template="separation_declared",
            context={"declared_by": actor_person.display_name, "separated_on": separated_on, "at": now},
        )
        # The new address is on the SituationChange only, not in the journal nor in messages.
        journal_record(
            action="separation.declared",
            actor_person=actor_person,
            subject_person=spouse.person,
            dossier=dossier,
            session_key=session_key,
            client_address=client_address,
            detail={
                "situation_change_id": change.pk,
                "leaving_role": leaving.role,
                "separated_on": separated_on.isoformat(),
                "delegation_removed": had_delegation,
                "notified": told,
            },
        )
    return change
