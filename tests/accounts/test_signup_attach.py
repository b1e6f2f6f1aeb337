"""A file member without an account who creates one alone (issue 9): a 16- or 17-year-old, or a
former spouse, signs up with her NIR; nothing of the file until the identity check; at its
acceptance the account becomes hers (attached), if the policy lets her claim it alone and the
declared identity is hers. Otherwise refused, nothing changed."""

import pytest
from django.core import mail
from django.db import connection

from moncompte.accounts.models import Account
from moncompte.accounts.signin import credentials_check
from moncompte.accounts.signup import (
    NUMBER_NOT_ALONE,
    NUMBER_OTHER_IDENTITY,
    IdentityCheckError,
    identity_check_accept,
    pending_identity_check,
)
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.households.invitations import (
    accounts_created_after_invitation,
    invitation_send,
    live_invitations,
)
from moncompte.households.models import Invitation, Member
from moncompte.households.selectors import home_files
from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.models import FormerIdentifier, IdentityCheck, IdentityCheckState, Person
from moncompte.identity.services import identifier_holder
from moncompte.notifications.models import Message
from tests.accounts.test_signup import OTHER_FIRST_NAME, PASSWORD, complete, identity_of
from tests.factories import AccountFactory, make_household

pytestmark = pytest.mark.django_db

AGENT = Actor.system()


def web(account) -> Actor:
    return Actor(channel=Channel.WEB, account=account)


def alone(member, **overrides):
    """The member signs up alone with her NIR and her own identity."""
    return complete(ident=identity_of(member.person, **overrides), identifier=parse_identifier(member.identifier))


@pytest.fixture
def household(db):
    """A file whose child of 17 has no account yet, with an open invitation from R."""
    family = make_household()
    Account.objects.filter(person=family.child.person).delete()
    family.child.account = None
    return family


def _invite(household, destination="enfant@example.fr"):
    return invitation_send(
        actor=web(household.responsible.account),
        member=household.child.member,
        channel="email",
        destination=destination,
    )


def test_until_the_check_the_account_sees_nothing_of_the_file(household):
    result = alone(household.child)
    assert result.person != household.child.person
    assert not Member.objects.filter(person=result.person).exists()
    assert home_files(actor=web(result.account)) == []
    assert pending_identity_check(result.person) == result.identity_check


def test_the_accepted_check_attaches_the_account_to_the_member(household, django_capture_on_commit_callbacks):
    child = household.child
    sent = _invite(household)
    result = alone(child)
    provisional, provisional_id = result.provisional_identifier, result.person.pk
    with django_capture_on_commit_callbacks(execute=True):
        check = identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")

    account = Account.objects.get(pk=result.account.pk)
    assert account.person == child.person
    assert check.state == IdentityCheckState.VERIFIED and IdentityCheck.objects.get(pk=check.pk).person == child.person
    # The provisional person is retired; her identifier names the member now, as a former one.
    assert not Person.objects.filter(pk=provisional_id).exists()
    assert FormerIdentifier.objects.with_identifier(provisional.value).get().person == child.person
    assert identifier_holder(provisional) == (child.person, True)
    # She signs in with her NIR and the password she chose; her contact stays.
    assert credentials_check(actor=AGENT, identifier=parse_identifier(child.identifier), password=PASSWORD).succeeded
    assert account.contacts.filter(verified_at__isnull=False).count() == 1
    # The invitation sent to her is closed, and shown "Compte créé" to the responsible person.
    sent.invitation.refresh_from_db()
    assert sent.invitation.cancel_reason == Invitation.CancelReason.ACCOUNT_EXISTS
    responsible = web(household.responsible.account)
    assert live_invitations(actor=responsible, dossier=household.dossier) == []
    assert accounts_created_after_invitation(actor=responsible, dossier=household.dossier) == [sent.invitation]
    # Journaled, and she is told at her contact that her account now gives access to her file.
    attached = JournalEntry.objects.get(action="identity.check_attached")
    assert attached.subject_person_id == child.person.pk
    assert attached.detail == {"check": check.pk, "retired_person": provisional_id, "invitations_closed": 1}
    assert JournalEntry.objects.filter(
        action="invitation.closed_account_exists", subject_person_id=child.person.pk
    ).exists()
    told = Message.objects.get(template="identity_check_attached")
    assert told.recipient == "ines@example.fr" and told.account == account
    assert "donne maintenant accès à ce qui vous concerne" in mail.outbox[-1].body
    # She sees her own place in the file, as the policy allows a child: no overview of the file.
    files = home_files(actor=web(account))
    assert [f.member for f in files] == [child.member] and files[0].overview is None


