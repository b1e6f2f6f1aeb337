"""/api/v1/procedures/: the procedures and drafts of the acting person, through the engine.

The same engine as the pages (moncompte.procedures.services, docs/procedures.md): who may see
and continue a procedure, the order of the steps, the versions and their conflicts, the
partners' pre-filled values, the submission and its receipt. These views turn a request into a
call and its answer, or its refusal, into JSON: a procedure the person may not see is not found
(404), whatever its number, exactly as on the pages.

A step's values travel as one JSON object, by field name (the names of the step's ``fields``):
the values a person would type on the page ("650,50", "oui", true for a box ticked), and a date
as ``AAAA-MM-JJ`` under its own name, which this module splits into the three inputs (day,
month, year) the step's form reads, as the page's three inputs give them.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpResponse, QueryDict
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from moncompte.api.base import ApiGenericView, ApiView
from moncompte.api.errors import error_body
from moncompte.api.v1.procedure_serializers import (
    CancelledSerializer,
    ProcedureDetailSerializer,
    ProcedureErrorSerializer,
    ProcedureSerializer,
    ProcedureStartedSerializer,
    ProcedureTypeSerializer,
    StartInputSerializer,
    StepSavedSerializer,
    StepSaveInputSerializer,
    StepSerializer,
    SubmitInputSerializer,
    error_responses,
)
from moncompte.core.errors import NotAllowed
from moncompte.procedures.declarations import ProcedureType, Step
from moncompte.procedures.fields import EurosField
from moncompte.procedures.models import Procedure
from moncompte.procedures.prefill import Prefilled, step_prefill
from moncompte.procedures.receipts import receipt_pdf
from moncompte.procedures.services import (
    DraftConflict,
    Incomplete,
    ReadOnly,
    StepInvalid,
    StepNotReached,
    first_missing_step,
    procedure_cancel,
    procedure_for,
    procedure_history,
    procedure_start,
    procedure_submit,
    procedure_viewed,
    procedures_of,
    resume_step,
    step_form,
    step_save,
    types_startable,
)
from moncompte.procedures.summary import field_display, field_label, procedure_summary

TAG = ["Démarches"]
MESSAGE_CANCELLED = "La démarche « {label} » est abandonnée : ses réponses sont effacées."
MESSAGE_UNKNOWN_FIELD = "Ce champ n'existe pas à cette étape."
MESSAGE_BAD_VALUE = "Cette valeur ne peut pas être lue : saisissez un texte, un nombre, vrai ou faux."
MESSAGE_BAD_DATE = "Saisissez la date au format AAAA-MM-JJ, par exemple 2026-09-01."
_ISO_DATE = re.compile(r"^\s*(\d{1,4})-(\d{1,2})-(\d{1,2})\s*$")
NON_FIELD = "non_field_errors"


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _refusal(error, **extra) -> Response:
    """A refusal of the engine with the members it carries (the step, the conflict)."""
    return Response(error_body(error.code, error.message, error.field, **extra), status=error.status)


# How procedures read ----------------------------------------------------------------------------


def _who(person, me) -> str:
    """ "vous" for the person asking, else the name."""
    if person is None:
        return "le demandeur, avant la création de son compte"
    return "vous" if me is not None and person.pk == me.pk else str(person.display_name)


def _concerning(procedure: Procedure, ptype: ProcedureType) -> str:
    if procedure.dossier_id is None:
        return "newcomer"
    return "household" if ptype.household else "author"


def _step_done(procedure: Procedure, step: Step) -> bool:
    """As the engine counts a step (services.first_missing_step): saved, the identity step once
    the procedure has its person."""
    if step.identity and procedure.person_id is None:
        return False
    return step.form is None or step.slug in procedure.data


def _procedure(procedure: Procedure, me) -> dict:
    ptype = procedure.type
    current = None
    if procedure.is_draft:
        step = resume_step(procedure)
        current = {
            "slug": step.slug,
            "title": step.title,
            "position": ptype.index(step.slug) + 1,
            "total": len(ptype.steps),
        }
    return {
        "id": procedure.pk,
        "type": ptype.code,
        "label": ptype.label,
        "state": procedure.state,
        "state_label": procedure.get_state_display(),
        "concerning": _concerning(procedure, ptype),
        "version": procedure.version,
        "created_at": procedure.created_at,
        "updated_at": procedure.updated_at,
        "expires_at": procedure.expires_at if procedure.is_draft else None,
        "current_step": current,
        "complete": first_missing_step(procedure) is None,
        "reference": procedure.reference,
        "submitted_at": procedure.submitted_at,
        "submitted_by": _who(procedure.submitted_by, me) if procedure.submitted_by_id else None,
    }


def _corrections(procedure: Procedure, people: dict, me) -> dict[tuple[str, str], dict]:
    """(step, field) -> the partner's value the person typed otherwise, as the summary says it."""
    found = {}
    for step in procedure.type.steps:
        if step.slug not in procedure.data:
            continue
        for name in step.prefill:
            correction = procedure.corrections.get(name)
            if not correction:
                continue
            by = people.get(correction.get("by"))
            found[(step.slug, name)] = {
                "source": correction.get("label") or correction.get("source") or "un partenaire",
                "partner_value": field_display(step.form, name, correction.get("partner")),
                "by": _who(by, me) if by is not None else None,
            }
    return found


