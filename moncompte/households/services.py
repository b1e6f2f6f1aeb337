"""Writes on a household: the delegation (autorisation de gestion) and a declared separation.

Every function asks the one policy (moncompte.access.policy) on rows locked in its own
transaction, writes the journal entry and queues the messages in that same transaction: if
anything fails, nothing is changed, nothing is journaled and nothing is sent. The policy is read
from the database at each request, so a change here takes effect on the very next request of
every open session (docs/access.md, "Delegation" and "Separation").
"""

import datetime
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from moncompte.access.policy import Action, couple, couple_condition, decide_for_standing, standing_of
from moncompte.accounts.reauth import reauthenticate
from moncompte.accounts.services import notify_people
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.households.models import Dossier, Member, SituationChange

_POSTAL_CODE = re.compile(r"^\d{5}$")

MESSAGE_NOT_ALLOWED = "Vous ne pouvez pas modifier l'autorisation de gestion de ce dossier."
MESSAGE_NO_SPOUSE = "Aucun conjoint ou conjointe n'est rattaché(e) à ce dossier."
MESSAGE_ALREADY_GRANTED = "L'autorisation de gestion est déjà accordée."
MESSAGE_NOT_GRANTED = "Aucune autorisation de gestion n'est en cours."
MESSAGE_SEPARATION_NOT_ALLOWED = "Vous ne pouvez pas déclarer de séparation sur ce dossier."


class DelegationError(DomainError):
    """A delegation change refused; nothing was changed.

    ``code``: "not_allowed" (DelegationNotAllowed), "no_spouse", "already_granted", "not_granted".
    A wrong password or too many of them come from the re-authentication (WrongPassword,
    Throttled), not from here.
    """

    message = MESSAGE_NOT_ALLOWED


class DelegationNotAllowed(DelegationError, NotAllowed):
    """The policy refuses the change to this person (also a NotAllowed: an API answers 404)."""

    code = "not_allowed"
    message = MESSAGE_NOT_ALLOWED


class SeparationError(DomainError):
    """A separation refused; ``field`` is the form field it is about (or None). Nothing was changed."""


class SeparationNotAllowed(SeparationError, NotAllowed):
    code = "not_allowed"
    message = MESSAGE_SEPARATION_NOT_ALLOWED


@dataclass(frozen=True)
class DelegationChange:
    action: str  # "granted", "revoked" (by the responsible person) or "renounced" (by the spouse)
    spouse: Member
    at: datetime.datetime


# Helpers ----------------------------------------------------------------------------------------


def _locked_couple(dossier: Dossier) -> list[Member]:
    """The file's current responsible person and spouse, locked until the end of the transaction."""
    return list(
        Member.objects.current()
        .select_for_update()
        .filter(couple_condition(), dossier=dossier)
        .select_related("person")
        .order_by("id")
    )


def _may(actor: Actor, dossier: Dossier, action: Action) -> bool:
    """Asked before the password is checked (the answer is asked again on the locked rows)."""
    person = actor.subject
    member = Member.objects.filter(person=person, dossier=dossier).first() if person is not None else None
    return decide_for_standing(standing_of(member), action).allowed


def _reauthenticate(actor: Actor, password: str, dossier: Dossier) -> None:
    # Outside the write transaction: a wrong attempt stays counted and journaled though refused.
    reauthenticate(actor=actor, password=password, purpose="delegation", dossier=dossier)


# Delegation -------------------------------------------------------------------------------------


def delegation_grant(*, actor: Actor, dossier: Dossier, password: str) -> DelegationChange:
    """The responsible person authorizes the current spouse to manage the file (GRANT_DELEGATION).

    Raises DelegationError (nothing changed): not allowed, no current spouse, already granted;
    WrongPassword or Throttled from the re-authentication.
    """
    if not _may(actor, dossier, Action.GRANT_DELEGATION):
        raise DelegationNotAllowed()
    _reauthenticate(actor, password, dossier)
    with transaction.atomic():
        members = _locked_couple(dossier)
        # Asked again on the locked rows: the standing may have changed since.
        me = next((m for m in members if m.person_id == actor.subject.pk), None)
        if not decide_for_standing(standing_of(me), Action.GRANT_DELEGATION).allowed:
            raise DelegationNotAllowed()
        responsable, spouse = couple(members)
        if spouse is None:
            raise DelegationError(MESSAGE_NO_SPOUSE, code="no_spouse")
        if spouse.delegation_granted_at is not None:
            raise DelegationError(MESSAGE_ALREADY_GRANTED, code="already_granted")
        now = timezone.now()
        spouse.delegation_granted_at = now
        spouse.save(update_fields=["delegation_granted_at"])
        told = notify_people(
            [me.person, spouse.person],
            template="delegation_granted",
            context={"responsable": me.person.display_name, "spouse": spouse.person.display_name, "at": now},
        )
        journal_record(
            action=JournalAction.DELEGATION_GRANTED,
            actor=actor,
            subject_person=spouse.person,
            dossier=dossier,
            detail={"notified": told},
        )
    return DelegationChange(action="granted", spouse=spouse, at=now)


