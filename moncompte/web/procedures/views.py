"""The procedure pages (/mon-compte/demarches/): the list, the steps, the conflict page, the
summary with the attestation, the receipt and its PDF (issue 10, points 1, 2 and 4).

Every rule is the engine's (moncompte.procedures.services): who may see and continue a draft,
the order of the steps, the versions and their conflicts, the identity step, the submission.
These views turn a request into a call and the answer (or the refusal) into a page: a
procedure the person may not see is not found (404), whatever its number.

A visitor (a new beneficiary without an account yet) reaches the steps before the identity
step with the token kept in their session under ``VISITOR_KEY`` ({"token", "procedure"},
written by moncompte.web.procedure_visitor); at the identity step they are asked to create their
account or sign in (web/procedures/identity_visitor.html).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from moncompte.accounts.services import account_usable
from moncompte.core.errors import NotAllowed
from moncompte.procedures.declarations import json_value, raw_keys, raw_of
from moncompte.procedures.models import Procedure, ProcedureEvent
from moncompte.procedures.prefill import Prefilled, step_prefill
from moncompte.procedures.services import (
    AccountRequired,
    DraftConflict,
    FieldConflict,
    Incomplete,
    ProcedureError,
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
from moncompte.web.actors import actor_of
from moncompte.web.errors import add_domain_error, refusals_as_404
from moncompte.web.flows import render_step
from moncompte.web.procedures.forms import KEEP_SAVED, ConflictForm, SubmitForm
from moncompte.web.templatetags.french import date_fr

# The visitor's draft in their session (moncompte.web.procedure_visitor writes it).
VISITOR_KEY = "moncompte_procedure_visitor"
MINE_PREFIX = "mine-"  # the conflict page carries what this page sent under these names

MESSAGE_RESUMED = "Cette démarche était déjà commencée : vous la reprenez là où elle a été laissée."
MESSAGE_MERGED = "Cette démarche a été modifiée sur un autre appareil ; vos réponses à cette étape y ont été ajoutées."
MESSAGE_RESOLVED = "Vos choix sont enregistrés."
MESSAGE_CHANGED_ELSEWHERE = (
    "Cette démarche a été modifiée sur un autre appareil pendant que vous lisiez le récapitulatif : "
    "vérifiez-le à jour ci-dessous, puis envoyez votre demande."
)


def _visitor_token(request) -> str | None:
    kept = request.session.get(VISITOR_KEY)
    return kept.get("token") if isinstance(kept, dict) else None


def _version(data) -> int:
    """The draft's version the page was built from; unreadable: 0 (older than any, compared)."""
    try:
        return max(int(data.get("version", "")), 0)
    except (TypeError, ValueError):
        return 0


def _step_url(procedure: Procedure, slug: str) -> str:
    return reverse("web:procedure_step", kwargs={"pk": procedure.pk, "step": slug})


def _resume(procedure: Procedure):
    """Where a draft is taken up: its first step not done, or its summary once every step is."""
    if first_missing_step(procedure) is None:
        return redirect("web:procedure_summary", pk=procedure.pk)
    return redirect(_step_url(procedure, resume_step(procedure).slug))


def _receipt(procedure: Procedure):
    return redirect("web:procedure_receipt", pk=procedure.pk)


def _when(moment) -> str:
    return date_fr(timezone.localtime(moment), "j F Y") if moment else ""


def _who(person, me) -> str:
    """ "vous" for the person reading the page, else the name."""
    if person is None:
        return "le demandeur, avant la création de son compte"
    return "vous" if me is not None and person.pk == me.pk else person.display_name


def _gate(request):
    """The steps are open to a visitor with a draft in their session: anyone else not signed in
    signs in first; a signed-in person validates a contact first (as on every signed-in page)."""
    if not request.user.is_authenticated:
        if not _visitor_token(request):
            return redirect_to_login(request.get_full_path())
        return None
    if not account_usable(request.user):
        return redirect("web:contact_validate")
    return None


# The list ----------------------------------------------------------------------------------


def _last_saves(drafts: list[Procedure]) -> dict[int, ProcedureEvent]:
    """Each draft's last save (or its start, or its claim): when and by whom, for the list."""
    kinds = [ProcedureEvent.Kind.STEP_SAVED, ProcedureEvent.Kind.STARTED, ProcedureEvent.Kind.CLAIMED]
    last: dict[int, ProcedureEvent] = {}
    events = (
        ProcedureEvent.objects.filter(procedure__in=[d.pk for d in drafts], kind__in=kinds)
        .select_related("person")
        .order_by("procedure_id", "-at", "-id")
    )
    for event in events:
        last.setdefault(event.procedure_id, event)
    return last


