"""Drafts that expire, with a reminder before: ``manage.py procedures_expire`` runs it daily.

A draft lives MONCOMPTE_PROCEDURE_DRAFT_DAYS after its last save (a visitor's,
MONCOMPTE_PROCEDURE_VISITOR_DRAFT_HOURS). MONCOMPTE_PROCEDURE_REMINDER_DAYS before the end, the
people who may continue it and have an account get one message at their validated contacts
(a save sets the reminder off again). At the end it becomes "expirée": its values are wiped
(the history keeps who did what, not what was typed) and it is listed no more.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from moncompte.access.policy import allowed_memberships
from moncompte.accounts.services import notify_people
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.procedures.models import Procedure, ProcedureEvent
from moncompte.procedures.services import reminder_before


@dataclass(frozen=True)
class ExpiryRun:
    reminded: int
    expired: int


def _people_to_remind(procedure: Procedure) -> list:
    """Whoever may continue the draft: for a household one, the file's R and S+; else its author."""
    ptype = procedure.type
    if procedure.dossier_id is None or not ptype.household:
        return [procedure.person]
    from moncompte.households.models import Member

    rows = Member.objects.filter(dossier_id=procedure.dossier_id).select_related("person")
    people = []
    for member in rows:
        if allowed_memberships(member.person, ptype.action).filter(dossier_id=procedure.dossier_id).exists():
            people.append(member.person)
    return people


def _in_batches(queryset, batch_size: int):
    """Every id of ``queryset``, read ``batch_size`` at a time in id order: a day with more drafts
    due than a batch is caught up in the same run, and each row is handled once."""
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return
        yield from ids
        last = ids[-1]


def drafts_remind_and_expire(*, now: datetime.datetime | None = None, batch_size: int = 500) -> ExpiryRun:
    now = now or timezone.now()
    actor = Actor.system()
    reminded = expired = 0
    due = Procedure.objects.drafts().filter(
        person__isnull=False, reminded_at__isnull=True, expires_at__gt=now, expires_at__lte=now + reminder_before()
    )
    for procedure_id in _in_batches(due, batch_size):
        with transaction.atomic():
            procedure = Procedure.objects.select_for_update().filter(pk=procedure_id, reminded_at__isnull=True).first()
            if procedure is None or not procedure.is_draft:
                continue
            procedure.reminded_at = now
            procedure.save(update_fields=["reminded_at"])
            told = notify_people(
                _people_to_remind(procedure),
                template="procedure_draft_reminder",
                context={"label": procedure.type.label, "expires_at": procedure.expires_at},
            )
            ProcedureEvent.objects.create(
                procedure=procedure,
                kind=ProcedureEvent.Kind.REMINDED,
                channel=actor.channel,
                version=procedure.version,
                at=now,
                detail={"told": told},
            )
            journal_record(
                action=JournalAction.PROCEDURE_REMINDED,
                actor=actor,
                subject_person=procedure.person,
                dossier=procedure.dossier,
                detail={"procedure": procedure.pk, "type": procedure.type_code, "told": told},
            )
            reminded += 1
    ended = Procedure.objects.drafts().filter(expires_at__lte=now)
    for procedure_id in _in_batches(ended, batch_size):
        with transaction.atomic():
            procedure = Procedure.objects.select_for_update().filter(pk=procedure_id).first()
            if procedure is None or not procedure.is_draft or procedure.expires_at > now:
                continue
            procedure.state = Procedure.State.EXPIRED
            procedure.data = {}
            procedure.partner_data = {}
            procedure.corrections = {}
            procedure.save(update_fields=["state", "data", "partner_data", "corrections"])
            procedure.events.filter(kind=ProcedureEvent.Kind.STEP_SAVED).update(values={})
            ProcedureEvent.objects.create(
                procedure=procedure,
                kind=ProcedureEvent.Kind.EXPIRED,
                channel=actor.channel,
                version=procedure.version,
                at=now,
            )
            journal_record(
                action=JournalAction.PROCEDURE_EXPIRED,
                actor=actor,
                subject_person=procedure.person,
                dossier=procedure.dossier,
                detail={"procedure": procedure.pk, "type": procedure.type_code},
            )
            expired += 1
    return ExpiryRun(reminded=reminded, expired=expired)
