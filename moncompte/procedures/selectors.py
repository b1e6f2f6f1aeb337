"""Reads of procedures for the pages that only list them (the home page's dashboard).

Who sees which procedure is the engine's one rule (``services.visible_to``, on the policy's
``procedure_allowed``), applied here to a scoped query of the drafts only: a home page read
on every visit does not load the submitted requests of past years.
"""

from __future__ import annotations

from dataclasses import dataclass

from moncompte.access.policy import standings
from moncompte.core.actors import Actor
from moncompte.core.errors import NotAllowed
from moncompte.procedures.declarations import ProcedureType, Step
from moncompte.procedures.models import Procedure
from moncompte.procedures.services import resume_step, visible_to

# The drafts of the person's files and their own, in plain SQL through ``Model.objects.raw()``
# (model instances, the database converters applied, parameters only): what the queryset
# ``Procedure.objects.drafts().filter(Q(person=person) | Q(dossier_id__in=files))`` reads, with
# only the columns the dashboard and the rule use, without compiling a query at every home page
# (about 1 ms of CPU through the ORM, 0.3 ms this way: docs/benchmarks.md). ``IN (NULL)``: no file.
_DRAFTS_SQL = (
    "SELECT id, type_code, dossier_id, person_id, state, data, step_reached, updated_at, expires_at"
    " FROM procedures_procedure WHERE state = %s AND (person_id = %s OR dossier_id IN ({files}))"
    " ORDER BY updated_at DESC, id DESC"
)


@dataclass(frozen=True)
class DraftInProgress:
    """A draft the actor may continue, with where it resumes ("Étape 2 sur 4 : Adresse et loyer")."""

    procedure: Procedure
    type: ProcedureType
    step: Step  # where "Reprendre" leads: the first step not done yet
    position: int  # of that step, from 1
    total: int  # steps of the type

    @property
    def pk(self) -> int:
        return self.procedure.pk


def drafts_in_progress(*, actor: Actor, limit: int = 3) -> tuple[list[DraftInProgress], int]:
    """The drafts ("en instance") the actor may continue now, the last saved first: at most
    ``limit`` of them, and how many there are in all. Two queries: the actor's standings, then
    the drafts of their files and their own (one per type on a file: a handful), each kept only
    if the engine's rule lets the actor see it now."""
    person = actor.subject
    if person is None:
        return [], 0
    current = standings(person)
    files = list(current)
    sql = _DRAFTS_SQL.format(files=", ".join(["%s"] * len(files)) or "NULL")
    shown = []
    for procedure in Procedure.objects.raw(sql, [Procedure.State.DRAFT.value, person.pk, *files]):
        try:
            ptype = procedure.type
        except NotAllowed:  # a type no longer declared: not shown
            continue
        if visible_to(procedure, ptype, person, current):
            shown.append((procedure, ptype))
    drafts = []
    for procedure, ptype in shown[:limit]:
        step = resume_step(procedure)
        drafts.append(
            DraftInProgress(
                procedure=procedure,
                type=ptype,
                step=step,
                position=ptype.index(step.slug) + 1,
                total=len(ptype.steps),
            )
        )
    return drafts, len(shown)
