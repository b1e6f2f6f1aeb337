"""Reads of the Caf's requests for an acting person, through the policy's scoped read.

``Action.ANSWER_CAF_REQUEST`` says who sees and answers a request: R and S+ every request of
their file, S and M those addressed to them personally, X and O none
(moncompte.access.policy.concerning_condition). Whatever is refused is not found (NotAllowed).
The rights are those of the person the actor acts for (``actor.subject``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from moncompte.access.policy import Action, concerning_condition
from moncompte.caf_requests.models import CafRequest, CafRequestAnswer, CafRequestAttachment
from moncompte.core.actors import Actor
from moncompte.core.errors import NotAllowed


def answerable(*, actor: Actor):
    """The requests the actor may see and answer (a queryset; one light query of the actor's
    standings is made to build it)."""
    person = actor.subject
    if person is None:
        return CafRequest.objects.none()
    condition = concerning_condition(
        person, Action.ANSWER_CAF_REQUEST, dossier_field="dossier", concerning_field="addressed_to"
    )
    return CafRequest.objects.filter(condition)


def caf_requests_waiting(*, actor: Actor) -> list[CafRequest]:
    """The waiting requests the actor may answer, the nearest due date first (the home page:
    the actor's standings, then one indexed query of the requests; none for a person of no file)."""
    return list(answerable(actor=actor).filter(state=CafRequest.State.WAITING).order_by("due_on", "id"))


def caf_requests_for(*, actor: Actor) -> list[CafRequest]:
    """Every request the actor may see: the waiting ones (nearest due date first), then the
    answered ones (latest answer first), then the closed ones."""
    rows = list(answerable(actor=actor).select_related("dossier__caf", "addressed_to").order_by("due_on", "id"))
    waiting = [r for r in rows if r.state == CafRequest.State.WAITING]
    answered = sorted(
        (r for r in rows if r.state == CafRequest.State.ANSWERED), key=lambda r: (r.answered_at, r.pk), reverse=True
    )
    closed = [r for r in rows if r.state == CafRequest.State.CLOSED]
    return waiting + answered + closed


def caf_request_for(*, actor: Actor, request_id: int) -> CafRequest:
    """One request, if the actor may see it; else NotAllowed (answered 404)."""
    request = answerable(actor=actor).select_related("dossier__caf", "addressed_to").filter(pk=request_id).first()
    if request is None:
        raise NotAllowed()
    return request


@dataclass(frozen=True)
class CafRequestHistory:
    """A request and its answers, oldest first, each with its author and its files: what both
    sides (the person and the Caf) see."""

    request: CafRequest
    answers: list[CafRequestAnswer]


def caf_request_history(*, actor: Actor, request_id: int) -> CafRequestHistory:
    request = caf_request_for(actor=actor, request_id=request_id)
    answers = list(
        CafRequestAnswer.objects.filter(request=request)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=CafRequestAttachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    return CafRequestHistory(request=request, answers=answers)


def caf_request_attachment_for(*, actor: Actor, request_id: int, attachment_id: int) -> CafRequestAttachment:
    """A file of an answer to a request the actor may see; else NotAllowed."""
    request = caf_request_for(actor=actor, request_id=request_id)
    attachment = CafRequestAttachment.objects.filter(pk=attachment_id, answer__request=request).first()
    if attachment is None:
        raise NotAllowed()
    return attachment
