"""The agents' half of the policy (moncompte.access.agents): which role opens which permission,
on the files of which Caf; and what a person served may be told for each standing
(moncompte.access.policy.disclosure_for)."""

import pytest

from moncompte.access.agents import (
    AgentPermission,
    AgentRole,
    agent_caf_condition,
    agent_manageable,
    agent_may,
    agent_permissions,
    roles_grantable_by,
)
from moncompte.access.policy import Standing, disclosure_for
from moncompte.agents.models import Agent
from tests.factories import AgentFactory, CafFactory

P = AgentPermission
R = AgentRole

# role -> the permissions it opens, and nothing else.
EXPECTED = {
    R.COUNTER: {P.SERVE_PERSON, P.ASSIST_FIRST_CONNECTION, P.PROCESS_SEPARATION, P.MANAGE_CAF_REQUESTS},
    R.IDENTITY_CHECKER: {P.DECIDE_IDENTITY_CHECK, P.PROCESS_RECTIFICATION},
    R.INCIDENT_OFFICER: {P.RESPOND_TO_INCIDENTS},
    R.OUTREACH_OFFICER: {P.RUN_OUTREACH},
    R.ADMINISTRATOR: {P.MANAGE_AGENTS},
}
NATIONAL = {R.INCIDENT_OFFICER}


def agent_with(*roles, caf=None, active=True) -> Agent:
    """An unsaved agent: the policy reads its roles, Caf and state only."""
    return Agent(pk=1, caf=caf or CafFactory.build(pk=1), roles=[r.value for r in roles], is_active=active)


def test_the_table_covers_every_role():
    assert set(EXPECTED) == set(AgentRole)


@pytest.mark.parametrize("role", list(AgentRole))
@pytest.mark.parametrize("permission", list(AgentPermission))
def test_every_cell_of_the_role_table(role, permission):
    agent = agent_with(role)
    assert agent_may(agent, permission) is (permission in EXPECTED[role])
    assert (permission in agent_permissions(agent)) is (permission in EXPECTED[role])


def test_roles_add_up_and_unknown_roles_grant_nothing():
    agent = agent_with(R.COUNTER, R.ADMINISTRATOR)
    assert agent_permissions(agent) == EXPECTED[R.COUNTER] | EXPECTED[R.ADMINISTRATOR]
    agent.roles = ["counter", "superuser", "administrator"]
    assert agent_permissions(agent) == EXPECTED[R.COUNTER] | EXPECTED[R.ADMINISTRATOR]
    assert agent_permissions(agent_with()) == frozenset()


def test_a_deactivated_agent_may_nothing():
    agent = agent_with(*AgentRole, active=False)
    assert agent_permissions(agent) == frozenset()
    assert not any(agent_may(agent, permission) for permission in AgentPermission)


@pytest.mark.parametrize("role", list(AgentRole))
def test_the_caf_scope_of_each_role(role):
    own, other = CafFactory.build(pk=10), CafFactory.build(pk=20)
    agent = agent_with(role, caf=own)
    for permission in EXPECTED[role]:
        assert agent_may(agent, permission, caf_id=own.pk)
        # The incident officers reach every Caf; everyone else, their own only.
        assert agent_may(agent, permission, caf_id=other.pk) is (role in NATIONAL)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(AgentRole))
def test_the_caf_condition_of_each_role_on_real_rows(role):
    own, other = CafFactory(), CafFactory()
    agent = AgentFactory(caf=own, roles=[role.value])
    colleague, distant = AgentFactory(caf=own), AgentFactory(caf=other)
    for permission in AgentPermission:
        kept = set(Agent.objects.filter(agent_caf_condition(agent, permission)).values_list("pk", flat=True))
        if permission not in EXPECTED[role]:
            assert kept == set(), permission
        elif role in NATIONAL:
            assert kept == {agent.pk, colleague.pk, distant.pk}, permission
        else:
            assert kept == {agent.pk, colleague.pk}, permission


def test_the_caf_condition_follows_the_given_field():
    agent = agent_with(R.COUNTER, caf=CafFactory.build(pk=7))
    condition = agent_caf_condition(agent, P.SERVE_PERSON, caf_id_field="dossier__caf_id")
    assert condition.children == [("dossier__caf_id", 7)]


def test_grantable_roles_leave_out_the_national_ones():
    assert set(roles_grantable_by(agent_with(R.ADMINISTRATOR))) == set(AgentRole) - NATIONAL
    for role in set(AgentRole) - {R.ADMINISTRATOR}:
        assert roles_grantable_by(agent_with(role)) == []


def test_who_manages_whom():
    own, other = CafFactory.build(pk=1), CafFactory.build(pk=2)
    admin = agent_with(R.ADMINISTRATOR, caf=own)
    colleague = Agent(pk=2, caf=own, roles=[R.COUNTER.value], is_active=True)
    assert agent_manageable(admin, colleague)
    assert not agent_manageable(admin, admin)  # never themselves
    assert not agent_manageable(admin, Agent(pk=3, caf=other, roles=[R.COUNTER.value], is_active=True))
    assert not agent_manageable(admin, Agent(pk=4, caf=own, roles=[R.INCIDENT_OFFICER.value], is_active=True))
    assert not agent_manageable(agent_with(R.COUNTER, caf=own), colleague)
    assert not agent_manageable(agent_with(R.ADMINISTRATOR, caf=own, active=False), colleague)


# What the person served may be told, standing by standing -------------------------------------

# standing -> (the file itself, their own part, what the agent reads about the rest)
DISCLOSURE = {
    Standing.RESPONSABLE: (True, True, ""),
    Standing.SPOUSE_DELEGATED: (True, True, ""),
    Standing.SPOUSE: (False, True, "sans autorisation de gestion : aucune information sur le dossier"),
    Standing.MEMBER: (False, True, "Membre du foyer : aucune information sur le dossier"),
    Standing.FORMER_SPOUSE: (False, True, "plus aucune information sur le dossier"),
    Standing.STRANGER: (False, False, "n'est pas membre de ce dossier : aucune information"),
}


def test_the_disclosure_table_covers_every_standing():
    assert set(DISCLOSURE) == set(Standing)


@pytest.mark.parametrize("standing", list(Standing))
def test_disclosure_for_each_standing(standing):
    file_information, own_information, reason = DISCLOSURE[standing]
    disclosure = disclosure_for(standing)
    assert disclosure.standing == standing
    assert disclosure.file_information is file_information
    assert disclosure.own_information is own_information
    if reason:
        assert reason in disclosure.hidden_reason
    else:
        assert disclosure.hidden_reason == ""
    assert disclosure.label
