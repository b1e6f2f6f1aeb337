"""The rectification requests' queue in the console (moncompte.identity.rectifications). Thin:
the form parses, the domain decides, journals and tells the person."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from moncompte.access.agents import AgentPermission
from moncompte.access.policy import standing_label, standing_of
from moncompte.backoffice.access import agent_required
from moncompte.backoffice.actors import actor_of_agent
from moncompte.backoffice.rectifications.forms import (
    DECISION_REJECT,
    RectificationDecisionForm,
    StateFilterForm,
    initial_for,
)
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.identity.geography import birth_country_label, birth_place_label
from moncompte.identity.models import RectificationState
from moncompte.identity.rectifications import (
    rectification_answer,
    rectification_case,
    rectification_reject,
    rectification_viewed,
    rectifications_queue,
)
from moncompte.web.errors import add_domain_error

PAGE_SIZE = 25
STATE_CHOICES = [
    (RectificationState.TO_PROCESS, "À traiter"),
    (RectificationState.PROCESSED, "Traitées"),
    (RectificationState.REJECTED, "Refusées"),
]


@agent_required(AgentPermission.PROCESS_RECTIFICATION)
@require_http_methods(["GET"])
def rectification_list_view(request):
    filter_form = StateFilterForm(request.GET or None, choices=STATE_CHOICES)
    state = RectificationState.TO_PROCESS
    if filter_form.is_bound and filter_form.is_valid() and filter_form.cleaned_data["state"]:
        state = filter_form.cleaned_data["state"]
    rows = rectifications_queue(actor=actor_of_agent(request), state=state)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/rectifications/list.html",
        {
            "page": page,
            "state": state,
            "state_label": dict(STATE_CHOICES)[state],
            "filter_form": filter_form,
            "to_process": state == RectificationState.TO_PROCESS,
        },
    )


def _case_context(case, form) -> dict:
    person = case.person
    return {
        "case": case,
        "rectification": case.request,
        "person": person,
        "birth_place": birth_place_label(person.birth_place_code),
        "birth_country": birth_country_label(person.birth_country_code),
        "memberships": [{"member": m, "standing": standing_label(standing_of(m))} for m in case.memberships],
        "form": form,
        "to_process": case.request.state == RectificationState.TO_PROCESS,
    }


@agent_required(AgentPermission.PROCESS_RECTIFICATION)
@require_http_methods(["GET", "POST"])
def rectification_view(request, request_id: int):
    actor = actor_of_agent(request)
    case = rectification_case(actor=actor, request_id=request_id)
    if request.method != "POST":
        rectification_viewed(actor=actor, request=case.request)
        form = RectificationDecisionForm(initial=initial_for(case.request))
        return render(request, "backoffice/rectifications/detail.html", _case_context(case, form))
    form = RectificationDecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == DECISION_REJECT:
                rectification_reject(actor=actor, request_id=request_id, answer=data["answer"])
                done = "La demande a été refusée. La personne est prévenue et lit votre réponse dans Mon Compte."
            else:
                rectification_answer(
                    actor=actor, request_id=request_id, answer=data["answer"], correct=form.correction()
                )
                done = "La demande a été traitée. La personne est prévenue et lit votre réponse dans Mon Compte."
        except NotAllowed:
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, done)
            return redirect("backoffice:rectifications")
    case = rectification_case(actor=actor, request_id=request_id)
    return render(request, "backoffice/rectifications/detail.html", _case_context(case, form), status=400)
