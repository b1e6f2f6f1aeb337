"""The console's template context: the signed-in agent and the sections their roles open."""

from django.urls import NoReverseMatch, reverse

from moncompte.access.agents import PERMISSION_LABELS, AgentPermission, agent_permissions
from moncompte.backoffice.middleware import AGENTS_PREFIX

# The console's sections, in the menu's order: (permission, URL name).
SECTIONS = (
    (AgentPermission.SERVE_PERSON, "backoffice:counter_search"),
    (AgentPermission.DECIDE_IDENTITY_CHECK, "backoffice:identity_checks"),
    (AgentPermission.PROCESS_RECTIFICATION, "backoffice:rectifications"),
    (AgentPermission.PROCESS_SEPARATION, "backoffice:separations"),
    (AgentPermission.MANAGE_CAF_REQUESTS, "backoffice:caf_requests"),
    (AgentPermission.MANAGE_AGENTS, "backoffice:agents"),
)


def agent_sections(agent) -> list[dict]:
    """The menu entries the agent's roles open (a section whose page is not there yet is left out)."""
    granted = agent_permissions(agent)
    sections = []
    for permission, url_name in SECTIONS:
        if permission not in granted:
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:  # a section whose pages are not written yet
            continue
        sections.append({"label": PERMISSION_LABELS[permission], "url": url, "permission": str(permission)})
    return sections


def agent_context(request) -> dict:
    if not request.path_info.startswith(AGENTS_PREFIX):
        return {}
    session = getattr(request, "agent_session", None)
    if session is None or session.second_factor_at is None:
        return {"signed_in_agent": None, "agent_sections": []}
    return {"signed_in_agent": session.agent, "agent_sections": agent_sections(session.agent)}