def _detail(actor, procedure: Procedure) -> dict:
    me = actor.subject
    ptype = procedure.type
    history = procedure_history(actor=actor, procedure=procedure)
    people = {e.person.pk: e.person for e in history if e.person is not None}
    corrections = _corrections(procedure, people, me)
    sections = [
        {
            "slug": section.slug,
            "title": section.title,
            "rows": [
                {
                    "name": row.name,
                    "label": row.label,
                    "value": row.value,
                    "correction": corrections.get((section.slug, row.name)),
                }
                for row in section.rows
            ],
        }
        for section in procedure_summary(procedure)
    ]
    steps = [
        {
            "slug": step.slug,
            "title": step.title,
            "position": position,
            "done": _step_done(procedure, step),
        }
        for position, step in enumerate(ptype.steps, start=1)
    ]
    return {
        **_procedure(procedure, me),
        "read_only": not procedure.is_draft,
        "steps": steps,
        "missing": [s["slug"] for s in steps if not s["done"]] if procedure.is_draft else [],
        "sections": sections,
        "next_steps": ptype.next_steps,
        "history": [
            {
                "at": event.at,
                "kind": event.kind,
                "what": event.get_kind_display(),
                "step": event.step,
                "by": _who(event.person, me),
            }
            for event in history
        ],
    }


# A step's fields and values ---------------------------------------------------------------------


def _date_parts(form_class) -> dict:
    """The dates typed in three inputs: the first input's name -> the date (its key, names)."""
    return {parts.names[0]: parts for parts in getattr(form_class, "date_parts", ())}


def _part_keys(form_class) -> dict[str, str]:
    """Each of the three inputs of a date -> the date's name."""
    return {name: parts.key for parts in getattr(form_class, "date_parts", ()) for name in parts.names}


def _kind(formfield: forms.Field) -> str:
    if isinstance(formfield, forms.BooleanField):
        return "boolean"
    if isinstance(formfield, forms.MultipleChoiceField):
        return "multiple_choice"
    if isinstance(formfield, forms.ChoiceField):
        return "choice"
    if isinstance(formfield, EurosField):
        return "amount"
    if isinstance(formfield, forms.DecimalField):
        return "decimal"
    if isinstance(formfield, forms.IntegerField):
        return "integer"
    return "text"


def _exposed_names(form_class) -> list[str]:
    """The names of ``values``: the form's fields, a date as one name instead of its three inputs."""
    if form_class is None:
        return []
    dates, parts = _date_parts(form_class), _part_keys(form_class)
    names = []
    for name in form_class.base_fields:
        if name in dates:
            names.append(dates[name].key)
        elif name not in parts:
            names.append(name)
    return names


def _fields(procedure: Procedure, step: Step, prefilled: Prefilled) -> list[dict]:
    form = step_form(procedure, step.slug)
    if form is None:
        return []
    dates, parts = _date_parts(type(form)), _part_keys(type(form))
    saved = step.slug in procedure.data
    items = []
    for name, formfield in form.fields.items():
        if name in parts and name not in dates:
            continue
        if name in dates:
            date = dates[name]
            items.append(
                {
                    "name": date.key,
                    "label": date.legend,
                    "type": "date",
                    "required": True,  # an empty date is refused by its form (core.forms.DateParts)
                    "help": "Au format AAAA-MM-JJ, par exemple 2026-09-01.",
                    "max_length": None,
                    "choices": None,
                    "prefilled": None,
                    "correction": None,
                }
            )
            continue
        choices = None
        if isinstance(formfield, forms.ChoiceField):
            choices = [{"value": str(value), "label": str(label)} for value, label in formfield.choices]
        prefill = None
        if name in prefilled.initial:
            source, fetched_at = prefilled.by_field.get(name, ("", None))
            prefill = {"value": prefilled.initial[name], "source": str(source), "fetched_at": fetched_at}
        correction = procedure.corrections.get(name) if saved and name in step.prefill else None
        items.append(
            {
                "name": name,
                "label": str(formfield.label or name),
                "type": _kind(formfield),
                "required": bool(formfield.required),
                "help": str(formfield.help_text or ""),
                "max_length": getattr(formfield, "max_length", None),
                "choices": choices,
                "prefilled": prefill,
                "correction": (
                    {
                        "source": str(correction.get("label") or correction.get("source") or ""),
                        "partner_value": field_display(step.form, name, correction.get("partner")),
                    }
                    if correction
                    else None
                ),
            }
        )
    return items


