"""The Caf's requests in the console (moncompte.caf_requests.agents): the list, the creation on a
file found by its numéro, the detail with the answers and their files, the closing. Thin: the
forms parse, the domain decides, journals and tells the people."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from moncompte.access.agents import AgentPermission
from moncompte.backoffice.access import agent_required
from moncompte.backoffice.actors import actor_of_agent
from moncompte.backoffice.caf_requests.forms import CafRequestCreateForm, FilterForm, FindFileForm
from moncompte.caf_requests.agents import (
    FILTERS,
    agent_caf_request,
    agent_caf_request_attachment_open,
    agent_caf_request_create,
    agent_caf_requests,
    agent_file,
    agent_file_find,
    caf_request_close,
)
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.web.errors import add_domain_error

PAGE_SIZE = 25
PERMISSION = AgentPermission.MANAGE_CAF_REQUESTS


@agent_required(PERMISSION)
@require_http_methods(["GET"])
def caf_request_list_view(request):
    form = FilterForm(request.GET or None)
    state = form.cleaned_data["state"] if form.is_bound and form.is_valid() else ""
    rows = agent_caf_requests(actor=actor_of_agent(request), state=state)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/caf_requests/list.html",
        {"page": page, "filter_form": form, "state": state, "state_label": FILTERS[state]},
    )


def _create_page(request, *, find_form, create_form=None, found=None, status=200):
    return render(
        request,
        "backoffice/caf_requests/create.html",
        {"find_form": find_form, "form": create_form, "found": found},
        status=status,
    )


@agent_required(PERMISSION)
@require_http_methods(["GET", "POST"])
def caf_request_create_view(request):
    if request.method != "POST":
        return _create_page(request, find_form=FindFileForm())
    actor = actor_of_agent(request)
    if request.POST.get("step") != "create":
        find_form = FindFileForm(request.POST)
        if not find_form.is_valid():
            return _create_page(request, find_form=find_form, status=400)
        try:
            found = agent_file_find(actor=actor, numero=find_form.cleaned_data["numero"])
        except NotAllowed as error:
            # Not a 404: the page exists; the numéro typed is not one of the agent's Caf.
            find_form.add_error("numero", error.message)
            return _create_page(request, find_form=find_form, status=400)
        form = CafRequestCreateForm(initial={"dossier": found.dossier.pk}, members=found.members)
        return _create_page(
            request, find_form=FindFileForm(initial={"numero": found.dossier.numero}), create_form=form, found=found
        )
    try:
        dossier_id = int(request.POST.get("dossier", ""))
    except ValueError:
        raise NotAllowed() from None
    found = agent_file(actor=actor, dossier_id=dossier_id)
    form = CafRequestCreateForm(request.POST, members=found.members)
    if form.is_valid():
        data = form.cleaned_data
        try:
            created = agent_caf_request_create(
                actor=actor,
                dossier_id=found.dossier.pk,
                addressed_to_person_id=form.addressed_to_person_id(),
                kind=data["kind"],
                title=data["title"],
                body=data["body"],
                due_on=data.get("due_on"),
            )
        except NotAllowed:
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, "La demande a été créée. Les personnes qui peuvent y répondre sont prévenues.")
            return redirect("backoffice:caf_request", request_id=created.pk)
    return _create_page(
        request,
        find_form=FindFileForm(initial={"numero": found.dossier.numero}),
        create_form=form,
        found=found,
        status=400,
    )


@agent_required(PERMISSION)
@require_http_methods(["GET", "POST"])
def caf_request_view(request, request_id: int):
    """The request and its answers; a POST closes it (its only form)."""
    actor = actor_of_agent(request)
    if request.method == "POST":
        try:
            caf_request_close(actor=actor, request_id=request_id)
        except NotAllowed:
            raise
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "La demande est close. Les personnes qui pouvaient y répondre sont prévenues.")
        return redirect("backoffice:caf_request", request_id=request_id)
    followed = agent_caf_request(actor=actor, request_id=request_id)
    return render(
        request,
        "backoffice/caf_requests/detail.html",
        {"caf_request": followed.request, "answers": followed.answers},
    )


@agent_required(PERMISSION)
@require_http_methods(["GET"])
def caf_request_attachment_view(request, request_id: int, attachment_id: int):
    attachment, handle = agent_caf_request_attachment_open(
        actor=actor_of_agent(request), request_id=request_id, attachment_id=attachment_id
    )
    return FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
