"""At most 5 invitations sent to one member a day (docs/access.md, "Invitations"): the figure of
the documentation, not the constant of the code, so that raising the cap fails too."""

import pytest

from moncompte.core.actors import Actor, Channel
from moncompte.households.invitations import InvitationError, invitation_send
from tests.factories import MemberFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_the_sixth_invitation_of_a_day_is_refused(family, django_capture_on_commit_callbacks):
    member = MemberFactory(dossier=family.dossier, person=PersonFactory(age=18), other=True)
    actor = Actor(channel=Channel.WEB, person=family.responsible.person, account=family.responsible.account)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            invitation_send(actor=actor, member=member, channel="email", destination="membre@example.fr")
    with pytest.raises(InvitationError) as refused:
        invitation_send(actor=actor, member=member, channel="email", destination="membre@example.fr")
    assert refused.value.code == "too_many_sends"
