"""The agents' queue of declared separations (issue 12): who keeps the file, the new file of the
one who leaves, the change closed.

A separation declared by a spouse (moncompte.households.services.separation_declare) already
ended the spouse's membership and removed the delegation: the former spouse sees nothing more of
the file. The agent then decides (``separation_process``):

- **who keeps the file**: the responsible person (nothing changes on the file), or the spouse,
  who becomes its responsible person: the responsible person's membership ends today and the
  spouse's row becomes the current responsible one, in this order and in one transaction (the
  database holds one current responsible person per file). The person who leaves keeps their
  account and their own data, and sees nothing more of the file. The spouse's access, ended at
  the declaration, stays ended unless they keep the file; the delegation stays removed.
- **a new file for the one who leaves**: a new ``Dossier`` of the same Caf, with a new unique
  7-digit numéro, the leaver as its responsible person, at the new address declared for the one
  who leaves. When the agent gives the file to the person declared as leaving, they take the
  file to their new address and the new file of the other keeps the home's address.
- **the children who go with the one who leaves** (only into that new file): their membership of
  the old file ends today and they join the new one, in the same transaction; the other parent
  sees nothing more of them, the new file's responsible person sees them. The others stay.
- the change is closed: ``processed``, ``decision``, ``processed_at``/``processed_by``.

Both people are told at their validated contacts, without any address, and so is each child
who moved and holds an account. Who may process them:
``AgentPermission.PROCESS_SEPARATION`` on the files of the agent's Caf (moncompte.access.agents);
another Caf's separation is not found (NotAllowed, answered 404).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from moncompte.access.agents import AgentPermission, agent_caf_condition, agent_may
from moncompte.access.policy import children_condition, couple, couple_condition
from moncompte.accounts.services import notify_people
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.households.models import Dossier, Member, Role, SituationChange
from moncompte.households.services import ADDRESS_FIELDS
from moncompte.identity.models import Person

PERMISSION = AgentPermission.PROCESS_SEPARATION

# Who keeps the file: the agent's choice, as the form posts it.
KEEPER_RESPONSABLE = "responsable"
KEEPER_SPOUSE = "conjoint"
KEEPERS = {
    KEEPER_RESPONSABLE: "La personne responsable du dossier garde le dossier",
    KEEPER_SPOUSE: "Le conjoint ou la conjointe garde le dossier et en devient responsable",
}

# What each person is told (the template separation_processed).
OUTCOME_KEPT = "kept"  # the responsible person keeps the file
OUTCOME_BECAME_RESPONSABLE = "became_responsable"  # the spouse keeps it and becomes responsible
OUTCOME_LEFT = "left"  # the other one: no file any more
OUTCOME_LEFT_NEW_FILE = "left_new_file"  # the other one, with a new file of their own
OUTCOME_CHILD_MOVED = "child_moved"  # a child who went with them, into that new file

_NUMERO_TRIES = 20


class SeparationProcessError(DomainError):
    """A decision refused; nothing was changed. ``code``: "keeper", "already_processed",
    "changed" (the file is no longer as declared), "children" (children moved without a new
    file), "numero" (no free numéro found)."""

    code = "invalid_separation_decision"


@dataclass(frozen=True)
class SeparationCase:
    """What the agent's page shows of one declared separation."""

    change: SituationChange
    dossier: Dossier
    responsable: Person | None
    spouse: Person | None
    leaving: Person | None
    declared_by: Person
    new_address: dict
    new_dossier: Dossier | None
    # Before the decision: the file's current children, who may go with the one who leaves.
    # After it: those who went.
    children: tuple[Person, ...] = ()
    moved_children: tuple[Person, ...] = ()

    @property
    def processed(self) -> bool:
        return self.change.state == SituationChange.State.PROCESSED

    @property
    def keeper_label(self) -> str:
        return KEEPERS.get(self.change.decision.get("keeper", ""), "")


def _agent_of(actor: Actor):
    if actor.agent is None or not agent_may(actor.agent, PERMISSION):
        raise NotAllowed()
    return actor.agent


def _queue(agent) -> QuerySet[SituationChange]:
    return SituationChange.objects.filter(
        agent_caf_condition(agent, PERMISSION, caf_id_field="dossier__caf_id"),
        kind=SituationChange.Kind.SEPARATION,
    )


# Reads --------------------------------------------------------------------------------------


def separations_queue(*, actor: Actor, state: str = SituationChange.State.TO_PROCESS) -> QuerySet:
    """The declared separations of the agent's Caf in one state: those to process oldest first,
    the processed ones latest first."""
    agent = _agent_of(actor)
    rows = _queue(agent).filter(state=state).select_related("dossier__caf", "declared_by", "processed_by")
    if state == SituationChange.State.TO_PROCESS:
        return rows.order_by("declared_at", "id")
    return rows.order_by("-processed_at", "-id")


