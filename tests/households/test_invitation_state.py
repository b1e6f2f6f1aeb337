"""Invitations closed once the member's account exists, however it was created (issue 9): the
state is computed on every read, and recorded (with its journal entry) where the account is
created: the first connection, another invitation, the identity check of a sign-up
(tests/accounts/test_signup_attach.py)."""

import pytest
from django.test import Client
from django.utils.html import escape

from moncompte.accounts.first_connection import (
    first_connection_complete,
    first_connection_person,
    legacy_code_verify,
)
from moncompte.accounts.models import Account
from moncompte.accounts.services import account_create
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.households.invitations import (
    ACCOUNT_EXISTS,
    InvitationError,
    accounts_created_after_invitation,
    invitation_accept,
    invitation_open,
    invitation_prove,
    invitation_send,
    live_invitations,
)
from moncompte.households.models import Invitation, Member, Role
from moncompte.identity.identifiers import parse_identifier
from tests.conftest import sign_in
from tests.factories import AccountFactory, DossierFactory, make_household
from tests.web.date_parts import date_parts

pytestmark = pytest.mark.django_db

PASSWORD = "Charonne et 30 tilleuls"
VISITOR = Actor.visitor(channel=Channel.WEB, client_address="203.0.113.60", session_key="s" * 32)


def _web(account) -> Actor:
    return Actor(channel=Channel.WEB, account=account)


def _invite(inviter_account, member, destination="invite@example.fr"):
    return invitation_send(actor=_web(inviter_account), member=member, channel="email", destination=destination)


def _closed(invitation) -> bool:
    invitation.refresh_from_db()
    return invitation.cancel_reason == Invitation.CancelReason.ACCOUNT_EXISTS and invitation.cancelled_at is not None


def test_the_spouse_invited_then_doing_the_first_connection(db):
    household = make_household(accounts=False, legacy_code="40506070")
    responsible = AccountFactory(person=household.responsible.person)
    sent = _invite(responsible, household.spouse.member)
    dossier = legacy_code_verify(actor=VISITOR, caf=household.caf, numero=household.dossier.numero, code="40506070")
    person = first_connection_person(
        actor=VISITOR, dossier=dossier, identifier=parse_identifier(household.spouse.identifier)
    )
    first_connection_complete(actor=VISITOR, dossier_id=dossier.pk, person_id=person.pk, password=PASSWORD)
    assert _closed(sent.invitation)
    assert JournalEntry.objects.filter(
        action="invitation.closed_account_exists", subject_person_id=household.spouse.person.pk
    ).exists()
    assert live_invitations(actor=_web(responsible), dossier=household.dossier) == []
    assert accounts_created_after_invitation(actor=_web(responsible), dossier=household.dossier) == [sent.invitation]
    with pytest.raises(InvitationError) as error:
        invitation_open(actor=VISITOR, code=sent.code)
    assert (error.value.code, error.value.message) == ("account_exists", ACCOUNT_EXISTS)


def test_an_invitation_on_another_file_is_closed_by_the_accepted_one(family):
    child = family.child
    Account.objects.filter(person=child.person).delete()
    other_file = DossierFactory(caf=family.caf)
    Member.objects.create(dossier=other_file, person=family.responsible.person, role=Role.RESPONSABLE)
    other = Member.objects.create(dossier=other_file, person=child.person, role=Role.ENFANT)
    here = _invite(family.responsible.account, child.member)
    there = _invite(family.responsible.account, other, destination="autre@example.fr")
    invitation_prove(
        actor=VISITOR,
        invitation=here.invitation,
        identifier=parse_identifier(child.identifier),
        birth_date=child.person.birth_date,
    )
    invitation_accept(actor=VISITOR, invitation=here.invitation, password=PASSWORD)
    assert _closed(there.invitation)
    here.invitation.refresh_from_db()
    assert here.invitation.accepted_at is not None and here.invitation.cancelled_at is None


def test_an_account_created_any_other_way_is_seen_at_once(family):
    """An account recorded by a path that closes nothing (an agent, the demo data): no page shows
    the invitation "en cours", and its code says the account exists."""
    child = family.child
    Account.objects.filter(person=child.person).delete()
    sent = _invite(family.responsible.account, child.member)
    assert live_invitations(actor=_web(family.responsible.account), dossier=family.dossier) == [sent.invitation]
    account_create(actor=Actor.system(), person=child.person, password=PASSWORD)
    assert Invitation.objects.open().filter(pk=sent.invitation.pk).exists()  # nothing recorded...
    assert live_invitations(actor=_web(family.responsible.account), dossier=family.dossier) == []  # ...yet closed
    with pytest.raises(InvitationError) as error:
        invitation_open(actor=VISITOR, code=sent.code)
    assert error.value.code == "account_exists"

    client = Client()
    sign_in(client, *family.responsible.credentials)
    invite_page = client.get("/mon-compte/foyer/inviter/").content.decode()
    assert "Aucune invitation en cours." in invite_page and "Compte créé" in invite_page
    assert f"{escape(child.person.display_name)} : <span" in invite_page
    household_page = client.get("/mon-compte/foyer/").content.decode()
    assert "invitation en cours" not in household_page
    # The invitation link answers plainly that the account exists.
    response = Client().post(
        "/invitation/",
        {"code": sent.code, "identifier": child.identifier, **date_parts(child.person.birth_date)},
    )
    assert response.status_code == 409 and escape(ACCOUNT_EXISTS) in response.content.decode()


def test_the_household_page_shows_an_invitation_in_progress(family):
    child = family.child
    Account.objects.filter(person=child.person).delete()
    _invite(family.responsible.account, child.member)
    client = Client()
    sign_in(client, *family.responsible.credentials)
    assert "invitation en cours, valable jusqu" in client.get("/mon-compte/foyer/").content.decode()