@require_GET
def procedures_view(request):
    actor = actor_of(request)
    me = actor.subject
    rows = procedures_of(actor=actor)
    drafts = [p for p in rows if p.is_draft]
    sent = sorted(
        (p for p in rows if p.state == Procedure.State.SUBMITTED), key=lambda p: (p.submitted_at, p.pk), reverse=True
    )
    last = _last_saves(drafts)
    in_progress = []
    for procedure in drafts:
        ptype = procedure.type
        step = resume_step(procedure)
        event = last.get(procedure.pk)
        in_progress.append(
            {
                "procedure": procedure,
                "label": ptype.label,
                "position": ptype.index(step.slug) + 1,
                "count": len(ptype.steps),
                "step_title": step.title,
                "saved_at": event.at if event else procedure.updated_at,
                "saved_by": _who(event.person if event else procedure.person, me),
                "complete": first_missing_step(procedure) is None,
                "started_only": event is not None and event.kind == ProcedureEvent.Kind.STARTED,
            }
        )
    draft_of_type = {}
    for procedure in drafts:
        draft_of_type.setdefault(procedure.type_code, procedure)
    groups: list[dict] = []
    for ptype in types_startable(actor=actor):
        if not groups or groups[-1]["title"] != ptype.group:
            groups.append({"title": ptype.group, "types": []})
        groups[-1]["types"].append({"type": ptype, "draft": draft_of_type.get(ptype.code)})
    sent_rows = [{"procedure": p, "label": p.type.label, "sent_by": _who(p.submitted_by, me)} for p in sent]
    return render(
        request,
        "web/procedures/list.html",
        {"in_progress": in_progress, "sent": sent_rows, "groups": groups},
    )


@require_POST
@refusals_as_404
def procedure_start_view(request, code: str):
    started = procedure_start(actor=actor_of(request), type_code=code)
    if started.resumed:
        messages.info(request, MESSAGE_RESUMED)
    return _resume(started.procedure)


@login_not_required
@require_GET
@refusals_as_404
def procedure_view(request, pk: int):
    gate = _gate(request)
    if gate is not None:
        return gate
    procedure = procedure_for(actor=actor_of(request), procedure_id=pk, visitor_token=_visitor_token(request))
    return _resume(procedure) if procedure.is_draft else _receipt(procedure)


# A step ------------------------------------------------------------------------------------


def _layout(form, procedure: Procedure, current, prefilled: Prefilled) -> list[dict]:
    """The form's fields in their order, a date typed in three parts as one item, each with what
    the page says of the partners' data (pre-filled from, corrected by the person)."""
    if form is None:
        return []
    dates = {parts.names[0]: parts.key for parts in getattr(form, "date_parts", ())}
    parts_names = {name for parts in getattr(form, "date_parts", ()) for name in parts.names}
    saved = current.slug in procedure.data
    items = []
    for name, formfield in form.fields.items():
        if name in dates:
            items.append({"kind": "date", "date": form.date_groups[dates[name]]})
            continue
        if name in parts_names:
            continue
        widget = formfield.widget
        kind = (
            "radio"
            if getattr(widget, "input_type", "") == "radio"
            else "checkbox"
            if getattr(widget, "input_type", "") == "checkbox"
            else "text"
        )
        correction = procedure.corrections.get(name) if saved and name in current.prefill else None
        source = prefilled.by_field.get(name)
        items.append(
            {
                "kind": kind,
                "field": form[name],
                "prefilled_by": source[0] if source and correction is None else "",
                "correction": (
                    {
                        "label": correction.get("label") or (source[0] if source else ""),
                        "partner": field_display(current.form, name, correction.get("partner")),
                    }
                    if correction
                    else None
                ),
            }
        )
    return items


def _step_page(request, actor, procedure: Procedure, current, form, prefilled: Prefilled, *, version, status=200):
    ptype = procedure.type
    position = ptype.index(current.slug)
    if position > 0:
        previous = _step_url(procedure, ptype.steps[position - 1].slug)
    else:
        previous = reverse("web:procedures") if actor.subject is not None else ""
    context = {
        "procedure": procedure,
        "ptype": ptype,
        "current": current,
        "form": form,
        "items": _layout(form, procedure, current, prefilled),
        "prefilled": prefilled,
        "version": version,
        "previous_url": previous,
        "visitor": actor.subject is None,
        "person": actor.subject if current.identity else None,
        "expires_at": procedure.expires_at,
    }
    return render_step(
        request, "web/procedures/step.html", [s.title for s in ptype.steps], position + 1, context, status=status
    )