def _saved_values(procedure: Procedure, step: Step) -> dict:
    clean = (procedure.data.get(step.slug) or {}).get("clean", {})
    return {name: clean.get(name) for name in _exposed_names(step.form)} if step.slug in procedure.data else {}


def _scalar(value) -> str:
    """One value as the form's inputs give it (a box ticked: "true"); a list or an object: ValueError."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueError


def _form_data(form_class, values: dict) -> tuple[QueryDict, dict[str, list[str]]]:
    """The step's values as the form reads them (a date in its three inputs), or what cannot be read."""
    data = QueryDict(mutable=True)
    errors: dict[str, list[str]] = {}
    exposed = set(_exposed_names(form_class))
    dates = {parts.key: parts for parts in getattr(form_class, "date_parts", ())}
    for name, value in values.items():
        if name not in exposed:
            errors[name] = [MESSAGE_UNKNOWN_FIELD]
            continue
        if value is None:
            continue
        if name in dates:
            found = _ISO_DATE.match(value) if isinstance(value, str) else None
            if found is None:
                if value != "":
                    errors[name] = [MESSAGE_BAD_DATE]
                continue
            year, month, day = found.groups()
            for part, text in zip(dates[name].names, (day, month, year), strict=True):
                data[part] = text
            continue
        try:
            data.setlist(name, [_scalar(item) for item in value] if isinstance(value, list) else [_scalar(value)])
        except ValueError:
            errors[name] = [MESSAGE_BAD_VALUE]
    return data, errors


def _form_errors(form) -> dict[str, list[str]]:
    """The form's French messages by the names of ``values`` (a date's inputs under the date)."""
    parts = _part_keys(type(form))
    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        key = NON_FIELD if name == NON_FIELD_ERRORS else parts.get(name, name)
        for message in messages:
            if message not in errors.setdefault(key, []):
                errors[key].append(str(message))
    return errors


def _invalid(errors: dict[str, list[str]]) -> Response:
    field = next((name for name in errors if name != NON_FIELD), None)
    return Response(
        error_body(StepInvalid.code, StepInvalid.message, field, errors=errors), status=status.HTTP_400_BAD_REQUEST
    )


def _conflict(step: Step, conflict: DraftConflict) -> Response:
    parts = _part_keys(step.form)
    rows = [
        {
            "name": c.name,
            "label": field_label(step.form, c.name),
            "theirs": c.theirs,
            "mine": c.mine,
            "theirs_display": field_display(step.form, c.name, c.theirs),
            "mine_display": field_display(step.form, c.name, c.mine),
        }
        for c in conflict.conflicts
        if c.name not in parts
    ]
    return _refusal(
        conflict,
        current_version=conflict.current_version,
        conflicts=rows,
        saved_by=conflict.saved_by,
        saved_at=conflict.saved_at,
    )


def _step_of(procedure: Procedure, slug: str) -> Step:
    try:
        return procedure.type.step(slug)
    except KeyError:
        raise NotAllowed() from None


# The views --------------------------------------------------------------------------------------


class ProcedureTypesView(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="procedure_types",
        summary="Les démarches que vous pouvez commencer",
        responses={200: ProcedureTypeSerializer(many=True), **error_responses(401, 403, 429)},
    )
    def get(self, request):
        actor = self.actor
        drafts = {}
        for procedure in procedures_of(actor=actor):
            if procedure.is_draft:
                drafts.setdefault(procedure.type_code, procedure.pk)
        rows = [
            {
                "code": ptype.code,
                "label": ptype.label,
                "summary": ptype.summary,
                "group": ptype.group,
                "concerning": "household" if ptype.household else "author",
                "steps": [{"slug": s.slug, "title": s.title} for s in ptype.steps],
                "draft": drafts.get(ptype.code),
            }
            for ptype in types_startable(actor=actor)
        ]
        return Response(ProcedureTypeSerializer(rows, many=True).data)


