"""moncompte.households.selectors.home_files: the home page's read. The policy decides from the
rows it loads: the overview only on files the person may see whole, their own rows otherwise."""

import pytest

from moncompte.access.policy import Action, Standing
from moncompte.core.actors import Actor, Channel
from moncompte.households.selectors import dossiers_for, home_files
from tests.factories import MemberFactory, PersonFactory, make_household

pytestmark = pytest.mark.django_db


def acting(person) -> Actor:
    return Actor(channel=Channel.WEB, person=person)


def test_the_overview_goes_to_whoever_may_see_the_file_and_no_one_else():
    family = make_household()
    former = MemberFactory(dossier=family.dossier, spouse=True, ended=True)
    other = make_household()  # a file of the same kind next to it, with its own members
    for person, sees in [
        (family.responsible.person, True),
        (family.spouse.person, False),
        (family.child.person, False),
    ]:
        (mine,) = home_files(actor=acting(person))
        assert mine.member.person == person and mine.member.dossier == family.dossier
        assert (mine.overview is not None) is sees, person
        # The same answer as the scoped read of the rule table.
        assert [f.overview.dossier for f in home_files(actor=acting(person)) if f.overview] == list(
            dossiers_for(actor=acting(person), action=Action.SEE_DOSSIER)
        )
    overview = home_files(actor=acting(family.responsible.person))[0].overview
    assert {m.person for m in overview.members} == {p.person for p in family.people}
    assert former.person not in {m.person for m in overview.members}
    assert other.responsible.person not in {m.person for m in overview.members}
    assert overview.benefits and overview.payments
    assert all(p.dossier_id == family.dossier.pk for p in overview.payments)
    assert all(b.dossier_id == family.dossier.pk for b in overview.benefits)
    # A former spouse and a stranger have no current membership: nothing at all.
    assert home_files(actor=acting(former.person)) == []
    assert home_files(actor=acting(PersonFactory())) == []
    assert home_files(actor=Actor.system()) == []


def test_the_delegated_spouse_sees_the_file_and_two_files_stay_apart():
    family = make_household(delegated=True)
    second = make_household()
    MemberFactory(dossier=second.dossier, person=family.spouse.person, other=True)  # also a member of another file
    files = home_files(actor=acting(family.spouse.person))
    assert [f.membership.standing for f in files] == [Standing.SPOUSE_DELEGATED, Standing.MEMBER]
    assert files[0].overview.dossier == family.dossier and files[1].overview is None
    assert {m.dossier_id for m in files[0].overview.members} == {family.dossier.pk}
    assert files[0].can_separate and not files[1].can_separate