def _account_required(request, procedure: Procedure, current):
    """The identity step of a visitor's draft: create an account or sign in (the page offers
    the claim of the draft to a person signed in meanwhile)."""
    ptype = procedure.type
    return render_step(
        request,
        "web/procedures/identity_visitor.html",
        [s.title for s in ptype.steps],
        ptype.index(current.slug) + 1,
        {"procedure": procedure, "ptype": ptype, "current": current},
    )


def _read_only(request, procedure: Procedure, status: int = 409):
    return render(request, "web/procedures/sent.html", {"procedure": procedure, "ptype": procedure.type}, status=status)


def _prefill(actor, procedure: Procedure, current) -> Prefilled:
    return step_prefill(actor=actor, procedure=procedure, slug=current.slug) if current.prefill else Prefilled()


@login_not_required
@require_http_methods(["GET", "POST"])
@refusals_as_404
def procedure_step_view(request, pk: int, step: str):
    gate = _gate(request)
    if gate is not None:
        return gate
    actor = actor_of(request)
    token = _visitor_token(request)
    procedure = procedure_for(actor=actor, procedure_id=pk, visitor_token=token)
    try:
        current = procedure.type.step(step)
    except KeyError:
        raise Http404 from None
    if not procedure.is_draft:
        return _read_only(request, procedure) if request.method == "POST" else _receipt(procedure)
    if request.method == "POST":
        if request.POST.get("action") == "resoudre":
            return _resolve(request, actor, procedure, current, token)
        return _save(request, actor, procedure, current, request.POST, token)
    if procedure.type.needs_account(current.slug) and procedure.person_id is None:
        return _account_required(request, procedure, current)
    missing = first_missing_step(procedure, before=current.slug)
    if missing is not None:
        return redirect(_step_url(procedure, missing.slug))
    prefilled = _prefill(actor, procedure, current)
    form = step_form(procedure, current.slug, initial=prefilled.initial)
    procedure_viewed(actor=actor, procedure=procedure, what=f"step:{current.slug}")
    return _step_page(request, actor, procedure, current, form, prefilled, version=procedure.version)


def _save(request, actor, procedure: Procedure, current, data, token, *, resolved: bool = False):
    version = _version(data)
    try:
        saved = step_save(
            actor=actor,
            procedure=procedure,
            slug=current.slug,
            data=data,
            base_version=version,
            visitor_token=token,
            resolved=resolved,
        )
    except StepInvalid as invalid:
        prefilled = _prefill(actor, procedure, current)
        return _step_page(request, actor, procedure, current, invalid.form, prefilled, version=version, status=400)
    except DraftConflict as conflict:
        return _conflict_page(request, actor, procedure, current, data, conflict)
    except ReadOnly:
        return _read_only(request, procedure)
    except AccountRequired:
        return _account_required(request, procedure, current)
    except StepNotReached as not_reached:
        return redirect(_step_url(procedure, not_reached.step))
    except NotAllowed:
        raise
    except ProcedureError as refused:
        form = current.form(data=data) if current.form else None
        if form is None:
            raise
        form.is_valid()
        add_domain_error(form, refused)
        prefilled = _prefill(actor, procedure, current)
        return _step_page(request, actor, procedure, current, form, prefilled, version=version, status=400)
    procedure = saved.procedure
    if resolved:
        messages.success(request, MESSAGE_RESOLVED)
    elif saved.merged:
        messages.info(request, MESSAGE_MERGED)
    if data.get("action") == "quitter" and actor.subject is not None:
        messages.success(
            request,
            f"Votre démarche « {procedure.type.label} » est enregistrée. Elle est gardée jusqu'au "
            f"{_when(procedure.expires_at)} : reprenez-la quand vous voulez, depuis n'importe quel appareil.",
        )
        return redirect("web:procedures")
    if saved.next_step:
        return redirect(_step_url(procedure, saved.next_step))
    return redirect("web:procedure_summary", pk=procedure.pk)


# The conflict page -------------------------------------------------------------------------


def _conflict_rows(form_class, conflicts: list[FieldConflict]) -> list[dict]:
    """One row per value in conflict: a date typed in three parts is one value (its key)."""
    parts_names = {name for parts in getattr(form_class, "date_parts", ()) for name in parts.names}
    return [
        {
            "name": c.name,
            "label": field_label(form_class, c.name),
            "theirs": field_display(form_class, c.name, c.theirs),
            "mine": field_display(form_class, c.name, c.mine),
        }
        for c in conflicts
        if c.name not in parts_names
    ]


