"""Every cell of the rule table of PRODUCT.md section 3 (docs/access.md)."""

import datetime

import pytest
from django.utils import timezone

from moncompte.access.policy import Action, Standing, decide, decide_for_standing, dossiers_visible_to, standing_of
from moncompte.households.models import Dossier, Member, Role
from tests.conftest import CLAIRE, LEA, MARC, SOFIA, person_of

R, SP, S, M, X, O = (  # noqa: E741  (the letters of PRODUCT.md section 3)
    Standing.RESPONSABLE,
    Standing.SPOUSE_DELEGATED,
    Standing.SPOUSE,
    Standing.MEMBER,
    Standing.FORMER_SPOUSE,
    Standing.STRANGER,
)
ALL = (R, SP, S, M, X, O)

# action -> {standing: "yes" | "own" | "no"}
EXPECTED = {
    Action.SEE_OWN_DATA: dict.fromkeys(ALL, "own"),
    Action.CHANGE_OWN_CONTACTS: dict.fromkeys(ALL, "own"),
    Action.SEE_DOSSIER: {R: "yes", SP: "yes", S: "no", M: "no", X: "no", O: "no"},
    Action.SEE_HOUSEHOLD: {R: "yes", SP: "yes", S: "no", M: "no", X: "no", O: "no"},
    Action.HOUSEHOLD_PROCEDURE: {R: "yes", SP: "yes", S: "no", M: "no", X: "no", O: "no"},
    Action.INDIVIDUAL_REQUEST: {R: "yes", SP: "yes", S: "yes", M: "no", X: "no", O: "no"},
    Action.ANSWER_CAF_REQUEST: {R: "yes", SP: "yes", S: "own", M: "own", X: "no", O: "no"},
    Action.DECLARE_SEPARATION: {R: "yes", SP: "yes", S: "yes", M: "no", X: "no", O: "no"},
    Action.COUNTER_INFORMATION: {R: "yes", SP: "yes", S: "no", M: "no", X: "no", O: "no"},
    Action.MANAGE_DELEGATION: {R: "yes", SP: "yes", S: "no", M: "no", X: "no", O: "no"},
    Action.GRANT_DELEGATION: {R: "yes", SP: "no", S: "no", M: "no", X: "no", O: "no"},
    Action.REVOKE_DELEGATION: {R: "yes", SP: "no", S: "no", M: "no", X: "no", O: "no"},
    Action.RENOUNCE_DELEGATION: {R: "no", SP: "yes", S: "no", M: "no", X: "no", O: "no"},
    Action.INVITE_MEMBER: {R: "yes", SP: "yes", S: "no", M: "no", X: "no", O: "no"},
    Action.CLAIM_BY_FIRST_CONNECTION: {R: "yes", SP: "yes", S: "yes", M: "no", X: "no", O: "no"},
    Action.CLAIM_BY_INVITATION: {R: "yes", SP: "yes", S: "yes", M: "yes", X: "no", O: "no"},
    Action.CLAIM_ALONE: {R: "no", SP: "no", S: "no", M: "yes", X: "yes", O: "yes"},
}


def test_the_table_covers_every_action():
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("standing", ALL)
def test_every_cell(action, standing):
    decision = decide_for_standing(standing, action)
    expected = EXPECTED[action][standing]
    assert decision.allowed == (expected != "no")
    assert decision.own_only == (expected == "own")
    assert decision.reason


def _member(role, *, delegated=False, ended=False):
    return Member(
        role=role,
        delegation_granted_at=timezone.now() if delegated else None,
        ended_on=datetime.date.today() - datetime.timedelta(days=1) if ended else None,
    )


@pytest.mark.parametrize(
    "member, expected",
    [
        (_member(Role.RESPONSABLE), R),
        (_member(Role.CONJOINT, delegated=True), SP),
        (_member(Role.CONJOINT), S),
        (_member(Role.ENFANT), M),
        (_member(Role.AUTRE), M),
        (_member(Role.CONJOINT, ended=True), X),
        (_member(Role.CONJOINT, delegated=True, ended=True), X),
        (_member(Role.ENFANT, ended=True), O),
        (None, O),
    ],
)
def test_standing_of_a_membership(member, expected):
    assert standing_of(member) == expected


@pytest.mark.django_db
def test_decisions_on_the_demo_file(demo):
    file = Dossier.objects.get(numero="1234567")
    assert decide(person=person_of(CLAIRE[0]), dossier=file, action=Action.SEE_DOSSIER)
    assert not decide(person=person_of(MARC[0]), dossier=file, action=Action.SEE_DOSSIER)
    assert not decide(person=person_of(LEA[0]), dossier=file, action=Action.SEE_DOSSIER)
    assert not decide(person=person_of(SOFIA[0]), dossier=file, action=Action.SEE_DOSSIER)


@pytest.mark.django_db
def test_visible_files_queryset_follows_the_policy(demo):
    claire, marc, lea, sofia = (person_of(x[0]) for x in (CLAIRE, MARC, LEA, SOFIA))
    assert [d.numero for d in dossiers_visible_to(claire)] == ["1234567"]
    assert list(dossiers_visible_to(marc)) == []
    assert list(dossiers_visible_to(lea)) == []
    assert [d.numero for d in dossiers_visible_to(sofia)] == ["7654321"]
    Member.objects.filter(person=marc).update(delegation_granted_at=timezone.now())
    assert [d.numero for d in dossiers_visible_to(marc)] == ["1234567"]
    Member.objects.filter(person=marc).update(ended_on=datetime.date.today())
    assert list(dossiers_visible_to(marc)) == []
