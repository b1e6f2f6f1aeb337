"""The declared separations' queue in the console (moncompte.households.separations). Thin: the
form parses, the domain decides, journals and tells both people."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from moncompte.access.agents import AgentPermission
from moncompte.backoffice.access import agent_required
from moncompte.backoffice.actors import actor_of_agent
from moncompte.backoffice.rectifications.forms import StateFilterForm
from moncompte.backoffice.separations.forms import SeparationDecisionForm
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.households.models import SituationChange
from moncompte.households.separations import (
    separation_case,
    separation_process,
    separation_viewed,
    separations_queue,
)
from moncompte.web.errors import add_domain_error

PAGE_SIZE = 25
STATE_CHOICES = [
    (SituationChange.State.TO_PROCESS, "À traiter"),
    (SituationChange.State.PROCESSED, "Traitées"),
]


@agent_required(AgentPermission.PROCESS_SEPARATION)
@require_http_methods(["GET"])
def separation_list_view(request):
    filter_form = StateFilterForm(request.GET or None, choices=STATE_CHOICES)
    state = SituationChange.State.TO_PROCESS
    if filter_form.is_bound and filter_form.is_valid() and filter_form.cleaned_data["state"]:
        state = filter_form.cleaned_data["state"]
    rows = separations_queue(actor=actor_of_agent(request), state=state)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/separations/list.html",
        {
            "page": page,
            "state": state,
            "state_label": dict(STATE_CHOICES)[state],
            "filter_form": filter_form,
            "to_process": state == SituationChange.State.TO_PROCESS,
        },
    )


@agent_required(AgentPermission.PROCESS_SEPARATION)
@require_http_methods(["GET", "POST"])
def separation_view(request, change_id: int):
    actor = actor_of_agent(request)
    case = separation_case(actor=actor, change_id=change_id)
    if request.method != "POST":
        separation_viewed(actor=actor, change=case.change)
        form = SeparationDecisionForm(children=case.children)
        return render(request, "backoffice/separations/detail.html", {"case": case, "form": form})
    form = SeparationDecisionForm(request.POST, children=case.children)
    if form.is_valid():
        try:
            separation_process(
                actor=actor,
                change_id=change_id,
                keeper=form.cleaned_data["keeper"],
                new_file_for_leaver=form.cleaned_data["new_file_for_leaver"],
                children_leaving=form.cleaned_data["children_leaving"],
            )
        except NotAllowed:
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "La séparation a été traitée. Les personnes concernées sont prévenues.")
            return redirect("backoffice:separation", change_id=change_id)
    case = separation_case(actor=actor, change_id=change_id)
    return render(request, "backoffice/separations/detail.html", {"case": case, "form": form}, status=400)