class ProceduresView(ApiGenericView):
    parser_classes = [JSONParser]
    serializer_class = StartInputSerializer  # what OPTIONS describes (DRF's metadata)

    @extend_schema(
        tags=TAG,
        operation_id="procedures_list",
        summary="Vos démarches : brouillons et demandes envoyées",
        responses={200: ProcedureSerializer(many=True), **error_responses(401, 403, 404, 429)},
    )
    def get(self, request):
        me = self.actor.subject
        rows = procedures_of(actor=self.actor)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ProcedureSerializer([_procedure(p, me) for p in page], many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="procedures_start",
        summary="Commencer une démarche (ou reprendre celle de ce type déjà commencée)",
        request=StartInputSerializer,
        responses={
            201: ProcedureStartedSerializer,
            200: OpenApiResponse(ProcedureStartedSerializer, description="La démarche de ce type déjà commencée."),
            **error_responses(400, 401, 403, 404, 415, 429),
        },
    )
    def post(self, request):
        payload = _validated(StartInputSerializer, request.data)
        started = procedure_start(actor=self.actor, type_code=payload["type"])
        body = {**_detail(self.actor, started.procedure), "resumed": started.resumed}
        return Response(
            ProcedureStartedSerializer(body).data,
            status=status.HTTP_200_OK if started.resumed else status.HTTP_201_CREATED,
        )


class ProcedureView(ApiView):
    @extend_schema(
        tags=TAG,
        operation_id="procedures_read",
        summary="Une démarche : ses étapes, ses valeurs enregistrées, ce qui manque",
        responses={200: ProcedureDetailSerializer, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, pk: int):
        procedure = procedure_for(actor=self.actor, procedure_id=pk)
        body = _detail(self.actor, procedure)
        # As the pages: a draft's summary, a sent request's receipt.
        procedure_viewed(actor=self.actor, procedure=procedure, what="summary" if procedure.is_draft else "receipt")
        return Response(ProcedureDetailSerializer(body).data)


class ProcedureStepView(ApiView):
    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAG,
        operation_id="procedures_step_read",
        summary="Une étape : ses champs, les données des partenaires, les valeurs enregistrées",
        responses={
            200: StepSerializer,
            **error_responses(401, 403, 404, 409, 429, s409=ProcedureErrorSerializer),
        },
    )
    def get(self, request, pk: int, step: str):
        actor = self.actor
        procedure = procedure_for(actor=actor, procedure_id=pk)
        current = _step_of(procedure, step)
        if procedure.is_draft:
            missing = first_missing_step(procedure, before=current.slug)
            if missing is not None:
                error = StepNotReached(missing.slug)
                return _refusal(error, step=error.step)
        prefilled = (
            step_prefill(actor=actor, procedure=procedure, slug=current.slug)
            if current.prefill and procedure.is_draft
            else Prefilled()
        )
        ptype = procedure.type
        position = ptype.index(current.slug)
        body = {
            "procedure": procedure.pk,
            "slug": current.slug,
            "title": current.title,
            "intro": current.intro,
            "position": position + 1,
            "total": len(ptype.steps),
            "previous_step": ptype.steps[position - 1].slug if position > 0 else None,
            "next_step": ptype.next_slug(current.slug),
            "version": procedure.version,
            "read_only": not procedure.is_draft,
            "saved": current.slug in procedure.data,
            "fields": _fields(procedure, current, prefilled),
            "values": _saved_values(procedure, current),
            "partners_shown": [{"source": str(label), "fetched_at": at} for label, at in prefilled.shown],
            "partners_missing": [str(sentence) for sentence in prefilled.missing],
        }
        procedure_viewed(actor=actor, procedure=procedure, what=f"step:{current.slug}")
        return Response(StepSerializer(body).data)

    @extend_schema(
        tags=TAG,
        operation_id="procedures_step_save",
        summary="Enregistrer une étape, avec la version lue",
        request=StepSaveInputSerializer,
        responses={
            200: StepSavedSerializer,
            **error_responses(400, 401, 403, 404, 409, 415, 429, s409=ProcedureErrorSerializer),
        },
    )
    def put(self, request, pk: int, step: str):
        actor = self.actor
        # As the page: a procedure the person may not see is not found, whatever is sent.
        procedure = procedure_for(actor=actor, procedure_id=pk)
        current = _step_of(procedure, step)
        if not procedure.is_draft:  # as the page: a sent request is shown read-only
            raise ReadOnly()
        payload = _validated(StepSaveInputSerializer, request.data)
        data, unreadable = _form_data(current.form, payload["values"])
        if unreadable:
            return _invalid(unreadable)
        try:
            saved = step_save(
                actor=actor,
                procedure=procedure,
                slug=current.slug,
                data=data,
                base_version=payload["version"],
                resolved=payload["resolved"],
            )
        except StepInvalid as invalid:
            return _invalid(_form_errors(invalid.form))
        except DraftConflict as conflict:
            return _conflict(current, conflict)
        except StepNotReached as not_reached:
            return _refusal(not_reached, step=not_reached.step)
        body = {
            "procedure": saved.procedure.pk,
            "step": current.slug,
            "version": saved.procedure.version,
            "next_step": saved.next_step,
            "merged": saved.merged,
            "corrected": saved.corrected,
            "complete": first_missing_step(saved.procedure) is None,
        }
        return Response(StepSavedSerializer(body).data)


