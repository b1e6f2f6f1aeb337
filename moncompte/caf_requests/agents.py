"""The Caf's requests on the agents' side (issue 12): create, follow, close.

``AgentPermission.MANAGE_CAF_REQUESTS`` (moncompte.access.agents), on the files of the agent's
Caf only: another Caf's file or request is not found (NotAllowed, answered 404). A request is
created by ``caf_request_create`` (moncompte.caf_requests.services), the agent then being its
``created_by`` and the agent's Caf the name the person reads; the agent follows the answers and
downloads their files (journaled), and closes the request (``caf_request_close``): no answer is
taken after that, and the people who could see it are told.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Prefetch, QuerySet, Value, When
from django.utils import timezone

from moncompte.access.agents import AgentPermission, agent_caf_condition, agent_may
from moncompte.access.policy import Action, members_allowed_on_concerning
from moncompte.accounts.services import notify_people
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.caf_requests.models import CafRequest, CafRequestAnswer, CafRequestAttachment
from moncompte.caf_requests.services import CafRequestError, caf_request_create
from moncompte.core.actors import Actor
from moncompte.core.errors import NotAllowed
from moncompte.households.models import Dossier, Member

PERMISSION = AgentPermission.MANAGE_CAF_REQUESTS

# The list's filters: a state, or the late ones (waiting past their due date).
FILTER_LATE = "late"
FILTERS = {
    "": "Toutes",
    CafRequest.State.WAITING: "En attente de réponse",
    FILTER_LATE: "En retard",
    CafRequest.State.ANSWERED: "Répondues",
    CafRequest.State.CLOSED: "Closes",
}

MESSAGE_ALREADY_CLOSED = "Cette demande est déjà close."


def _agent_of(actor: Actor):
    if actor.agent is None or not agent_may(actor.agent, PERMISSION):
        raise NotAllowed()
    return actor.agent


def _requests(agent) -> QuerySet[CafRequest]:
    return CafRequest.objects.filter(agent_caf_condition(agent, PERMISSION, caf_id_field="dossier__caf_id"))


def _files(agent) -> QuerySet[Dossier]:
    return Dossier.objects.filter(agent_caf_condition(agent, PERMISSION, caf_id_field="caf_id"))


# Following ----------------------------------------------------------------------------------


def agent_caf_requests(*, actor: Actor, state: str = "") -> QuerySet:
    """The requests of the agent's Caf, filtered by ``state`` (one of ``FILTERS``; "" for all):
    the waiting ones first, nearest due date first, then the answered ones (latest answer
    first), then the closed ones; each with its file and its number of answers."""
    agent = _agent_of(actor)
    rows = _requests(agent)
    if state == FILTER_LATE:
        rows = rows.filter(state=CafRequest.State.WAITING, due_on__lt=timezone.localdate())
    elif state:
        rows = rows.filter(state=state)
    rows = rows.select_related("dossier__caf", "addressed_to", "created_by").annotate(answer_count=Count("answers"))
    # Waiting, answered, closed: not the alphabet's order, so the state's rank.
    rank = Case(
        When(state=CafRequest.State.WAITING, then=Value(0)),
        When(state=CafRequest.State.ANSWERED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return rows.order_by(rank, "due_on", "-answered_at", "id")


@dataclass(frozen=True)
class AgentCafRequest:
    """A request as the agent follows it: the request, its file's current members (to whom it
    may be addressed, who may answer), and its answers, oldest first, with their files."""

    request: CafRequest
    answers: list[CafRequestAnswer]


def agent_caf_request(*, actor: Actor, request_id: int) -> AgentCafRequest:
    """One request of the agent's Caf, with its history; NotAllowed outside it. Journaled."""
    agent = _agent_of(actor)
    request = (
        _requests(agent)
        .select_related("dossier__caf", "addressed_to", "created_by", "closed_by")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise NotAllowed()
    answers = list(
        CafRequestAnswer.objects.filter(request=request)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=CafRequestAttachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    journal_record(
        action=JournalAction.CAF_REQUEST_AGENT_VIEWED,
        actor=actor,
        subject_person=request.addressed_to,
        dossier=request.dossier,
        detail={"request": request.pk},
    )
    return AgentCafRequest(request=request, answers=answers)


def agent_caf_request_attachment_open(*, actor: Actor, request_id: int, attachment_id: int):
    """A file of an answer to a request of the agent's Caf, opened for its download (the
    caller closes it; a FileResponse does), the download journaled. NotAllowed outside the
    agent's Caf, for a file of another request, and when the stored file is gone."""
    agent = _agent_of(actor)
    attachment = (
        CafRequestAttachment.objects.select_related("answer__request__dossier")
        .filter(pk=attachment_id, answer__request__in=_requests(agent).filter(pk=request_id))
        .first()
    )
    if attachment is None:
        raise NotAllowed()
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise NotAllowed("Ce fichier n'est plus disponible.") from None
    request = attachment.answer.request
    journal_record(
        action=JournalAction.CAF_REQUEST_AGENT_DOWNLOADED,
        actor=actor,
        subject_person=request.addressed_to,
        dossier=request.dossier,
        detail={"request": request.pk, "attachment": attachment.pk},
    )
    return attachment, handle


# Creating -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileForRequest:
    """A file of the agent's Caf found by its numéro, with its current members (the possible
    addressees)."""

    dossier: Dossier
    members: list[Member]


def agent_file_find(*, actor: Actor, numero: str) -> FileForRequest:
    """The file of the agent's Caf with this numéro allocataire (an exact search only, never a
    list), journaled whether found or not; NotAllowed when there is none."""
    agent = _agent_of(actor)
    numero = "".join(str(numero or "").split())
    dossier = None
    if len(numero) == 7 and numero.isdigit():
        dossier = _files(agent).select_related("caf").filter(caf_id=agent.caf_id, numero=numero).first()
    journal_record(
        action=JournalAction.CAF_REQUEST_FILE_SEARCHED,
        actor=actor,
        subject_person=None,
        dossier=dossier,
        detail={"found": dossier is not None},
    )
    if dossier is None:
        raise NotAllowed("Aucun dossier de votre Caf ne porte ce numéro allocataire.")
    return FileForRequest(dossier=dossier, members=_current_members(dossier))


def agent_file(*, actor: Actor, dossier_id: int) -> FileForRequest:
    """A file of the agent's Caf by its id (the creation form's second step); NotAllowed else."""
    agent = _agent_of(actor)
    dossier = _files(agent).select_related("caf").filter(pk=dossier_id).first()
    if dossier is None:
        raise NotAllowed()
    return FileForRequest(dossier=dossier, members=_current_members(dossier))


def _current_members(dossier: Dossier) -> list[Member]:
    return list(Member.objects.current().filter(dossier=dossier).select_related("person").order_by("joined_on", "id"))


def agent_caf_request_create(
    *,
    actor: Actor,
    dossier_id: int,
    addressed_to_person_id: int | None,
    kind: str,
    title: str,
    body: str,
    due_on: datetime.date | None,
) -> CafRequest:
    """The agent asks the household of a file of their Caf (``addressed_to_person_id`` None) or
    one of its current members for a document or a piece of information. Through
    ``caf_request_create``: the same checks, messages and journal entry, the agent as
    ``created_by``, the agent's Caf as who asks. NotAllowed outside the agent's Caf;
    CafRequestError (nothing created) for a missing or wrong value."""
    agent = _agent_of(actor)
    found = agent_file(actor=actor, dossier_id=dossier_id)
    addressed_to = None
    if addressed_to_person_id is not None:
        member = next((m for m in found.members if m.person_id == addressed_to_person_id), None)
        if member is None:
            raise CafRequestError(
                "La personne à qui la demande est adressée n'est pas membre du dossier.",
                code="addressed_to",
                field="addressed_to",
            )
        addressed_to = member.person
    if due_on is None:
        raise CafRequestError("Saisissez la date limite de réponse.", code="due_on", field="due_on")
    return caf_request_create(
        actor=actor,
        dossier=found.dossier,
        addressed_to=addressed_to,
        kind=kind,
        title=title,
        body=body,
        due_on=due_on,
        created_by_label=agent.caf.name,
    )


# Closing ------------------------------------------------------------------------------------


def caf_request_close(*, actor: Actor, request_id: int) -> CafRequest:
    """The agent closes a request of their Caf (answered or not): CLOSED, no answer taken after
    that; the people who could see it (who may answer it) are told. NotAllowed outside the
    agent's Caf; CafRequestError "closed" if it already is."""
    agent = _agent_of(actor)
    with transaction.atomic():
        # The request's row only (of "self"), not the file it is joined with.
        request = _requests(agent).select_for_update(of=("self",)).filter(pk=request_id).first()
        if request is None:
            raise NotAllowed()
        if request.state == CafRequest.State.CLOSED:
            raise CafRequestError(MESSAGE_ALREADY_CLOSED, code="closed")
        before = request.state
        was_late = request.is_late()
        request.state = CafRequest.State.CLOSED
        request.closed_at = timezone.now()
        request.closed_by = agent
        request.save(update_fields=["state", "closed_at", "closed_by"])
        members = _current_members(request.dossier)
        told = notify_people(
            [
                m.person
                for m in members_allowed_on_concerning(
                    members, Action.ANSWER_CAF_REQUEST, concerning_person_id=request.addressed_to_id
                )
            ],
            template="caf_request_closed",
            context={"title": request.title, "answered": before == CafRequest.State.ANSWERED},
        )
        journal_record(
            action=JournalAction.CAF_REQUEST_CLOSED,
            actor=actor,
            subject_person=request.addressed_to,
            dossier=request.dossier,
            detail={"request": request.pk, "state_before": before, "late": was_late, "notified": told},
        )
    return request
