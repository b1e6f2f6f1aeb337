"""The procedure engine: start, read, save a step, submit; the same for every type and channel.

- **Who**: every read and write asks the one policy (moncompte.access.policy.procedure_allowed)
  with the person's standing read now on the procedure's file, so a delegation withdrawn or a
  separation declared a moment ago takes effect on the next request. A household procedure is
  the file's (R and S+ see it, whoever started it); an individual one is its author's. A
  visitor's draft (a new beneficiary without an account yet) opens only with the token kept in
  their session. What is refused is not found (NotAllowed).
- **Versions**: a draft carries a version, bumped by every save. A save made from a page of an
  older version is compared field by field with what was saved since: if another device changed
  a field this page shows with another value, nothing is written and the person is shown both
  values to choose (DraftConflict). Nothing is ever overwritten silently.
- **History**: every save, choice, correction of a partner's value and the submission is a
  ProcedureEvent naming the person who did it (a spouse acts in their own name, for the
  household), and a journal entry (without the values).
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from moncompte.access.policy import (
    Standing,
    may_request_as_newcomer,
    memberships_with_standing,
    procedure_allowed,
    standings,
)
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.procedures.declarations import ProcedureType, Step, SubmitContext, bind, json_value, raw_of
from moncompte.procedures.models import Procedure, ProcedureEvent
from moncompte.procedures.registry import procedure_type

# Errors -------------------------------------------------------------------------------------


class ProcedureError(DomainError):
    message = "Cette démarche ne peut pas être enregistrée."


class StepInvalid(ProcedureError):
    """The step's form has errors: ``form`` carries them (shown on its fields)."""

    code = "invalid"
    message = "Le formulaire contient des erreurs."

    def __init__(self, form):
        super().__init__()
        self.form = form


class ReadOnly(ProcedureError):
    code = "read_only"
    status = 409
    message = "Cette demande a été envoyée : elle ne peut plus être modifiée."


class AccountRequired(ProcedureError):
    """The step needs to know who makes the request: a visitor creates their account first."""

    code = "account_required"
    status = 401
    message = "Pour continuer votre demande, créez votre compte ou connectez-vous."


class StepNotReached(ProcedureError):
    """An earlier step is not saved yet: ``step`` is the first one to fill."""

    code = "not_reached"
    status = 409
    message = "Remplissez d'abord les étapes précédentes."

    def __init__(self, step: str):
        super().__init__()
        self.step = step


@dataclass(frozen=True)
class FieldConflict:
    name: str
    label: str
    theirs: object  # the clean value saved from the other device
    mine: object  # the clean value this page sent


class DraftConflict(ProcedureError):
    """Saved meanwhile from another device with other values: nothing was written."""

    code = "conflict"
    status = 409
    message = "Cette étape a été modifiée sur un autre appareil pendant que vous la remplissiez."

    def __init__(self, *, conflicts: list[FieldConflict], current_version: int, saved_by: str, saved_at):
        super().__init__()
        self.conflicts = conflicts
        self.current_version = current_version
        self.saved_by = saved_by
        self.saved_at = saved_at


# Settings -----------------------------------------------------------------------------------


def draft_lifetime() -> datetime.timedelta:
    return datetime.timedelta(days=settings.MONCOMPTE_PROCEDURE_DRAFT_DAYS)


def visitor_draft_lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.MONCOMPTE_PROCEDURE_VISITOR_DRAFT_HOURS)


def reminder_before() -> datetime.timedelta:
    return datetime.timedelta(days=settings.MONCOMPTE_PROCEDURE_REMINDER_DAYS)


# Who may see a procedure ---------------------------------------------------------------------


def visitor_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _opens_with(procedure: Procedure, visitor_token: str | None) -> bool:
    return bool(visitor_token and procedure.visitor_digest) and hmac.compare_digest(
        procedure.visitor_digest, visitor_digest(visitor_token)
    )