def _withdraw(*, actor: Actor, dossier: Dossier, password: str, action: Action) -> DelegationChange:
    """Revoke (the responsible person) or renounce (the delegated spouse): the same change, told
    and journaled as what it is."""
    if not _may(actor, dossier, action):
        raise DelegationNotAllowed()
    _reauthenticate(actor, password, dossier)
    renounced = action == Action.RENOUNCE_DELEGATION
    with transaction.atomic():
        members = _locked_couple(dossier)
        me = next((m for m in members if m.person_id == actor.subject.pk), None)
        responsable, spouse = couple(members)
        if not decide_for_standing(standing_of(me), action).allowed:
            if me is not None and me == spouse:
                # The spouse whose delegation was withdrawn meanwhile: nothing left to renounce.
                raise DelegationError(MESSAGE_NOT_GRANTED, code="not_granted")
            raise DelegationNotAllowed()
        if spouse is None or spouse.delegation_granted_at is None:
            raise DelegationError(MESSAGE_NOT_GRANTED, code="not_granted")
        now = timezone.now()
        spouse.delegation_granted_at = None
        spouse.save(update_fields=["delegation_granted_at"])
        people = [m.person for m in (responsable, spouse) if m is not None]
        told = notify_people(
            people,
            template="delegation_revoked",
            context={
                "responsable": responsable.person.display_name if responsable else "le ou la responsable du dossier",
                "spouse": spouse.person.display_name,
                "at": now,
                "renounced": renounced,
            },
        )
        journal_record(
            action=JournalAction.DELEGATION_RENOUNCED if renounced else JournalAction.DELEGATION_REVOKED,
            actor=actor,
            subject_person=spouse.person,
            dossier=dossier,
            detail={"notified": told},
        )
    return DelegationChange(action="renounced" if renounced else "revoked", spouse=spouse, at=now)


def delegation_revoke(*, actor: Actor, dossier: Dossier, password: str) -> DelegationChange:
    """The responsible person withdraws the spouse's delegation (REVOKE_DELEGATION).

    Raises DelegationError (nothing changed): not allowed, no delegation; WrongPassword or
    Throttled from the re-authentication.
    """
    return _withdraw(actor=actor, dossier=dossier, password=password, action=Action.REVOKE_DELEGATION)


def delegation_renounce(*, actor: Actor, dossier: Dossier, password: str) -> DelegationChange:
    """The delegated spouse gives up their delegation (RENOUNCE_DELEGATION).

    Raises DelegationError (nothing changed): not allowed, no delegation (withdrawn meanwhile:
    "not_granted"); WrongPassword or Throttled from the re-authentication.
    """
    return _withdraw(actor=actor, dossier=dossier, password=password, action=Action.RENOUNCE_DELEGATION)


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
    *, actor: Actor, dossier: Dossier, separated_on: datetime.date, leaving_person, new_address: dict
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
    actor_person = actor.subject
    with transaction.atomic():
        members = _locked_couple(dossier)
        me = next((m for m in members if m.person_id == actor_person.pk), None)
        if not decide_for_standing(standing_of(me), Action.DECLARE_SEPARATION).allowed:
            raise SeparationNotAllowed()
        responsable, spouse = couple(members)
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
        told = notify_people(
            [responsable.person, spouse.person],
            template="separation_declared",
            context={"declared_by": actor_person.display_name, "separated_on": separated_on, "at": now},
        )
        # The new address is on the SituationChange only, not in the journal nor in messages.
        journal_record(
            action=JournalAction.SEPARATION_DECLARED,
            actor=actor,
            subject_person=spouse.person,
            dossier=dossier,
            detail={
                "situation_change_id": change.pk,
                "leaving_role": leaving.role,
                "separated_on": separated_on.isoformat(),
                "delegation_removed": had_delegation,
                "notified": told,
            },
        )
    return change