def separation_case(*, actor: Actor, change_id: int) -> SeparationCase:
    """One separation of the agent's queue with its two people; NotAllowed outside it."""
    agent = _agent_of(actor)
    change = _queue(agent).select_related("dossier__caf", "declared_by", "processed_by").filter(pk=change_id).first()
    if change is None:
        raise NotAllowed()
    data = change.data or {}
    ids = [data.get("responsable_person_id"), data.get("former_spouse_person_id"), data.get("leaving_person_id")]
    people = Person.objects.in_bulk([i for i in ids if i is not None])
    new_dossier_id = (change.decision or {}).get("new_dossier_id")
    new_dossier = Dossier.objects.select_related("caf").filter(pk=new_dossier_id).first() if new_dossier_id else None
    moved_ids = (change.decision or {}).get("moved_child_person_ids") or []
    moved = Person.objects.in_bulk(moved_ids)
    children = ()
    if change.state == SituationChange.State.TO_PROCESS:
        children = tuple(member.person for member in _current_children(change.dossier_id))
    return SeparationCase(
        change=change,
        dossier=change.dossier,
        responsable=people.get(ids[0]),
        spouse=people.get(ids[1]),
        leaving=people.get(ids[2]),
        declared_by=change.declared_by,
        new_address=data.get("new_address") or {},
        new_dossier=new_dossier,
        children=children,
        moved_children=tuple(moved[i] for i in moved_ids if i in moved),
    )


def separation_viewed(*, actor: Actor, change: SituationChange) -> None:
    """The agent opened the declaration (the new address of the one who leaves): journaled."""
    journal_record(
        action=JournalAction.SEPARATION_VIEWED,
        actor=actor,
        subject_person=None,
        dossier=change.dossier,
        detail={"situation_change_id": change.pk},
    )


# The decision -----------------------------------------------------------------------------------


def _address_of(dossier: Dossier) -> dict:
    return {field: getattr(dossier, field) for field in ADDRESS_FIELDS}


def _new_dossier(*, caf, address: dict) -> Dossier:
    """A new file of ``caf`` with a numéro no file of that Caf has: drawn at random, inserted
    under a savepoint, drawn again if another file took it meanwhile (the unique constraint)."""
    for _ in range(_NUMERO_TRIES):
        numero = f"{1_000_000 + secrets.randbelow(9_000_000)}"
        if Dossier.objects.filter(caf=caf, numero=numero).exists():
            continue
        try:
            with transaction.atomic():
                return Dossier.objects.create(caf=caf, numero=numero, **address)
        except IntegrityError:
            continue
    raise SeparationProcessError(
        "Aucun numéro allocataire libre n'a été trouvé : réessayez.", code="numero"
    )  # pragma: no cover - 9 million numbers per Caf


def _current_children(dossier_id: int, *, lock: bool = False) -> list[Member]:
    rows = Member.objects.filter(Member.current_condition(), children_condition(), dossier_id=dossier_id)
    if lock:
        rows = rows.select_for_update(of=("self",))
    return list(rows.select_related("person").order_by("id"))


def _locked_couple(change: SituationChange) -> tuple[Member, Member]:
    """The declared couple's rows, locked: the responsible person (still current) and the spouse
    (ended at the declaration); SeparationProcessError if the file changed since."""
    data = change.data or {}
    rows = list(
        Member.objects.select_for_update(of=("self",))
        .filter(couple_condition(), dossier=change.dossier_id)
        .filter(person_id__in=[data.get("responsable_person_id"), data.get("former_spouse_person_id")])
        .select_related("person")
        .order_by("id")
    )
    responsable, spouse = couple(rows)
    if (
        responsable is None
        or spouse is None
        or responsable.person_id != data.get("responsable_person_id")
        or spouse.person_id != data.get("former_spouse_person_id")
        or not responsable.is_current()
        or spouse.is_current()
    ):
        raise SeparationProcessError(
            "Le dossier a changé depuis la déclaration de séparation : vérifiez sa composition avant de traiter "
            "cette séparation.",
            code="changed",
        )
    return responsable, spouse