class ProcedureSubmitView(ApiView):
    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAG,
        operation_id="procedures_submit",
        summary="Envoyer la demande, certifiée par la personne",
        request=SubmitInputSerializer,
        responses={
            200: ProcedureDetailSerializer,
            **error_responses(
                400, 401, 403, 404, 409, 415, 429, s400=ProcedureErrorSerializer, s409=ProcedureErrorSerializer
            ),
        },
    )
    def post(self, request, pk: int):
        actor = self.actor
        procedure = procedure_for(actor=actor, procedure_id=pk)
        payload = _validated(SubmitInputSerializer, request.data)
        try:
            submitted = procedure_submit(
                actor=actor, procedure=procedure, base_version=payload["version"], attested=payload["attested"]
            )
        except Incomplete as incomplete:
            missing = [s.slug for s in procedure.type.steps if not _step_done(procedure, s)]
            return _refusal(incomplete, step=incomplete.step, missing=missing or [incomplete.step])
        except DraftConflict as conflict:
            return _refusal(conflict, current_version=conflict.current_version, conflicts=[])
        return Response(ProcedureDetailSerializer(_detail(actor, submitted)).data)


class ProcedureCancelView(ApiView):
    parser_classes = [JSONParser]

    @extend_schema(
        tags=TAG,
        operation_id="procedures_cancel",
        summary="Abandonner un brouillon (ses réponses sont effacées)",
        request=None,
        responses={200: CancelledSerializer, **error_responses(401, 403, 404, 409, 429)},
    )
    def post(self, request, pk: int):
        procedure = procedure_for(actor=self.actor, procedure_id=pk)
        if not procedure.is_draft:
            raise ReadOnly()
        cancelled = procedure_cancel(actor=self.actor, procedure=procedure)
        body = {
            "id": cancelled.pk,
            "state": cancelled.state,
            "message": MESSAGE_CANCELLED.format(label=cancelled.type.label),
        }
        return Response(CancelledSerializer(body).data)


class JsonRefusals(BaseContentNegotiation):
    """A view that answers a file: whatever the client accepts, its refusals are JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return JSONRenderer(), JSONRenderer.media_type


class ProcedureReceiptView(ApiView):
    content_negotiation_class = JsonRefusals

    @extend_schema(
        tags=TAG,
        operation_id="procedures_receipt",
        summary="L'accusé de réception d'une demande envoyée (PDF)",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **error_responses(401, 403, 404, 429)},
    )
    def get(self, request, pk: int):
        procedure = procedure_for(actor=self.actor, procedure_id=pk)
        history = procedure_history(actor=self.actor, procedure=procedure)
        pdf = receipt_pdf(procedure, history)  # a draft has none: not found
        procedure_viewed(actor=self.actor, procedure=procedure, what="receipt_pdf")
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="accuse-de-reception-{procedure.reference}.pdf"'
        return response


# The URLs (included at the marker of moncompte/api/v1/urls.py) ----------------------------------

urlpatterns = [
    path("procedures/types/", ProcedureTypesView.as_view(), name="procedure_types"),
    path("procedures/", ProceduresView.as_view(), name="procedures"),
    path("procedures/<int:pk>/", ProcedureView.as_view(), name="procedure"),
    path("procedures/<int:pk>/steps/<slug:step>/", ProcedureStepView.as_view(), name="procedure_step"),
    path("procedures/<int:pk>/submit/", ProcedureSubmitView.as_view(), name="procedure_submit"),
    path("procedures/<int:pk>/cancel/", ProcedureCancelView.as_view(), name="procedure_cancel"),
    path("procedures/<int:pk>/receipt/", ProcedureReceiptView.as_view(), name="procedure_receipt"),
]
