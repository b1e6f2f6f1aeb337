"""A new beneficiary's request without an account (issue 10, point 3; docs/signup.md).

- ``public_view`` (/demarches/aide-au-logement/): what the housing aid is and what to prepare,
  and the button that starts the request, for anyone.
- ``start_view`` (POST /demarches/<code>/commencer/): a visitor gets a draft of a type open to
  newcomers, its token kept in the server-side session (moncompte.web.procedure_visitor.state),
  the session key renewed, and goes to the first step; a signed-in person starts (or resumes) it
  like from their list of procedures.
- ``claim_view`` (/mon-compte/demarches/reprendre/, signed in): once the account is created
  inside the request (or the person signed in instead), the visitor's draft becomes theirs, with
  what they typed, and they are back at the identity step. The engine decides who may
  (moncompte.procedures.services.procedure_claim); a refusal is explained, never a 500, and the
  draft stays nobody's.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from moncompte.core.errors import NotAllowed
from moncompte.procedures.registry import procedure_type
from moncompte.procedures.services import procedure_claim, procedure_start, resume_step
from moncompte.web.actors import actor_of
from moncompte.web.errors import refusals_as_404
from moncompte.web.procedure_visitor import state

HOUSING_AID = "aide-au-logement"
MESSAGE_NOT_STARTABLE = (
    "Vous ne pouvez pas commencer cette démarche avec votre compte. Voici les démarches que vous pouvez faire."
)
MESSAGE_GONE = (
    "La demande que vous aviez commencée sans compte n'est plus disponible : elle a expiré ou a déjà été "
    "reprise. Vous pouvez en commencer une nouvelle."
)
MESSAGE_CLAIMED = "Votre demande est maintenant enregistrée dans votre compte, avec ce que vous aviez saisi."


def _step_url(procedure, slug: str) -> str:
    return reverse("web:procedure_step", kwargs={"pk": procedure.pk, "step": slug})


def _identity_slug(procedure) -> str:
    steps = procedure.type.steps
    return next((s.slug for s in steps if s.identity), resume_step(procedure).slug)


@login_not_required
@require_GET
@refusals_as_404
def public_view(request):
    ptype = procedure_type(HOUSING_AID)
    draft = state.visitor_draft(request) if not request.user.is_authenticated else None
    return render(
        request,
        "web/procedure_visitor/public.html",
        {
            "ptype": ptype,
            "visitor_hours": settings.MONCOMPTE_PROCEDURE_VISITOR_DRAFT_HOURS,
            # A request started in this browser and not finished: resumed rather than started again.
            "draft": draft if draft is not None and draft.type_code == ptype.code else None,
        },
    )


@login_not_required
@require_POST
@refusals_as_404
def start_view(request, code: str):
    ptype = procedure_type(code)
    if not ptype.open_to_newcomers:
        raise NotAllowed()
    actor = actor_of(request)
    if request.user.is_authenticated:
        # The same start as from the list of procedures: their file's draft, or their own.
        try:
            started = procedure_start(actor=actor, type_code=ptype.code)
        except NotAllowed:
            messages.info(request, MESSAGE_NOT_STARTABLE)
            return redirect(reverse("web:procedures") + "#commencer")
        return redirect(_step_url(started.procedure, resume_step(started.procedure).slug))
    draft = state.visitor_draft(request)
    if draft is not None and draft.type_code == ptype.code:
        # "Commencer" pressed again (another tab, the back button): the same draft, not a second one.
        return redirect(_step_url(draft, resume_step(draft).slug))
    started = procedure_start(actor=actor, type_code=ptype.code)
    state.keep(request, token=started.visitor_token, procedure_id=started.procedure.pk)
    # A new session key once it holds the token: a key planted earlier is worthless.
    request.session.cycle_key()
    return redirect(_step_url(started.procedure, ptype.steps[0].slug))


@require_http_methods(["GET", "POST"])
def claim_view(request):
    """GET too: the sign-in comes back here (``next``) with a plain redirect."""
    kept = state.held(request)
    if kept is None:
        state.forget(request)
        return redirect("web:procedures")
    draft = state.visitor_draft(request)
    if draft is None:
        state.forget(request)
        messages.info(request, MESSAGE_GONE)
        return redirect("web:procedures")
    token, procedure_id = kept
    try:
        procedure = procedure_claim(actor=actor_of(request), visitor_token=token, procedure_id=procedure_id)
    except NotAllowed:
        # This account may not make that request (a spouse without the delegation, a member of a
        # file whose responsible person makes the household's requests): nothing changed, the
        # draft is nobody's; the token stays in this session until it expires, should the
        # delegation be given meanwhile.
        return render(
            request,
            "web/procedure_visitor/claim_refused.html",
            {"procedure": draft, "ptype": draft.type},
            status=403,
        )
    state.forget(request)
    messages.success(request, MESSAGE_CLAIMED)
    return redirect(_step_url(procedure, _identity_slug(procedure)))
