"""The scoped reads give a person's files only, never their neighbours' in the same Caf, even to
someone who is a member of a second file (docs/access.md, "The scoped reads"). Fails if a read
of files is widened (the Caf instead of the person's own rows)."""

import pytest

from moncompte.access.policy import Action
from moncompte.core.actors import Actor, Channel
from moncompte.households.selectors import dossier_overviews, dossiers_for, home_files
from tests.factories import MemberFactory, make_household

pytestmark = pytest.mark.django_db


def test_the_files_of_a_caf_are_not_the_files_of_a_person():
    family = make_household()
    neighbours = make_household(caf=family.dossier.caf, birth_name=family.responsible.person.birth_name)
    # M on the neighbours' file as well: a second membership that shows nothing of that file.
    MemberFactory(dossier=neighbours.dossier, person=family.responsible.person, other=True)
    actor = Actor(channel=Channel.WEB, person=family.responsible.person)

    assert list(dossiers_for(actor=actor, action=Action.SEE_DOSSIER)) == [family.dossier]
    overviews = dossier_overviews(actor=actor)
    assert [o.dossier for o in overviews] == [family.dossier]
    assert {m.person for m in overviews[0].members} == {p.person for p in family.people}

    shown = [f.overview for f in home_files(actor=actor) if f.overview is not None]
    assert [o.dossier for o in shown] == [family.dossier]
    assert {m.person for m in shown[0].members} == {p.person for p in family.people}
