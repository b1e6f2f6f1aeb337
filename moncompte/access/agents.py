"""The agents' half of the one policy: which role may do what, on the files of which Caf.

What a *person served* may be told is not decided here: it is their standing on the file
(moncompte.access.policy.disclosure_for), the same table as the web and the API. This module
decides what the *agent* may do: serve people at the counter or on the phone, decide identity
checks, process the queues, manage agents. An agent acts on the files of their own Caf only,
unless one of their roles reaches every Caf (``_ALL_CAFS``). Roles are compared here and
nowhere else (docs/agents.md has the table).
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.db.models import Q


class AgentRole(models.TextChoices):
    COUNTER = "counter", "Agent d'accueil ou de téléphone"
    IDENTITY_CHECKER = "identity_checker", "Vérification des identités"
    INCIDENT_OFFICER = "incident_officer", "Réponse aux incidents de sécurité"
    OUTREACH_OFFICER = "outreach_officer", "Accompagnement et campagnes"
    ADMINISTRATOR = "administrator", "Administration des agents"


class AgentPermission(StrEnum):
    # Find a file, identify the person served, tell them what their standing allows.
    SERVE_PERSON = "serve_person"
    # Start a person's first connection at the counter (the person types their own password).
    ASSIST_FIRST_CONNECTION = "assist_first_connection"
    # The identity checks of accounts "to verify", their documents, and re-keying to a NIR.
    DECIDE_IDENTITY_CHECK = "decide_identity_check"
    # People's reports of an error in their own data.
    PROCESS_RECTIFICATION = "process_rectification"
    # Declared separations: who keeps the file, the new file of the one who leaves.
    PROCESS_SEPARATION = "process_separation"
    # The Caf's requests to a person: create, follow, close.
    MANAGE_CAF_REQUESTS = "manage_caf_requests"
    # The security team's screens (journal, incidents: issue 13).
    RESPOND_TO_INCIDENTS = "respond_to_incidents"
    # Workshops and campaigns (issue 14).
    RUN_OUTREACH = "run_outreach"
    # Create agents of the Caf, change their roles, deactivate them, reset a second factor.
    MANAGE_AGENTS = "manage_agents"


_P = AgentPermission
_PERMISSIONS: dict[AgentRole, frozenset[AgentPermission]] = {
    AgentRole.COUNTER: frozenset(
        {_P.SERVE_PERSON, _P.ASSIST_FIRST_CONNECTION, _P.PROCESS_SEPARATION, _P.MANAGE_CAF_REQUESTS}
    ),
    AgentRole.IDENTITY_CHECKER: frozenset({_P.DECIDE_IDENTITY_CHECK, _P.PROCESS_RECTIFICATION}),
    AgentRole.INCIDENT_OFFICER: frozenset({_P.RESPOND_TO_INCIDENTS}),
    AgentRole.OUTREACH_OFFICER: frozenset({_P.RUN_OUTREACH}),
    AgentRole.ADMINISTRATOR: frozenset({_P.MANAGE_AGENTS}),
}
# Roles whose permissions reach the files of every Caf: the security team acts nationally.
_ALL_CAFS: frozenset[AgentRole] = frozenset({AgentRole.INCIDENT_OFFICER})

PERMISSION_LABELS = {
    _P.SERVE_PERSON: "Accueil et téléphone",
    _P.ASSIST_FIRST_CONNECTION: "Première connexion accompagnée",
    _P.DECIDE_IDENTITY_CHECK: "Vérifications d'identité",
    _P.PROCESS_RECTIFICATION: "Demandes de rectification",
    _P.PROCESS_SEPARATION: "Séparations déclarées",
    _P.MANAGE_CAF_REQUESTS: "Demandes de la Caf",
    _P.RESPOND_TO_INCIDENTS: "Incidents de sécurité",
    _P.RUN_OUTREACH: "Accompagnement",
    _P.MANAGE_AGENTS: "Agents",
}


def _roles(agent) -> list[AgentRole]:
    roles = []
    for value in agent.roles or ():
        try:
            roles.append(AgentRole(value))
        except ValueError:
            continue  # a role removed from the code grants nothing
    return roles


def _active(agent) -> bool:
    return agent is not None and agent.is_active


def agent_permissions(agent) -> frozenset[AgentPermission]:
    """Everything the agent's roles allow, on some Caf."""
    if not _active(agent):
        return frozenset()
    granted: set[AgentPermission] = set()
    for role in _roles(agent):
        granted |= _PERMISSIONS[role]
    return frozenset(granted)


def _reaches_all_cafs(agent, permission: AgentPermission) -> bool:
    return any(role in _ALL_CAFS and permission in _PERMISSIONS[role] for role in _roles(agent))


def agent_may(agent, permission: AgentPermission, *, caf_id: int | None = None) -> bool:
    """May ``agent`` use ``permission``, on the Caf ``caf_id`` when given (a file's, a check's)?

    ``caf_id`` None asks whether the agent may use it at all (a menu entry, a queue's page); the
    queue then lists only what ``agent_caf_condition`` keeps."""
    if permission not in agent_permissions(agent):
        return False
    if caf_id is None or _reaches_all_cafs(agent, permission):
        return True
    return agent.caf_id == caf_id


def agent_caf_condition(agent, permission: AgentPermission, *, caf_id_field: str = "caf_id") -> Q:
    """The rows of a queue or the files the agent may act on with ``permission``: those of the
    agent's Caf (``caf_id_field``: the path from the model to its Caf's key, ``dossier__caf_id``
    for a file's object), every Caf for a role that reaches them all, nothing without it."""
    if permission not in agent_permissions(agent):
        return Q(pk__in=[])
    if _reaches_all_cafs(agent, permission):
        return Q()
    return Q(**{caf_id_field: agent.caf_id})


def roles_grantable_by(agent) -> list[AgentRole]:
    """The roles an agent may give to an agent of their Caf: any but those reaching every Caf
    (the national security team is named by a command, not by a Caf's administrator)."""
    if AgentPermission.MANAGE_AGENTS not in agent_permissions(agent):
        return []
    return [role for role in AgentRole if role not in _ALL_CAFS]


def agent_manageable(manager, agent) -> bool:
    """May ``manager`` change ``agent`` (roles, deactivation, second factor reset)? An
    administrator of the same Caf, never on themselves (another administrator does that)."""
    return (
        agent_may(manager, AgentPermission.MANAGE_AGENTS, caf_id=agent.caf_id)
        and manager.pk != agent.pk
        and not any(role in _ALL_CAFS for role in _roles(agent))
    )
