"""The scoped selectors (moncompte.households.selectors): each takes the acting person and gives
only what the policy allows, else NotAllowed."""

import pytest

from moncompte.access.policy import Action, Standing
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import NotAllowed
from moncompte.households.selectors import (
    Membership,
    couple_of,
    current_memberships,
    dossier_overview,
    dossier_overviews,
    dossiers_for,
    household_members,
    membership_for,
    memberships_for,
)
from tests.factories import BenefitFactory, MemberFactory, PersonFactory, make_household

pytestmark = pytest.mark.django_db


def acting(person) -> Actor:
    return Actor(channel=Channel.WEB, person=person)


@pytest.fixture
def household():
    family = make_household()
    MemberFactory(dossier=family.dossier, spouse=True, ended=True)  # a former spouse (X)
    return family


def _people(family):
    former = family.dossier.members.exclude(pk__in=[p.member.pk for p in family.people]).get()
    return {
        Standing.RESPONSABLE: family.responsible.person,
        Standing.SPOUSE: family.spouse.person,
        Standing.MEMBER: family.child.person,
        Standing.FORMER_SPOUSE: former.person,
        Standing.STRANGER: PersonFactory(),
    }


def test_dossier_overview_only_for_who_may_see_the_file(household):
    for current, person in _people(household).items():
        if current == Standing.RESPONSABLE:
            overview = dossier_overview(actor=acting(person), dossier=household.dossier)
            assert overview.dossier == household.dossier
            assert {m.person for m in overview.members} == {p.person for p in household.people}
            assert overview.benefits and overview.payments
        else:
            with pytest.raises(NotAllowed):
                dossier_overview(actor=acting(person), dossier=household.dossier)
    with pytest.raises(NotAllowed):
        dossier_overview(actor=Actor.system(), dossier=household.dossier)


def test_the_delegated_spouse_sees_the_file():
    family = make_household(delegated=True)
    spouse = acting(family.spouse.person)
    assert dossier_overview(actor=spouse, dossier=family.dossier).dossier == family.dossier
    assert [o.dossier for o in dossier_overviews(actor=spouse)] == [family.dossier]
    assert membership_for(actor=spouse, action=Action.RENOUNCE_DELEGATION).standing == Standing.SPOUSE_DELEGATED
    with pytest.raises(NotAllowed):
        membership_for(actor=spouse, action=Action.GRANT_DELEGATION)


def test_a_person_on_two_files_gets_exactly_the_one_the_action_allows(household):
    """M on one file, R on another: the scoped reads give the second only."""
    person = PersonFactory(age=20)
    as_member = MemberFactory(dossier=household.dossier, person=person, other=True)
    as_responsible = MemberFactory(person=person)
    BenefitFactory(dossier=as_responsible.dossier)
    actor = acting(person)
    assert list(dossiers_for(actor=actor, action=Action.SEE_DOSSIER)) == [as_responsible.dossier]
    assert [o.dossier for o in dossier_overviews(actor=actor)] == [as_responsible.dossier]
    assert membership_for(actor=actor, action=Action.SEE_HOUSEHOLD).member == as_responsible
    assert [m.member for m in memberships_for(actor=actor, action=Action.INVITE_MEMBER)] == [as_responsible]
    assert {m.member for m in current_memberships(actor=actor)} == {as_member, as_responsible}
    with pytest.raises(NotAllowed):
        dossier_overview(actor=actor, dossier=household.dossier)


def test_membership_for_refuses_who_may_not(household):
    for current, person in _people(household).items():
        if current == Standing.RESPONSABLE:
            assert membership_for(actor=acting(person), action=Action.SEE_HOUSEHOLD).dossier == household.dossier
        else:
            with pytest.raises(NotAllowed):
                membership_for(actor=acting(person), action=Action.SEE_HOUSEHOLD)


def test_current_memberships_leave_ended_ones_out(household):
    former = _people(household)[Standing.FORMER_SPOUSE]
    assert current_memberships(actor=acting(former)) == []


def test_members_and_couple_need_the_actors_own_allowing_membership(household):
    responsible, spouse = household.responsible, household.spouse
    mine = membership_for(actor=acting(responsible.person), action=Action.SEE_HOUSEHOLD)
    members = household_members(actor=acting(responsible.person), membership=mine)
    assert {m.person for m in members} == {p.person for p in household.people}  # not the former spouse
    assert couple_of(actor=acting(responsible.person), membership=mine, action=Action.GRANT_DELEGATION) == (
        responsible.member,
        spouse.member,
    )
    # Someone else holding the responsible person's membership gets nothing.
    with pytest.raises(NotAllowed):
        household_members(actor=acting(spouse.person), membership=mine)
    # The spouse's own membership does not allow seeing the household.
    theirs = Membership(member=spouse.member, standing=Standing.SPOUSE)
    with pytest.raises(NotAllowed):
        household_members(actor=acting(spouse.person), membership=theirs)
    with pytest.raises(NotAllowed):
        couple_of(actor=acting(spouse.person), membership=theirs, action=Action.GRANT_DELEGATION)
    assert couple_of(actor=acting(spouse.person), membership=theirs, action=Action.DECLARE_SEPARATION) == (
        responsible.member,
        spouse.member,
    )