def visible_to(procedure: Procedure, ptype: ProcedureType, person, current: dict[int, Standing]) -> bool:
    """The one question, for the list and for one procedure: may ``person`` see it now?"""
    if procedure.state in (Procedure.State.EXPIRED, Procedure.State.CANCELLED):
        return False
    is_author = person is not None and procedure.person_id == person.pk
    if procedure.dossier_id is None:
        return is_author
    action = ptype.action if procedure.is_draft else ptype.visibility_action
    return procedure_allowed(
        current.get(procedure.dossier_id, Standing.STRANGER), action, household=ptype.household, is_author=is_author
    )


def _visible(actor: Actor, procedure: Procedure, visitor_token: str | None) -> bool:
    if procedure.person_id is None:
        return procedure.is_draft and _opens_with(procedure, visitor_token)
    person = actor.subject
    if person is None:
        return False
    return visible_to(procedure, procedure.type, person, standings(person))


def procedure_for(*, actor: Actor, procedure_id: int, visitor_token: str | None = None) -> Procedure:
    """The procedure if the actor may see it now; else NotAllowed (not found)."""
    procedure = Procedure.objects.filter(pk=procedure_id).select_related("dossier").first()
    if procedure is None or not _visible(actor, procedure, visitor_token):
        raise NotAllowed()
    return procedure


def procedures_of(*, actor: Actor, visitor_token: str | None = None) -> list[Procedure]:
    """The drafts and submitted requests the actor may see: their file's household ones, their
    own individual ones and their own requests outside any file; the newest first."""
    person = actor.subject
    if person is None:
        if not visitor_token:
            return []
        rows = Procedure.objects.drafts().filter(person__isnull=True, visitor_digest=visitor_digest(visitor_token))
        return list(rows)
    current = standings(person)
    rows = (
        Procedure.objects.filter(Q(person=person) | Q(dossier_id__in=list(current)))
        .exclude(state__in=[Procedure.State.EXPIRED, Procedure.State.CANCELLED])
        .select_related("dossier", "person")
    )
    shown = []
    for procedure in rows:
        try:
            ptype = procedure.type
        except NotAllowed:  # a type no longer declared: not shown
            continue
        if visible_to(procedure, ptype, person, current):
            shown.append(procedure)
    return shown


def _file_for(ptype: ProcedureType, person):
    """The file a new procedure of ``ptype`` is made on, for ``person``; None for a newcomer's."""
    for member, current in memberships_with_standing(person, current_only=True):
        if procedure_allowed(current, ptype.action, household=ptype.household, is_author=True):
            return member.dossier
    if ptype.open_to_newcomers and may_request_as_newcomer(person):
        return None
    raise NotAllowed()


def types_startable(*, actor: Actor) -> list[ProcedureType]:
    """The types the actor may start now (the "start a procedure" list)."""
    from moncompte.procedures.registry import procedure_types

    startable = []
    for ptype in procedure_types():
        if actor.subject is None:
            if ptype.open_to_newcomers:
                startable.append(ptype)
            continue
        try:
            _file_for(ptype, actor.subject)
        except NotAllowed:
            continue
        startable.append(ptype)
    return startable


# Start ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    procedure: Procedure
    resumed: bool  # an existing draft of that type was given back instead of a new one
    visitor_token: str | None = None  # to keep in the visitor's session (never shown, never in a URL)


def _existing_draft(ptype: ProcedureType, person, dossier) -> Procedure | None:
    drafts = Procedure.objects.drafts().filter(type_code=ptype.code)
    if dossier is not None and ptype.household:
        drafts = drafts.filter(dossier=dossier)
    else:
        drafts = drafts.filter(person=person, dossier=dossier)
    return drafts.order_by("-updated_at").first()