def separation_process(
    *,
    actor: Actor,
    change_id: int,
    keeper: str,
    new_file_for_leaver: bool,
    children_leaving: Collection[int] = (),
) -> SituationChange:
    """Process a declared separation: ``keeper`` (``KEEPER_RESPONSABLE`` or ``KEEPER_SPOUSE``)
    keeps the file, the other one leaves it, with a new file of their own if
    ``new_file_for_leaver``, taking the children whose person ids are in ``children_leaving``
    (current children of the file); the change is closed, the people told, the decision
    journaled.

    Raises NotAllowed outside the agent's queue; SeparationProcessError (nothing changed) for
    an unknown keeper, children without a new file, a separation already processed or a file no
    longer as declared (a child who left it meanwhile included)."""
    agent = _agent_of(actor)
    if keeper not in KEEPERS:
        raise SeparationProcessError("Choisissez qui garde le dossier.", code="keeper", field="keeper")
    children_leaving = set(children_leaving)
    if children_leaving and not new_file_for_leaver:
        raise SeparationProcessError(
            "Un enfant ne peut partir qu'avec un nouveau dossier : cochez l'ouverture d'un nouveau dossier au nom de "
            "la personne qui quitte le dossier.",
            code="children",
            field="children_leaving",
        )
    with transaction.atomic():
        # Only the rows themselves are locked (of "self"), not the joined file or Caf.
        change = _queue(agent).select_for_update(of=("self",)).filter(pk=change_id).first()
        if change is None:
            raise NotAllowed()
        if change.state != SituationChange.State.TO_PROCESS:
            raise SeparationProcessError("Cette séparation a déjà été traitée.", code="already_processed")
        dossier = Dossier.objects.select_for_update(of=("self",)).select_related("caf").get(pk=change.dossier_id)
        responsable, spouse = _locked_couple(change)
        moving = [m for m in _current_children(dossier.pk, lock=True) if m.person_id in children_leaving]
        if len(moving) != len(children_leaving):
            raise SeparationProcessError(
                "Le dossier a changé depuis l'affichage de cette page : vérifiez les enfants qui partent.",
                code="changed",
                field="children_leaving",
            )
        today = timezone.localdate()
        now = timezone.now()
        if keeper == KEEPER_SPOUSE:
            # The responsible person leaves first: the file never has two current responsible people.
            responsable.ended_on = today
            responsable.save(update_fields=["ended_on"])
            spouse.role = Role.RESPONSABLE
            spouse.ended_on = None
            spouse.delegation_granted_at = None
            spouse.save(update_fields=["role", "ended_on", "delegation_granted_at"])
            keeping, leaving = spouse, responsable
        else:
            keeping, leaving = responsable, spouse

        data = change.data or {}
        declared_address = data.get("new_address") or {}
        home = _address_of(dossier)
        # The declared address is the new one of the person declared as leaving: if they keep
        # the file, the file moves with them and the other one stays at the home's address.
        file_moved = bool(declared_address) and keeping.person_id == data.get("leaving_person_id")
        if file_moved:
            for field in ADDRESS_FIELDS:
                setattr(dossier, field, declared_address.get(field, ""))
            dossier.save(update_fields=list(ADDRESS_FIELDS))
        leaver_address = home if (file_moved or not declared_address) else declared_address

        new_dossier = None
        if new_file_for_leaver:
            new_dossier = _new_dossier(caf=dossier.caf, address={f: leaver_address.get(f, "") for f in ADDRESS_FIELDS})
            Member.objects.create(dossier=new_dossier, person=leaving.person, role=Role.RESPONSABLE, joined_on=today)
            for child in moving:
                # Out of the old file today (no longer current there), into the new one.
                child.ended_on = today
                child.save(update_fields=["ended_on"])
                Member.objects.create(dossier=new_dossier, person=child.person, role=Role.ENFANT, joined_on=today)
        moved_ids = [child.person_id for child in moving]

        change.state = SituationChange.State.PROCESSED
        change.processed_at = now
        change.processed_by = agent
        change.decision = {
            "keeper": keeper,
            "keeper_person_id": keeping.person_id,
            "leaver_person_id": leaving.person_id,
            "new_dossier_id": new_dossier.pk if new_dossier else None,
            "file_address_changed": file_moved,
            "moved_child_person_ids": moved_ids,
        }
        change.save(update_fields=["state", "processed_at", "processed_by", "decision"])

        common = {"separated_on": change.effective_on, "at": now, "children_moved": len(moving)}
        told = notify_people(
            [keeping.person],
            template="separation_processed",
            context={**common, "outcome": OUTCOME_BECAME_RESPONSABLE if keeper == KEEPER_SPOUSE else OUTCOME_KEPT},
        )
        told += notify_people(
            [leaving.person],
            template="separation_processed",
            context={**common, "outcome": OUTCOME_LEFT_NEW_FILE if new_dossier else OUTCOME_LEFT},
        )
        told += notify_people(
            [child.person for child in moving],
            template="separation_processed",
            context={**common, "outcome": OUTCOME_CHILD_MOVED},
        )
        # No address in the journal: the decision and where each person went only.
        journal_record(
            action=JournalAction.SEPARATION_PROCESSED,
            actor=actor,
            subject_person=leaving.person,
            dossier=dossier,
            detail={
                "situation_change_id": change.pk,
                "keeper": keeper,
                "new_dossier_id": new_dossier.pk if new_dossier else None,
                "file_address_changed": file_moved,
                "children_moved": len(moving),
                "notified": told,
            },
        )
        if new_dossier is not None:
            journal_record(
                action=JournalAction.SEPARATION_FILE_OPENED,
                actor=actor,
                subject_person=leaving.person,
                dossier=new_dossier,
                detail={
                    "situation_change_id": change.pk,
                    "from_dossier_id": dossier.pk,
                    "moved_child_person_ids": moved_ids,
                },
            )
    return change
