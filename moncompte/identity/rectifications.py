"""The agents' queue of rectification requests (issue 12): a person reported an error in their
own data (moncompte.identity.own_data.rectification_request); an agent answers them, corrects
the data if it is wrong, and the request is then processed, or refuses it with an answer.

Who may process them is ``AgentPermission.PROCESS_RECTIFICATION`` (moncompte.access.agents),
on the requests of the persons who have a membership (current or ended) in a file of the
agent's Caf. A person in no file at all has no Caf to route their request to: their requests go
to the queue of every agent who may process rectifications (the first decision closes them).
A request outside the agent's queue is not found (NotAllowed, answered 404).

Only the identity fields of ``CORRECTABLE`` are corrected here; the identifier is re-keyed by
the identity checks' queue (moncompte.identity.services.person_rekey), an address is the file's.
The journal names the fields changed, never their values; the person is told at their
validated contacts and sees the answer in their history (their "my data" page).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from moncompte.access.agents import AgentPermission, agent_caf_condition, agent_may
from moncompte.accounts.services import notify_people
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.households.models import Member
from moncompte.identity.geography import FRANCE, commune_name, country_name
from moncompte.identity.matching import nir_identity_problems
from moncompte.identity.models import Person, RectificationRequest, RectificationState, Sex
from moncompte.identity.normalise import birth_date_problem, birth_place_code, display_name, family_name
from moncompte.logging import _NIR_LIKE

PERMISSION = AgentPermission.PROCESS_RECTIFICATION
ANSWER_MAX_LENGTH = 2000
NAME_MAX_LENGTH = 200

# The person's fields an agent may correct (the whitelist), with their French names for the forms.
CORRECTABLE = {
    "first_names": "Prénoms",
    "birth_name": "Nom de naissance",
    "usage_name": "Nom d'usage",
    "birth_date": "Date de naissance",
    "birth_place_code": "Commune de naissance (code INSEE)",
    "birth_country_code": "Pays de naissance (code INSEE)",
    "sex": "Sexe",
}
# The field names of nir_identity_problems, as fields of the person.
_NIR_FIELDS = {
    "sex": "sex",
    "birth_date": "birth_date",
    "birth_place": "birth_place_code",
    "birth_country": "birth_country_code",
}

MESSAGE_ALREADY_DECIDED = "Cette demande a déjà été traitée : elle ne peut plus être modifiée."


class RectificationDecisionError(DomainError):
    """A decision refused; nothing was changed. ``field``: the form field at fault (an answer,
    a corrected field's name), or None."""

    code = "invalid_decision"


@dataclass(frozen=True)
class RectificationCase:
    """What the agent's page shows of one request: the request, the person's identity as held
    now (identifier masked), and the files they belong or belonged to."""

    request: RectificationRequest
    person: Person
    masked_identifier: str
    memberships: list[Member]


def _agent_of(actor: Actor):
    if actor.agent is None or not agent_may(actor.agent, PERMISSION):
        raise NotAllowed()
    return actor.agent


def _queue(agent) -> QuerySet[RectificationRequest]:
    """The requests the agent may see and process (any state)."""
    if not agent_may(agent, PERMISSION):
        return RectificationRequest.objects.none()
    in_caf = Member.objects.filter(person=OuterRef("person")).filter(
        agent_caf_condition(agent, PERMISSION, caf_id_field="dossier__caf_id")
    )
    # A person of no file at all: every agent's queue (see the module's docstring).
    in_no_file = ~Exists(Member.objects.filter(person=OuterRef("person")))
    return RectificationRequest.objects.filter(Q(Exists(in_caf)) | Q(in_no_file))


# Reads --------------------------------------------------------------------------------------


def rectifications_queue(*, actor: Actor, state: str = RectificationState.TO_PROCESS) -> QuerySet:
    """The agent's queue in one state: the requests to process oldest first (the longest
    waiting first), the decided ones latest decision first."""
    agent = _agent_of(actor)
    rows = _queue(agent).filter(state=state).select_related("person", "processed_by")
    if state == RectificationState.TO_PROCESS:
        return rows.order_by("created_at", "id")
    return rows.order_by("-processed_at", "-id")


def rectifications_waiting_count(*, actor: Actor) -> int:
    return _queue(_agent_of(actor)).filter(state=RectificationState.TO_PROCESS).count()


def rectification_case(*, actor: Actor, request_id: int) -> RectificationCase:
    """One request of the agent's queue, with the person's data; NotAllowed outside it."""
    agent = _agent_of(actor)
    request = _queue(agent).select_related("person", "processed_by").filter(pk=request_id).first()
    if request is None:
        raise NotAllowed()
    person = request.person
    memberships = list(Member.objects.filter(person=person).select_related("dossier__caf").order_by("joined_on", "id"))
    return RectificationCase(
        request=request, person=person, masked_identifier=person.identifier.masked(), memberships=memberships
    )


def rectification_viewed(*, actor: Actor, request: RectificationRequest) -> None:
    """The agent opened the request and the person's data: journaled."""
    journal_record(
        action=JournalAction.RECTIFICATION_VIEWED,
        actor=actor,
        subject_person=request.person,
        detail={"request": request.pk},
    )


# Checks ---------------------------------------------------------------------------------------


def _clean_answer(answer: str) -> str:
    text = str(answer or "").replace("\r\n", "\n").strip()
    if not text:
        raise RectificationDecisionError(
            "Écrivez la réponse qui sera montrée à la personne.", code="answer", field="answer"
        )
    if len(text) > ANSWER_MAX_LENGTH:
        raise RectificationDecisionError(
            f"La réponse a {ANSWER_MAX_LENGTH} caractères au plus (elle en a {len(text)}).",
            code="answer",
            field="answer",
        )
    # Identifiers are never stored in clear (docs/security.md), nor in an answer.
    if _NIR_LIKE.search(text):
        raise RectificationDecisionError(
            "N'écrivez pas de numéro de sécurité sociale dans la réponse.", code="answer", field="answer"
        )
    return text


def _name(value, field: str, *, required: bool, family: bool) -> str:
    text = family_name(value) if family else display_name(value)
    if required and not text:
        raise RectificationDecisionError(f"Saisissez le champ « {CORRECTABLE[field]} ».", code="correct", field=field)
    if len(text) > NAME_MAX_LENGTH:
        raise RectificationDecisionError(
            f"« {CORRECTABLE[field]} » : {NAME_MAX_LENGTH} caractères au plus.", code="correct", field=field
        )
    return text


def _clean_correction(person: Person, correct: dict) -> dict:
    """The new values of the fields that change, checked; RectificationDecisionError else."""
    unknown = sorted(set(correct) - set(CORRECTABLE))
    if unknown:
        # A programming error of a channel, not a person's typing: refused all the same.
        raise RectificationDecisionError(
            "Seuls les nom, prénoms, date et lieu de naissance et sexe peuvent être corrigés ici.",
            code="not_correctable",
        )
    values = {}
    if "first_names" in correct:
        values["first_names"] = _name(correct["first_names"], "first_names", required=True, family=False)
    if "birth_name" in correct:
        values["birth_name"] = _name(correct["birth_name"], "birth_name", required=True, family=True)
    if "usage_name" in correct:
        values["usage_name"] = _name(correct["usage_name"], "usage_name", required=False, family=True)
    if "birth_date" in correct:
        value = correct["birth_date"]
        if not isinstance(value, datetime.date):
            raise RectificationDecisionError("Saisissez la date de naissance.", code="correct", field="birth_date")
        problem = birth_date_problem(value)
        if problem:
            raise RectificationDecisionError(problem, code="correct", field="birth_date")
        values["birth_date"] = value
    if "sex" in correct:
        if correct["sex"] not in Sex.values:
            raise RectificationDecisionError("Choisissez le sexe dans la liste.", code="correct", field="sex")
        values["sex"] = correct["sex"]
    country = person.birth_country_code
    if "birth_country_code" in correct:
        country = str(correct["birth_country_code"] or "").strip()
        if country_name(country) is None:
            raise RectificationDecisionError(
                "Ce code de pays de naissance n'existe pas (code INSEE à 5 chiffres, 99100 pour la France).",
                code="correct",
                field="birth_country_code",
            )
        values["birth_country_code"] = country
    if "birth_place_code" in correct:
        raw = str(correct["birth_place_code"] or "").strip()
        place = birth_place_code(raw)
        if raw and country != FRANCE:
            raise RectificationDecisionError(
                "Une commune de naissance n'est indiquée que pour une naissance en France.",
                code="correct",
                field="birth_place_code",
            )
        if raw and (not place or commune_name(place) is None):
            raise RectificationDecisionError(
                "Ce code de commune n'existe pas (code INSEE à 5 caractères, par exemple 69123).",
                code="correct",
                field="birth_place_code",
            )
        values["birth_place_code"] = place
    elif "birth_country_code" in values and country != FRANCE:
        values["birth_place_code"] = ""  # a birth abroad has no commune
    changed = {field: value for field, value in values.items() if getattr(person, field) != value}
    _check_against_identifier(person, changed)
    return changed


def _check_against_identifier(person: Person, changed: dict) -> None:
    """A correction may not contradict the person's NIR (its digits give the sex, the year and
    month and the place of birth): the NIR is corrected by re-keying, not here."""
    if not changed.keys() & set(_NIR_FIELDS.values()):
        return
    after = {field: changed.get(field, getattr(person, field)) for field in _NIR_FIELDS.values()}
    problems = nir_identity_problems(
        person.identifier,
        birth_date=after["birth_date"],
        sex=after["sex"],
        birth_place_code=after["birth_place_code"],
        birth_country_code=after["birth_country_code"],
    )
    for nir_field, _message in problems:
        field = _NIR_FIELDS.get(nir_field)
        if field in changed:
            raise RectificationDecisionError(
                f"« {CORRECTABLE[field]} » : la valeur saisie contredit le numéro de sécurité sociale de la "
                "personne. Si c'est le numéro qui est faux, faites-le corriger (ré-immatriculation) avant "
                "de corriger cette donnée.",
                code="contradicts_identifier",
                field=field,
            )


# Decisions ------------------------------------------------------------------------------------


def _decide(*, actor: Actor, request_id: int, answer: str, correct: dict | None, accepted: bool):
    agent = _agent_of(actor)
    text = _clean_answer(answer)
    with transaction.atomic():
        request = _queue(agent).select_for_update().filter(pk=request_id).first()
        if request is None:
            raise NotAllowed()
        if request.state != RectificationState.TO_PROCESS:
            raise RectificationDecisionError(MESSAGE_ALREADY_DECIDED, code="already_decided")
        person = Person.objects.select_for_update().get(pk=request.person_id)
        changed = _clean_correction(person, correct) if (accepted and correct) else {}
        if changed:
            for field, value in changed.items():
                setattr(person, field, value)
            person.save(update_fields=sorted(changed))
        request.state = RectificationState.PROCESSED if accepted else RectificationState.REJECTED
        request.answer = text
        request.processed_at = timezone.now()
        request.processed_by = agent
        request.save(update_fields=["state", "answer", "processed_at", "processed_by"])
        told = notify_people(
            [person],
            template="rectification_processed",
            context={
                "field_label": request.get_field_display(),
                "accepted": accepted,
                "corrected": bool(changed),
            },
        )
        journal_record(
            action=JournalAction.RECTIFICATION_ANSWERED if accepted else JournalAction.RECTIFICATION_REJECTED,
            actor=actor,
            subject_person=person,
            # The names of the fields changed, never their values.
            detail={"request": request.pk, "field": request.field, "changed": sorted(changed), "notified": told},
        )
    request.person = person
    return request


def rectification_answer(
    *, actor: Actor, request_id: int, answer: str, correct: dict | None = None
) -> RectificationRequest:
    """The agent answers the request (``answer``: the text the person reads) and, with
    ``correct`` (a dict of ``CORRECTABLE`` fields and their right values), corrects the person's
    data; the request is then processed, the person told.

    Raises NotAllowed outside the agent's queue, RectificationDecisionError (nothing changed)
    for an empty or too long answer, a value that is not valid or contradicts the NIR, a request
    already decided."""
    return _decide(actor=actor, request_id=request_id, answer=answer, correct=correct, accepted=True)


def rectification_reject(*, actor: Actor, request_id: int, answer: str) -> RectificationRequest:
    """The agent refuses the request, with the reason the person reads (``answer``); the data
    stays as it is, the person is told. Same refusals as ``rectification_answer``."""
    return _decide(actor=actor, request_id=request_id, answer=answer, correct=None, accepted=False)
