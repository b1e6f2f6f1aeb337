"""The counter and the phone in the console: find a file, identify the person served, show what
they may be told (moncompte.counter). Thin: the forms parse, the domain decides and journals."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from moncompte.access.agents import AgentPermission
from moncompte.accounts.assisted import assisted_first_connection_offered
from moncompte.backoffice.access import agent_required
from moncompte.backoffice.actors import actor_of_agent
from moncompte.backoffice.counter.forms import FORMS_BY_PROOF, SearchForm
from moncompte.core.actors import Channel
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.counter.selectors import counter_service_for, served_view, service_members
from moncompte.counter.services import (
    PROOFS_BY_CHANNEL,
    SeveralDossiers,
    counter_close,
    counter_identify,
    counter_search,
)
from moncompte.web.errors import add_domain_error


def _show_error(form, error: DomainError) -> None:
    """A refusal on the input it concerns when the agent sees that input, else on top."""
    visible = error.field in form.fields and not form.fields[error.field].widget.is_hidden
    add_domain_error(form, error if visible else DomainError(error.message, code=error.code))


@agent_required(AgentPermission.SERVE_PERSON)
@require_http_methods(["GET", "POST"])
def search_view(request):
    if request.method != "POST":
        return render(request, "backoffice/counter/search.html", {"form": SearchForm(), "several": None})
    form = SearchForm(request.POST)
    several = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            service = counter_search(
                actor=actor_of_agent(request, channel=Channel(data["channel"])),
                channel=data["channel"],
                numero=data["numero"] or None,
                caf_code=data["caf_code"] or None,
                identifier=data["identifier"] or None,
                dossier_id=data["dossier"],
            )
        except SeveralDossiers as error:
            several = error.dossiers
        except NotAllowed:
            raise
        except DomainError as error:
            _show_error(form, error)
        else:
            return redirect("backoffice:counter_service", service_id=service.pk)
    status = 200 if several else 400
    return render(request, "backoffice/counter/search.html", {"form": form, "several": several}, status=status)


def _identify_rows(service, members, bound=None) -> list[dict]:
    """One row per member, and a last one for a person who is not among them, each with the
    proof forms of the service's channel (``bound``: the form just posted, shown with its errors)."""
    proofs = PROOFS_BY_CHANNEL[Channel(service.channel)]
    rows = []
    for member in [*members, None]:
        key = member.person_id if member else None
        forms = []
        for proof in proofs:
            if bound is not None and bound.data.get("proof") == proof and _posted_person(bound) == key:
                forms.append(bound)
                continue
            forms.append(
                FORMS_BY_PROOF[proof](
                    initial={"person": key, "proof": proof}, auto_id=f"id_{key or 'autre'}_{proof}_%s"
                )
            )
        rows.append({"member": member, "forms": forms})
    return rows


def _posted_person(form) -> int | None:
    try:
        return int(form.data.get("person") or 0) or None
    except ValueError:
        return None


def _service_page(request, service_id: int, *, bound=None, status: int = 200):
    actor = actor_of_agent(request)
    service = counter_service_for(actor=actor, service_id=service_id)
    if service.identified_at is None:
        members = service_members(actor=actor, service_id=service_id)
        context = {"service": service, "rows": _identify_rows(service, members, bound), "bound": bound}
        return render(request, "backoffice/counter/identify.html", context, status=status)
    if bound is not None:
        # Posted to a service identified meanwhile (another tab): the refusal, above what may be told.
        for error in bound.non_field_errors():
            messages.error(request, error)
    view = served_view(actor=actor, service_id=service_id)
    context = {
        "service": service,
        "view": view,
        # The assisted first connection, when the person served may get one now (moncompte.accounts.assisted).
        "offer_assisted": assisted_first_connection_offered(actor=actor, service=service),
    }
    return render(request, "backoffice/counter/served.html", context, status=status)


@agent_required(AgentPermission.SERVE_PERSON)
@require_http_methods(["GET"])
def service_view(request, service_id: int):
    return _service_page(request, service_id)


@agent_required(AgentPermission.SERVE_PERSON)
@require_POST
def identify_view(request, service_id: int):
    form_class = FORMS_BY_PROOF.get(request.POST.get("proof", ""))
    if form_class is None:
        raise NotAllowed()
    person = _posted_person(form_class(request.POST))
    form = form_class(request.POST, auto_id=f"id_{person or 'autre'}_{request.POST['proof']}_%s")
    if form.is_valid():
        data = form.cleaned_data
        proof = data["proof"]
        try:
            counter_identify(
                actor=actor_of_agent(request),
                service_id=service_id,
                person_id=data["person"],
                proof=proof,
                proof_detail=data.get("document_kind") or data.get("reference") or "",
                identifier=data.get("identifier", ""),
                code=data.get("code", ""),
            )
        except NotAllowed:
            raise
        except DomainError as error:
            _show_error(form, error)
        else:
            return redirect("backoffice:counter_service", service_id=service_id)
    return _service_page(request, service_id, bound=form, status=400)


@agent_required(AgentPermission.SERVE_PERSON)
@require_POST
def close_view(request, service_id: int):
    counter_close(actor=actor_of_agent(request), service_id=service_id)
    messages.success(request, "L'accueil est terminé.")
    return redirect("backoffice:counter_search")