def procedure_start(*, actor: Actor, type_code: str) -> Started:
    """A new draft of ``type_code``, or the one in progress of that type (one draft per type on a
    file, or per person outside a file: two devices resume the same, never two half-filled ones)."""
    ptype = procedure_type(type_code)
    person = actor.subject
    now = timezone.now()
    token = None
    if person is None:
        if not ptype.open_to_newcomers:
            raise NotAllowed()
        dossier = None
        token = secrets.token_urlsafe(32)
        expires_at = now + visitor_draft_lifetime()
    else:
        dossier = _file_for(ptype, person)
        existing = _existing_draft(ptype, person, dossier)
        if existing is not None:
            return Started(procedure=existing, resumed=True)
        expires_at = now + draft_lifetime()
    with transaction.atomic():
        procedure = Procedure.objects.create(
            type_code=ptype.code,
            dossier=dossier,
            person=person,
            visitor_digest=visitor_digest(token) if token else "",
            step_reached=ptype.steps[0].slug,
            created_at=now,
            updated_at=now,
            expires_at=expires_at,
        )
        _event(procedure, actor, ProcedureEvent.Kind.STARTED)
        journal_record(
            action=JournalAction.PROCEDURE_STARTED,
            actor=actor,
            dossier=dossier,
            detail={"procedure": procedure.pk, "type": ptype.code},
        )
    return Started(procedure=procedure, resumed=False, visitor_token=token)


def procedure_claim(*, actor: Actor, visitor_token: str, procedure_id: int) -> Procedure:
    """The visitor who started the draft now has an account (created inside the request): the
    draft becomes theirs, with what they typed. Only with the token of the visitor's session."""
    if actor.subject is None:
        raise NotAllowed()
    with transaction.atomic():
        procedure = Procedure.objects.select_for_update().filter(pk=procedure_id, person__isnull=True).first()
        if procedure is None or not procedure.is_draft or not _opens_with(procedure, visitor_token):
            raise NotAllowed()
        ptype = procedure.type
        dossier = _file_for(ptype, actor.subject)
        procedure.person = actor.subject
        procedure.dossier = dossier
        procedure.visitor_digest = ""
        procedure.expires_at = timezone.now() + draft_lifetime()
        procedure.version += 1
        procedure.save(update_fields=["person", "dossier", "visitor_digest", "expires_at", "version"])
        _event(procedure, actor, ProcedureEvent.Kind.CLAIMED)
        journal_record(
            action=JournalAction.PROCEDURE_CLAIMED,
            actor=actor,
            dossier=dossier,
            detail={"procedure": procedure.pk, "type": ptype.code},
        )
    return procedure


# Steps ---------------------------------------------------------------------------------------


def first_missing_step(procedure: Procedure, before: str | None = None) -> Step | None:
    """The first step with a form that is not saved (before ``before`` only, if given), the
    identity step counting as done once the procedure has its person."""
    ptype = procedure.type
    for step in ptype.steps:
        if before is not None and step.slug == before:
            return None
        if step.identity and procedure.person_id is None:
            return step
        if step.form is not None and step.slug not in procedure.data:
            return step
    return None


def resume_step(procedure: Procedure) -> Step:
    """Where to resume: the first step not done yet, else the summary's step (the last)."""
    return first_missing_step(procedure) or procedure.type.steps[-1]


def step_form(procedure: Procedure, slug: str, data=None, initial: dict | None = None):
    """The step's form: bound to ``data`` (a POST), else to what was saved, else unbound with
    the partner's values as initial ones."""
    step = procedure.type.step(slug)
    if step.form is None:
        return None
    if data is not None:
        return step.form(data=data)
    raw = procedure.raw_values(slug)
    if raw is not None:
        return bind(step.form, raw)
    return step.form(initial=initial or {})


def _check_reachable(procedure: Procedure, ptype: ProcedureType, slug: str) -> Step:
    try:
        step = ptype.step(slug)
    except KeyError:
        raise NotAllowed() from None
    if ptype.needs_account(slug) and procedure.person_id is None:
        raise AccountRequired()
    missing = first_missing_step(procedure, before=slug)
    if missing is not None:
        raise StepNotReached(missing.slug)
    return step


@dataclass(frozen=True)
class Saved:
    procedure: Procedure
    next_step: str | None  # None: the last step was saved
    merged: bool = False  # saved from an older page, no field in conflict
    corrected: list[str] = field(default_factory=list)  # fields typed differently from a partner's value


def _values_at(procedure: Procedure, slug: str, version: int) -> dict:
    """The step's clean values as they were at ``version`` (what the page was built from)."""
    event = (
        ProcedureEvent.objects.filter(
            procedure=procedure, step=slug, kind=ProcedureEvent.Kind.STEP_SAVED, version__lte=version
        )
        .order_by("-version", "-id")
        .first()
    )
    return event.values if event else {}