def _mine_inputs(form_class, data) -> list[tuple[str, str]]:
    """What this page sent, as hidden inputs of the conflict page (a list: one input per value)."""
    inputs = []
    for key, value in raw_of(form_class(), data).items():
        for one in value if isinstance(value, list) else [value]:
            inputs.append((MINE_PREFIX + key, one))
    return inputs


def _conflict_page(request, actor, procedure: Procedure, current, data, conflict: DraftConflict, *, form=None):
    rows = _conflict_rows(current.form, conflict.conflicts)
    saved_by = conflict.saved_by
    history = procedure_history(actor=actor, procedure=procedure)
    saves = [e for e in history if e.kind == ProcedureEvent.Kind.STEP_SAVED and e.step == current.slug]
    if saves:
        saved_by = _who(saves[-1].person, actor.subject)
    procedure_viewed(actor=actor, procedure=procedure, what=f"conflict:{current.slug}")
    ptype = procedure.type
    return render_step(
        request,
        "web/procedures/conflict.html",
        [s.title for s in ptype.steps],
        ptype.index(current.slug) + 1,
        {
            "procedure": procedure,
            "ptype": ptype,
            "current": current,
            "form": form if form is not None else ConflictForm(rows=rows),
            "rows": rows,
            "names": [row["name"] for row in rows],
            "mine": _mine_inputs(current.form, data),
            "version": conflict.current_version,
            "saved_at": conflict.saved_at,
            "saved_by": saved_by or "une autre personne",
            "action": data.get("action") if data.get("action") in ("continuer", "quitter") else "continuer",
        },
        status=409 if form is None else 400,
    )


def _resolve(request, actor, procedure: Procedure, current, token):
    """The person chose, field by field, between the saved value and what their page sent: the
    step is saved with those (and, for the other fields, what their page sent)."""
    post = request.POST
    form_class = current.form
    if form_class is None:
        raise Http404
    mine = QueryDict(mutable=True)
    for key in post:
        if key.startswith(MINE_PREFIX):
            mine.setlist(key[len(MINE_PREFIX) :], post.getlist(key))
    names = [n for n in post.getlist("conflit") if n]
    theirs_raw = procedure.raw_values(current.slug) or {}
    mine_form = form_class(data=mine.copy())
    mine_clean = json_value(mine_form.cleaned_data) if mine_form.is_valid() else {}
    theirs_clean = (procedure.data.get(current.slug) or {}).get("clean", {})
    conflicts = [
        FieldConflict(name=n, label=n, theirs=theirs_clean.get(n), mine=mine_clean.get(n))
        for n in names
        if n in theirs_clean or n in mine_clean
    ]
    rows = _conflict_rows(form_class, conflicts)
    choices = ConflictForm(post, rows=rows)
    composed = mine.copy()
    composed["version"] = post.get("version", "")
    composed["action"] = post.get("suite", "continuer")
    if not choices.is_valid():
        shown = DraftConflict(
            conflicts=conflicts,
            current_version=_version(post),
            saved_by="",
            saved_at=procedure.updated_at,
        )
        return _conflict_page(request, actor, procedure, current, composed, shown, form=choices)
    for row in rows:
        if choices.kept(row["name"]) != KEEP_SAVED:
            continue
        for key in raw_keys(form_class, row["name"]):
            composed.pop(key, None)
            if key in theirs_raw:
                value = theirs_raw[key]
                composed.setlist(key, value if isinstance(value, list) else [value])
    return _save(request, actor, procedure, current, composed, token, resolved=True)


# Summary, submission, receipt --------------------------------------------------------------


def _corrections(procedure: Procedure, history, me) -> dict[tuple[str, str], str]:
    """(step, field) -> "corrigé par vous (valeur transmise : …)" for each partner value typed otherwise."""
    people = {e.person.pk: e.person for e in history if e.person is not None}
    found = {}
    for step in procedure.type.steps:
        for name in step.prefill:
            correction = procedure.corrections.get(name)
            if not correction or step.slug not in procedure.data:
                continue
            by = people.get(correction.get("by"))
            partner = field_display(step.form, name, correction.get("partner"))
            source = correction.get("label") or correction.get("source") or "un partenaire"
            who = f"corrigé par {_who(by, me)}" if by is not None else "corrigé"
            found[(step.slug, name)] = f"{who} (valeur transmise : {partner}, par {source})"
    return found


def _sections(procedure: Procedure, history, me) -> list[dict]:
    corrections = _corrections(procedure, history, me)
    ptype = procedure.type
    sections = []
    for section in procedure_summary(procedure):
        step = ptype.step(section.slug)
        sections.append(
            {
                "slug": section.slug,
                "title": section.title,
                "identity": step.identity,
                "url": _step_url(procedure, section.slug),
                "rows": [
                    {"label": row.label, "value": row.value, "correction": corrections.get((section.slug, row.name))}
                    for row in section.rows
                ],
            }
        )
    return sections


