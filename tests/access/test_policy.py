"""Every cell of the rule table of PRODUCT.md section 3 (docs/access.md), and the scoped read
built from it (Dossier.objects.visible_to) checked against the same table, standing by standing."""

import datetime

import pytest
from django.utils import timezone

from moncompte.access.policy import (
    Action,
    Standing,
    allowed_memberships,
    decide,
    decide_for_standing,
    membership_condition,
    standing,
    standing_of,
)
from moncompte.households.models import Dossier, Member, Role
from tests.factories import DossierFactory, MemberFactory, PersonFactory, make_household

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
    Action.GRANT_DELEGATION: {R: "yes", SP: "no", S: "no", M: "no", X: "no", O: "no"},
    Action.REVOKE_DELEGATION: {R: "yes", SP: "no", S: "no", M: "no", X: "no", O: "no"},
    Action.RENOUNCE_DELEGATION: {R: "no", SP: "yes", S: "no", M: "no", X: "no", O: "no"},
    Action.INVITE_MEMBER: {R: "yes", SP: "yes", S: "no", M: "no", X: "no", O: "no"},
    Action.CLAIM_BY_FIRST_CONNECTION: {R: "yes", SP: "yes", S: "yes", M: "no", X: "no", O: "no"},
    Action.CLAIM_BY_INVITATION: {R: "yes", SP: "yes", S: "yes", M: "yes", X: "no", O: "no"},
    Action.CLAIM_ALONE: {R: "no", SP: "no", S: "no", M: "yes", X: "yes", O: "yes"},
    Action.SEE_OWN_SEPARATION: {R: "own", SP: "own", S: "own", M: "no", X: "own", O: "no"},
    Action.CLAIM_AT_COUNTER: {R: "yes", SP: "yes", S: "yes", M: "yes", X: "no", O: "no"},
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
def test_decisions_on_a_family_file(family):
    file = family.dossier
    stranger = make_household().responsible.person  # another Caf
    neighbour = make_household(caf=family.caf).responsible.person  # the same Caf
    assert decide(person=family.responsible.person, dossier=file, action=Action.SEE_DOSSIER)
    assert not decide(person=family.spouse.person, dossier=file, action=Action.SEE_DOSSIER)
    assert not decide(person=family.child.person, dossier=file, action=Action.SEE_DOSSIER)
    assert not decide(person=stranger, dossier=file, action=Action.SEE_DOSSIER)
    assert not decide(person=neighbour, dossier=file, action=Action.SEE_DOSSIER)


def test_the_delegation_actions_are_separate():
    assert not hasattr(Action, "MANAGE_DELEGATION")


# The scoped read, against the table ------------------------------------------------------------

# Actions allowed to O on the whole file are not about files (CLAIM_ALONE): no scoped read.
SCOPED = [action for action in Action if EXPECTED[action][O] != "yes"]

# How each standing is held through a membership row (MemberFactory traits); O also covers "no
# row at all", tested separately.
ROWS = {
    R: {},
    SP: {"delegated": True},
    S: {"spouse": True},
    M: {"child": True},
    "M (other)": {"other": True},
    X: {"spouse": True, "ended": True},
    "X (delegated)": {"delegated": True, "ended": True},
    O: {"child": True, "ended": True},
}


def _holder(traits: dict):
    """A person holding one membership row on a file of their own, among other members."""
    dossier = DossierFactory()
    row = MemberFactory(dossier=dossier, **traits)
    if traits:  # the file has its own responsible person, and more people than the holder
        MemberFactory(dossier=dossier)
    MemberFactory(dossier=dossier, child=True)
    MemberFactory(dossier=dossier, other=True)
    return row


def _table_standing(key) -> Standing:
    return key if isinstance(key, Standing) else {"M (other)": M, "X (delegated)": X}[key]


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(ROWS))
def test_the_row_gives_the_standing(key):
    row = _holder(ROWS[key])
    assert standing_of(row) == _table_standing(key)
    assert standing(row.person, row.dossier) == _table_standing(key)


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(ROWS))
def test_visible_to_follows_the_table_for_every_standing(key):
    row = _holder(ROWS[key])
    for action in SCOPED:
        visible = list(Dossier.objects.visible_to(row.person, action))
        expected = EXPECTED[action][_table_standing(key)] == "yes"
        assert visible == ([row.dossier] if expected else []), (key, action)
        rows = list(allowed_memberships(row.person, action))
        assert rows == ([row] if expected else []), (key, action)


@pytest.mark.django_db
def test_visible_to_for_a_person_with_no_row_and_for_nobody():
    _holder({})
    stranger = PersonFactory()
    for action in SCOPED:
        assert not Dossier.objects.visible_to(stranger, action).exists()
        assert not Dossier.objects.visible_to(None, action).exists()


@pytest.mark.django_db
def test_a_membership_ends_on_its_end_date():
    today = datetime.date.today()
    row = _holder({})
    for ended_on, current in ((today + datetime.timedelta(days=1), True), (today, False)):
        Member.objects.filter(pk=row.pk).update(ended_on=ended_on)
        row.refresh_from_db()
        assert row.is_current() is current
        assert (standing_of(row) == R) is current
        assert Dossier.objects.visible_to(row.person, Action.SEE_DOSSIER).exists() is current
        assert Member.objects.current().filter(pk=row.pk).exists() is current


@pytest.mark.django_db
def test_visible_to_reads_one_row_per_file_whatever_the_memberships():
    """M on one file and R on another: exactly the one where R, once each, with no join
    multiplying the rows by the members of the file."""
    person = PersonFactory()
    as_child = MemberFactory(person=person, child=True)
    MemberFactory(dossier=as_child.dossier)
    as_responsible = MemberFactory(person=person)
    for _ in range(4):
        MemberFactory(dossier=as_responsible.dossier, child=True)
    visible = Dossier.objects.visible_to(person, Action.SEE_DOSSIER)
    assert list(visible) == [as_responsible.dossier]
    assert visible.count() == 1
    assert "DISTINCT" not in str(visible.query).upper()


@pytest.mark.parametrize("action", [a for a in Action if a not in SCOPED])
def test_actions_not_about_files_have_no_scoped_read(action):
    with pytest.raises(ValueError):
        membership_condition(action)


@pytest.mark.django_db
def test_visible_files_of_a_family_and_a_stranger(family):
    other = make_household()
    responsible, spouse, child = family.responsible.person, family.spouse.person, family.child.person
    stranger = other.responsible.person

    def numbers(person):
        return [d.numero for d in Dossier.objects.visible_to(person, Action.SEE_DOSSIER)]

    assert numbers(responsible) == [family.dossier.numero]
    assert numbers(spouse) == []
    assert numbers(child) == []
    assert numbers(stranger) == [other.dossier.numero]
    Member.objects.filter(person=spouse).update(delegation_granted_at=timezone.now())
    assert numbers(spouse) == [family.dossier.numero]
    Member.objects.filter(person=spouse).update(ended_on=datetime.date.today())
    assert numbers(spouse) == []


@pytest.mark.django_db
def test_visible_to_is_about_the_person_not_their_names():
    """Two people with the same names and birth date, R on two files: each sees their own only."""
    first = MemberFactory()
    twin = PersonFactory(
        first_names=first.person.first_names,
        birth_name=first.person.birth_name,
        birth_date=first.person.birth_date,
        sex=first.person.sex,
    )
    second = MemberFactory(person=twin)
    assert list(Dossier.objects.visible_to(first.person, Action.SEE_DOSSIER)) == [first.dossier]
    assert list(Dossier.objects.visible_to(twin, Action.SEE_DOSSIER)) == [second.dossier]