def _label(form, name: str) -> str:
    formfield = form.fields[name]
    return str(getattr(formfield, "summary_label", None) or formfield.label or name)


def _conflicts(form, base: dict, theirs: dict, mine: dict) -> list[FieldConflict]:
    """Fields another device changed since the page's version and this page sends otherwise."""
    names = list(dict.fromkeys([*form.fields, *theirs, *mine]))
    return [
        FieldConflict(
            name=name,
            label=_label(form, name) if name in form.fields else name,
            theirs=theirs.get(name),
            mine=mine.get(name),
        )
        for name in names
        if theirs.get(name) != base.get(name) and mine.get(name) != theirs.get(name)
    ]


def _as_field_value(formfield, value):
    """A partner's value as the field would keep it ("21350" as "21350.00"), so that a value left
    as the partner gave it is no correction; the value as it is if the field refuses it."""
    if value is None:
        return None
    if formfield is None:
        return json_value(value)
    try:
        return json_value(formfield.clean(formfield.to_python(value) if isinstance(value, str) else value))
    except ValidationError:
        return json_value(value)


def _same(typed, partner) -> bool:
    """The same answer: "2.50" typed and "2.5" given are one number of parts."""
    if typed == partner:
        return True
    try:
        return decimal.Decimal(str(typed)) == decimal.Decimal(str(partner))
    except (decimal.InvalidOperation, ValueError):
        return False


def _corrections(step: Step, procedure: Procedure, clean: dict, actor: Actor, now) -> dict:
    """The step's pre-filled fields where the person typed another value than the partner's."""
    found = {}
    fields = step.form().fields if step.form is not None and step.prefill else {}
    for name, prefill in step.prefill.items():
        entry = procedure.partner_data.get(prefill.source)
        if not entry:
            continue
        partner_value = _as_field_value(fields.get(name), prefill.value_from(entry.get("data") or {}))
        if partner_value is None or _same(clean.get(name), partner_value):
            continue
        found[name] = {
            "source": prefill.source,
            "label": entry.get("label", prefill.source),
            "partner": partner_value,
            "typed": clean.get(name),
            "fetched_at": entry.get("fetched_at"),
            "at": now.isoformat(),
            "by": actor.subject.pk if actor.subject else None,
        }
    return found