@require_http_methods(["GET", "POST"])
@refusals_as_404
def procedure_summary_view(request, pk: int):
    actor = actor_of(request)
    procedure = procedure_for(actor=actor, procedure_id=pk)
    if not procedure.is_draft:
        return _receipt(procedure)
    missing = first_missing_step(procedure)
    if missing is not None:
        return redirect(_step_url(procedure, missing.slug))
    form = SubmitForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        form.is_valid()
        try:
            submitted = procedure_submit(
                actor=actor,
                procedure=procedure,
                base_version=_version(request.POST),
                attested=bool(form.cleaned_data.get("attestation")),
            )
        except Incomplete as incomplete:
            return redirect(_step_url(procedure, incomplete.step))
        except ReadOnly:
            return _receipt(procedure)
        except DraftConflict:
            procedure = procedure_for(actor=actor, procedure_id=pk)
            form = SubmitForm(data={})  # unticked again: the person reads the summary anew
            form.is_valid()
            form.add_error(None, MESSAGE_CHANGED_ELSEWHERE)
            status = 409
        except NotAllowed:
            raise
        except ProcedureError as refused:
            add_domain_error(form, refused)
        else:
            messages.success(request, f"Votre demande est envoyée. Sa référence : {submitted.reference}.")
            return _receipt(submitted)
    history = procedure_history(actor=actor, procedure=procedure)
    procedure_viewed(actor=actor, procedure=procedure, what="summary")
    return render(
        request,
        "web/procedures/summary.html",
        {
            "procedure": procedure,
            "ptype": procedure.type,
            "sections": _sections(procedure, history, actor.subject),
            "form": form,
            "version": procedure.version,
        },
        status=status,
    )


def _what(event: ProcedureEvent, procedure: Procedure) -> str:
    what = event.get_kind_display()
    if event.step:
        try:
            what += f" : {procedure.type.step(event.step).title}"
        except KeyError:
            pass
    if event.kind == ProcedureEvent.Kind.CORRECTED and event.detail.get("field"):
        step = procedure.type.step(event.step) if event.step else None
        what += f" ({field_label(step.form if step else None, event.detail['field'])})"
    return what


@require_GET
@refusals_as_404
def procedure_receipt_view(request, pk: int):
    actor = actor_of(request)
    procedure = procedure_for(actor=actor, procedure_id=pk)
    if procedure.is_draft:
        return _resume(procedure)
    history = procedure_history(actor=actor, procedure=procedure)
    procedure_viewed(actor=actor, procedure=procedure, what="receipt")
    me = actor.subject
    return render(
        request,
        "web/procedures/receipt.html",
        {
            "procedure": procedure,
            "ptype": procedure.type,
            "sent_by": _who(procedure.submitted_by, me),
            "sections": _sections(procedure, history, me),
            "history": [{"at": e.at, "who": _who(e.person, me), "what": _what(e, procedure)} for e in history],
        },
    )


@require_GET
@refusals_as_404
def procedure_receipt_pdf_view(request, pk: int):
    from moncompte.procedures.receipts import receipt_pdf

    actor = actor_of(request)
    procedure = procedure_for(actor=actor, procedure_id=pk)
    if procedure.is_draft:
        return _resume(procedure)
    history = procedure_history(actor=actor, procedure=procedure)
    pdf = receipt_pdf(procedure, history)
    procedure_viewed(actor=actor, procedure=procedure, what="receipt_pdf")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="accuse-de-reception-{procedure.reference}.pdf"'
    return response


# Abandon a draft ----------------------------------------------------------------------------

MESSAGE_CANCELLED = "La démarche « {label} » est abandonnée : ses réponses sont effacées."


@require_http_methods(["GET", "POST"])
@refusals_as_404
def procedure_cancel_view(request, pk: int):
    """GET: what abandoning means, and the button; POST: the draft is abandoned (its values wiped)."""
    actor = actor_of(request)
    procedure = procedure_for(actor=actor, procedure_id=pk)
    if not procedure.is_draft:
        return _receipt(procedure)
    if request.method == "POST":
        procedure_cancel(actor=actor, procedure=procedure)
        messages.success(request, MESSAGE_CANCELLED.format(label=procedure.type.label))
        return redirect("web:procedures")
    return render(request, "web/procedures/cancel.html", {"procedure": procedure, "ptype": procedure.type})
