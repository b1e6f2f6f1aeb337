"""The identity checks' queue in the agents' console (issue 12), for the checkers
(``AgentPermission.DECIDE_IDENTITY_CHECK``). Which checks an agent sees, the journal of every
display and the decisions are the domain's (moncompte.identity.checks_queue,
moncompte.accounts.signup): these views parse, call and render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from moncompte.access.agents import AgentPermission
from moncompte.accounts.signup import IdentityCheckError, identity_check_accept, identity_check_reject
from moncompte.backoffice.access import agent_required
from moncompte.backoffice.actors import actor_of_agent
from moncompte.backoffice.identity_checks.forms import RejectForm, RekeyForm
from moncompte.identity.checks_queue import (
    PAGE_SIZE,
    IdentifierRekeyError,
    document_filename,
    identifier_rekey,
    identity_check_for,
    identity_check_view,
    identity_checks_pending_for,
    identity_document_for,
    queue_counts,
    rekey_candidate,
)

PERMISSION = AgentPermission.DECIDE_IDENTITY_CHECK
ACCEPTED = "Vérification d'identité acceptée : le compte est ouvert et la personne est prévenue."
REJECTED = "Vérification d'identité refusée : la personne est prévenue du motif et de ce qu'elle peut faire."
REKEYED = (
    "Le numéro de sécurité sociale attribué remplace l'identifiant provisoire : la personne est prévenue. Son "
    "ancien identifiant lui indiquera le nouveau pendant la période de transition."
)
NO_DECISION = "Choisissez d'accepter ou de refuser la vérification."


@agent_required(PERMISSION)
@require_GET
def queue_view(request):
    actor = actor_of_agent(request)
    page = Paginator(identity_checks_pending_for(actor=actor), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/identity_checks/queue.html",
        {"page": page, "counts": queue_counts(actor=actor)},
    )


@agent_required(PERMISSION)
@require_http_methods(["GET", "POST"])
def check_view(request, check_id: int):
    actor = actor_of_agent(request)
    agent = request.agent_session.agent
    reject_form = RejectForm(prefix="refus")
    error = ""
    status = 200
    if request.method == "POST":
        check = identity_check_for(actor=actor, check_id=check_id)
        decision = request.POST.get("decision")
        try:
            if decision == "accept":
                identity_check_accept(actor=actor, check=check, decided_by=agent.display_name, decided_by_agent=agent)
                messages.success(request, ACCEPTED)
                return redirect("backoffice:identity_checks")
            if decision == "reject":
                reject_form = RejectForm(request.POST, prefix="refus")
                if reject_form.is_valid():
                    identity_check_reject(actor=actor, check=check, reason=reject_form.reason_text())
                    messages.success(request, REJECTED)
                    return redirect("backoffice:identity_checks")
                status = 400
            else:
                error, status = NO_DECISION, 400
        except IdentityCheckError as refused:
            if refused.field == "reason":
                reject_form.add_error("details", refused.message)
            else:
                error = refused.message
            status = refused.status
    view = identity_check_view(actor=actor, check_id=check_id)
    return render(
        request,
        "backoffice/identity_checks/check.html",
        {"view": view, "check": view.check, "form": reject_form, "error": error},
        status=status,
    )


@agent_required(PERMISSION)
@require_GET
def document_view(request, check_id: int, document_id: int):
    """The stored copy of a document, shown in the browser (never the bytes the person sent:
    moncompte.identity.documents re-encodes them), to checkers of the check's Caf only."""
    document = identity_document_for(actor=actor_of_agent(request), check_id=check_id, document_id=document_id)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:  # deleted by the retention purge meanwhile
        raise Http404 from None
    response = FileResponse(
        handle, content_type=document.content_type, as_attachment=False, filename=document_filename(document)
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@agent_required(PERMISSION)
@require_http_methods(["GET", "POST"])
def rekey_view(request):
    """Two steps, both POST: the identifiers typed, then the confirmation showing whose they are."""
    actor = actor_of_agent(request)
    form = RekeyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            current, new = form.cleaned_data["current"], form.cleaned_data["new"]
            try:
                if request.POST.get("confirm") == "1":
                    identifier_rekey(actor=actor, current=current, new=new)
                    messages.success(request, REKEYED)
                    return redirect("backoffice:identifier_rekey")
                person = rekey_candidate(actor=actor, current=current, new=new)
            except IdentifierRekeyError as refused:
                form.add_error(refused.field, refused.message)
            else:
                return render(
                    request,
                    "backoffice/identity_checks/rekey_confirm.html",
                    {"person": person, "current": current.display(), "new": new.display()},
                )
    return render(request, "backoffice/identity_checks/rekey.html", {"form": form}, status=status)