def step_save(
    *,
    actor: Actor,
    procedure: Procedure,
    slug: str,
    data,
    base_version: int,
    visitor_token: str | None = None,
    resolved: bool = False,
) -> Saved:
    """Validate the step's form on ``data`` (what was typed) and keep it in the draft.

    ``base_version``: the draft's version the page was built from. ``resolved``: the values come
    from the conflict page, where the person chose between theirs and the other device's.
    Raises StepInvalid (the form with its errors), DraftConflict, ReadOnly, AccountRequired,
    StepNotReached, NotAllowed.
    """
    ptype = procedure.type
    step = _check_reachable(procedure, ptype, slug)
    form = step.form(data=data) if step.form is not None else None
    if form is not None and not form.is_valid():
        raise StepInvalid(form)
    clean = json_value(form.cleaned_data) if form is not None else {}
    raw = raw_of(form, data) if form is not None else {}
    now = timezone.now()
    with transaction.atomic():
        locked = Procedure.objects.select_for_update().get(pk=procedure.pk)
        if not _visible(actor, locked, visitor_token):
            raise NotAllowed()
        if not locked.is_draft:
            raise ReadOnly()
        merged = False
        if locked.version != base_version:
            theirs = (locked.data.get(slug) or {}).get("clean", {})
            conflicts = _conflicts(form, _values_at(locked, slug, base_version), theirs, clean) if form else []
            if conflicts:
                last = (
                    ProcedureEvent.objects.filter(procedure=locked, step=slug, kind=ProcedureEvent.Kind.STEP_SAVED)
                    .select_related("person")
                    .order_by("-version", "-id")
                    .first()
                )
                raise DraftConflict(
                    conflicts=conflicts,
                    current_version=locked.version,
                    saved_by=last.person.display_name if last and last.person else "",
                    saved_at=last.at if last else locked.updated_at,
                )
            merged = True
        corrections = _corrections(step, locked, clean, actor, now)
        locked.data = {**locked.data, slug: {"raw": raw, "clean": clean}}
        locked.corrections = {
            **{k: v for k, v in locked.corrections.items() if k not in {f for f in (form.fields if form else [])}},
            **corrections,
        }
        locked.version += 1
        locked.updated_at = now
        locked.expires_at = now + (draft_lifetime() if locked.person_id else visitor_draft_lifetime())
        locked.reminded_at = None
        next_slug = ptype.next_slug(slug)
        reached = locked.step_reached if locked.step_reached in {s.slug for s in ptype.steps} else slug
        if next_slug and ptype.index(next_slug) > ptype.index(reached):
            locked.step_reached = next_slug
        locked.save(
            update_fields=[
                "data",
                "corrections",
                "version",
                "updated_at",
                "expires_at",
                "reminded_at",
                "step_reached",
            ]
        )
        detail = {"merged": merged} if merged else {}
        _event(locked, actor, ProcedureEvent.Kind.STEP_SAVED, step=slug, values=clean, detail=detail)
        if resolved:
            _event(locked, actor, ProcedureEvent.Kind.CONFLICT_RESOLVED, step=slug)
        for name, correction in corrections.items():
            _event(
                locked,
                actor,
                ProcedureEvent.Kind.CORRECTED,
                step=slug,
                detail={"field": name, "source": correction["source"], "label": correction["label"]},
            )
        journal_record(
            action=JournalAction.PROCEDURE_STEP_SAVED,
            actor=actor,
            dossier=locked.dossier,
            detail={
                "procedure": locked.pk,
                "type": ptype.code,
                "step": slug,
                "version": locked.version,
                "resolved": resolved,
                "corrected": sorted(corrections),
            },
        )
    return Saved(procedure=locked, next_step=next_slug, merged=merged, corrected=sorted(corrections))


def partner_data_keep(*, procedure: Procedure, results: dict) -> None:
    """Keep the partner answers shown on a step in the draft (source -> {data, fetched_at, label}),
    so that another device shows the same and a correction is told from the partner's value. Not
    a change of the person's values: the version stays."""
    if not results or not procedure.is_draft:
        return
    with transaction.atomic():
        locked = Procedure.objects.select_for_update().get(pk=procedure.pk)
        if not locked.is_draft:
            return
        locked.partner_data = {**locked.partner_data, **results}
        locked.save(update_fields=["partner_data"])
    procedure.partner_data = locked.partner_data


def procedure_cancel(*, actor: Actor, procedure: Procedure, visitor_token: str | None = None) -> Procedure:
    """Abandon a draft: whoever may continue it may drop it. Its values are wiped at once (the
    history keeps who did what); a submitted request cannot be abandoned here (ReadOnly)."""
    with transaction.atomic():
        locked = Procedure.objects.select_for_update().get(pk=procedure.pk)
        if not _visible(actor, locked, visitor_token):
            raise NotAllowed()
        if not locked.is_draft:
            raise ReadOnly()
        locked.state = Procedure.State.CANCELLED
        locked.data, locked.partner_data, locked.corrections = {}, {}, {}
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save(update_fields=["state", "data", "partner_data", "corrections", "version", "updated_at"])
        locked.events.filter(kind=ProcedureEvent.Kind.STEP_SAVED).update(values={})
        _event(locked, actor, ProcedureEvent.Kind.CANCELLED)
        journal_record(
            action=JournalAction.PROCEDURE_CANCELLED,
            actor=actor,
            dossier=locked.dossier,
            detail={"procedure": locked.pk, "type": locked.type_code},
        )
    return locked


# Submission ----------------------------------------------------------------------------------

_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O, U


def _new_reference(ptype: ProcedureType, now) -> str:
    suffix = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{ptype.reference_prefix}-{now:%Y}-{suffix}"


class Incomplete(ProcedureError):
    code = "incomplete"
    message = "Des étapes ne sont pas encore remplies."

    def __init__(self, step: str):
        super().__init__()
        self.step = step