def test_a_former_spouse_without_account_is_attached_too(db):
    family = make_household()
    spouse = family.spouse
    Account.objects.filter(person=spouse.person).delete()
    Member.objects.filter(pk=spouse.member.pk).update(ended_on=spouse.member.joined_on)
    result = alone(spouse)
    identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")
    assert Account.objects.get(pk=result.account.pk).person == spouse.person


@pytest.mark.parametrize("who", ["responsible", "spouse"])
def test_a_responsible_person_or_spouse_is_not_attached(db, who):
    family = make_household(accounts=False)
    member = getattr(family, who)
    result = alone(member)
    with pytest.raises(IdentityCheckError) as error:
        identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")
    assert (error.value.code, error.value.message) == ("not_alone", NUMBER_NOT_ALONE)
    _nothing_changed(result, member)


def test_a_holder_with_an_account_is_not_attached(family):
    result = alone(family.child)
    with pytest.raises(IdentityCheckError) as error:
        identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")
    assert error.value.code == "taken"
    _nothing_changed(result, family.child)


def test_another_identity_is_not_attached(household):
    result = alone(household.child, first_names=OTHER_FIRST_NAME)
    with pytest.raises(IdentityCheckError) as error:
        identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")
    assert (error.value.code, error.value.message) == ("mismatch", NUMBER_OTHER_IDENTITY)
    _nothing_changed(result, household.child)


def test_an_account_created_for_the_member_meanwhile_wins_cleanly(household):
    """The race, provoked deterministically: right before the account is moved to the member,
    her own account is recorded (a first connection or an invitation committing meanwhile; here
    in the same transaction, which the unique Account.person sees alike). Refused, not a 500."""
    result = alone(household.child)
    done = []

    def concurrent_invitation(execute, sql, params, many, context):
        if not done and sql.lstrip().upper().startswith('UPDATE "ACCOUNTS_ACCOUNT"'):
            done.append(True)  # first: the factory's own statements come through here too
            AccountFactory(person=household.child.person)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(concurrent_invitation):
        with pytest.raises(IdentityCheckError) as error:
            identity_check_accept(actor=AGENT, check=result.identity_check, decided_by="Agent Durand")
    assert done and error.value.code == "taken"
    assert Account.objects.get(pk=result.account.pk).person == result.person
    assert Person.objects.get(pk=result.person.pk).identifier == result.provisional_identifier
    result.identity_check.refresh_from_db()
    assert result.identity_check.state == IdentityCheckState.TO_VERIFY


def _nothing_changed(result, member):
    assert Account.objects.get(pk=result.account.pk).person == result.person
    assert Person.objects.get(pk=result.person.pk).identifier == result.provisional_identifier
    result.identity_check.refresh_from_db()
    assert result.identity_check.state == IdentityCheckState.TO_VERIFY
    assert not Member.objects.filter(person=result.person).exists()
    assert not JournalEntry.objects.filter(action="identity.check_attached").exists()
    assert JournalEntry.objects.filter(
        action="identity.check_bind_refused", subject_person_id=result.person.pk
    ).exists()
    assert member.person.pk != result.person.pk
