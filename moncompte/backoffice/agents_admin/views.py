"""The administrators' pages: the agents of their Caf, a new agent, one agent's roles,
deactivation, reactivation and second factor reset. Who may do what is moncompte.access.agents'; the writes
are moncompte.agents.services'. An agent the administrator may not see answers 404.

An activation code is shown once, in the answer to the request that made it: never put in a
message, a session or a URL.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from moncompte.access.agents import AgentPermission, agent_manageable, roles_grantable_by
from moncompte.agents.services import (
    agent_create,
    agent_deactivate,
    agent_for_management,
    agent_reactivate,
    agent_roles_change,
    agent_second_factor_reset,
    agent_status,
    agents_managed_by,
)
from moncompte.backoffice.access import agent_required
from moncompte.backoffice.actors import actor_of_agent
from moncompte.backoffice.agents_admin.forms import AgentCreateForm, AgentRolesForm
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.web.errors import add_domain_error


@agent_required(AgentPermission.MANAGE_AGENTS)
@require_GET
def agents_view(request):
    admin = request.agent_session.agent
    rows = [
        {"agent": agent, "status": agent_status(agent)} for agent in agents_managed_by(actor=actor_of_agent(request))
    ]
    return render(request, "backoffice/agents_admin/list.html", {"rows": rows, "admin": admin})


@agent_required(AgentPermission.MANAGE_AGENTS)
@require_http_methods(["GET", "POST"])
def agent_create_view(request):
    admin = request.agent_session.agent
    form = AgentCreateForm(request.POST or None, grantable=roles_grantable_by(admin))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                agent, code = agent_create(
                    actor=actor_of_agent(request),
                    caf=admin.caf,
                    email=data["email"],
                    first_names=data["first_names"],
                    last_name=data["last_name"],
                    roles=data["roles"],
                )
            except NotAllowed:
                raise
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                context = {"agent": agent, "code": code, "created": True}
                return render(request, "backoffice/agents_admin/code_issued.html", context, status=201)
    return render(request, "backoffice/agents_admin/create.html", {"form": form, "admin": admin}, status=status)


def _detail(request, agent, roles_form, status=200):
    admin = request.agent_session.agent
    context = {
        "agent": agent,
        "status": agent_status(agent),
        "manageable": agent_manageable(admin, agent),
        "is_self": agent.pk == admin.pk,
        "roles_form": roles_form,
    }
    return render(request, "backoffice/agents_admin/detail.html", context, status=status)


@agent_required(AgentPermission.MANAGE_AGENTS)
@require_GET
def agent_detail_view(request, agent_id: int):
    admin = request.agent_session.agent
    agent = agent_for_management(actor=actor_of_agent(request), agent_id=agent_id)
    roles_form = AgentRolesForm(initial={"roles": list(agent.roles)}, grantable=roles_grantable_by(admin))
    return _detail(request, agent, roles_form)


@agent_required(AgentPermission.MANAGE_AGENTS)
@require_POST
def agent_roles_view(request, agent_id: int):
    admin = request.agent_session.agent
    actor = actor_of_agent(request)
    agent = agent_for_management(actor=actor, agent_id=agent_id)
    form = AgentRolesForm(request.POST, grantable=roles_grantable_by(admin))
    if form.is_valid():
        try:
            agent_roles_change(actor=actor, agent=agent, roles=form.cleaned_data["roles"])
        except NotAllowed:
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, f"Les rôles de {agent.display_name} sont enregistrés.")
            return redirect("backoffice:agent_detail", agent_id=agent.pk)
    return _detail(request, agent, form, status=400)


@agent_required(AgentPermission.MANAGE_AGENTS)
@require_POST
def agent_deactivate_view(request, agent_id: int):
    actor = actor_of_agent(request)
    agent = agent_for_management(actor=actor, agent_id=agent_id)
    try:
        agent_deactivate(actor=actor, agent=agent)
    except NotAllowed:
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{agent.display_name} est désactivé(e) : ses sessions sont fermées.")
    return redirect("backoffice:agent_detail", agent_id=agent.pk)


@agent_required(AgentPermission.MANAGE_AGENTS)
@require_POST
def agent_second_factor_reset_view(request, agent_id: int):
    actor = actor_of_agent(request)
    agent = agent_for_management(actor=actor, agent_id=agent_id)
    try:
        code = agent_second_factor_reset(actor=actor, agent=agent)
    except NotAllowed:
        raise
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("backoffice:agent_detail", agent_id=agent.pk)
    return render(request, "backoffice/agents_admin/code_issued.html", {"agent": agent, "code": code, "created": False})


@agent_required(AgentPermission.MANAGE_AGENTS)
@require_POST
def agent_reactivate_view(request, agent_id: int):
    actor = actor_of_agent(request)
    agent = agent_for_management(actor=actor, agent_id=agent_id)
    try:
        code = agent_reactivate(actor=actor, agent=agent)
    except NotAllowed:
        raise
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("backoffice:agent_detail", agent_id=agent.pk)
    agent.refresh_from_db()
    return render(request, "backoffice/agents_admin/reactivated.html", {"agent": agent, "code": code})