MESSAGE_ATTEST = "Cochez la case pour certifier l'exactitude des informations avant d'envoyer votre demande."


def procedure_submit(*, actor: Actor, procedure: Procedure, base_version: int, attested: bool) -> Procedure:
    """Send the request, which the person certifies (``attested``): every step is validated
    again, the type's submission runs, the request gets its reference and becomes read-only, in
    one transaction. ``base_version``: the version of the summary the person read (sent from an
    older page: DraftConflict, nothing sent)."""
    ptype = procedure.type
    if procedure.person_id is None:
        raise AccountRequired()
    if not attested:
        raise ProcedureError(MESSAGE_ATTEST, code="attestation", field="attestation")
    with transaction.atomic():
        locked = Procedure.objects.select_for_update().get(pk=procedure.pk)
        if not _visible(actor, locked, None):
            raise NotAllowed()
        if not locked.is_draft:
            raise ReadOnly()
        if locked.version != base_version:
            raise DraftConflict(conflicts=[], current_version=locked.version, saved_by="", saved_at=locked.updated_at)
        missing = first_missing_step(locked)
        if missing is not None:
            raise Incomplete(missing.slug)
        for step in ptype.steps:
            if step.form is None:
                continue
            form = bind(step.form, locked.raw_values(step.slug) or {})
            if not form.is_valid():  # a rule that changed since the step was saved
                raise Incomplete(step.slug)
        now = timezone.now()
        result = {}
        if ptype.submit is not None:
            result = ptype.submit(SubmitContext(actor=actor, procedure=locked, values=locked.clean_values())) or {}
        for _ in range(5):
            locked.reference = _new_reference(ptype, now)
            try:
                with transaction.atomic():
                    Procedure.objects.filter(pk=locked.pk).update(reference=locked.reference)
                break
            except IntegrityError:  # the same reference drawn twice: 32^8 values, draw again
                continue
        else:
            raise ProcedureError("La référence de votre demande n'a pas pu être attribuée : réessayez.")
        locked.state = Procedure.State.SUBMITTED
        locked.submitted_at = now
        locked.submitted_by = actor.subject
        locked.updated_at = now
        locked.version += 1
        locked.result = json_value(result)
        locked.save(
            update_fields=["state", "submitted_at", "submitted_by", "updated_at", "version", "result", "reference"]
        )
        _event(locked, actor, ProcedureEvent.Kind.SUBMITTED, detail={"reference": locked.reference})
        journal_record(
            action=JournalAction.PROCEDURE_SUBMITTED,
            actor=actor,
            dossier=locked.dossier,
            detail={"procedure": locked.pk, "type": ptype.code, "reference": locked.reference},
        )
        _notify_submitted(locked, ptype)
    return locked


def _notify_submitted(procedure: Procedure, ptype: ProcedureType) -> None:
    from moncompte.accounts.services import notify_people

    notify_people(
        [procedure.submitted_by],
        template="procedure_submitted",
        context={"label": ptype.label, "reference": procedure.reference, "at": procedure.submitted_at},
    )


def procedure_history(*, actor: Actor, procedure: Procedure) -> list[ProcedureEvent]:
    """Who did what on the procedure (asked again: the caller may hold an old object)."""
    procedure_for(actor=actor, procedure_id=procedure.pk)
    return list(procedure.events.select_related("person").order_by("at", "id"))


def procedure_viewed(*, actor: Actor, procedure: Procedure, what: str) -> None:
    """The journal's trace of a look at a procedure's content (a step, the summary, the receipt)."""
    journal_record(
        action=JournalAction.PROCEDURE_VIEWED,
        actor=actor,
        dossier=procedure.dossier,
        detail={"procedure": procedure.pk, "type": procedure.type_code, "what": what},
    )


def _event(procedure: Procedure, actor: Actor, kind: str, *, step: str = "", values=None, detail=None):
    return ProcedureEvent.objects.create(
        procedure=procedure,
        kind=kind,
        person=actor.subject,
        channel=actor.channel,
        step=step,
        version=procedure.version,
        values=values or {},
        detail=detail or {},
    )
