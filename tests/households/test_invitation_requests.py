"""moncompte.households.invitation_requests: a member asks those who may invite for an invitation."""

import datetime

import pytest
from django.urls import reverse

from moncompte.accounts import throttling
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.households.invitation_requests import INVITE_PAGE_PATH, invitation_request
from moncompte.households.models import Member, Role
from moncompte.identity.identifiers import parse_identifier
from moncompte.notifications.models import Message
from tests.factories import ContactFactory, PersonFactory, make_household

pytestmark = pytest.mark.django_db

VISITOR = Actor.visitor(channel=Channel.WEB, client_address="198.51.100.21")
TEMPLATE = "invitation_requested"


@pytest.fixture
def household(settings):
    """R with an account (she did the first connection), the spouse S without one."""
    settings.MONCOMPTE_PUBLIC_URL = "https://moncompte.example.fr"
    family = make_household()
    family.spouse.account.delete()
    family.spouse.person.refresh_from_db()
    return family


def _ask(person, birth_date=None, actor=VISITOR):
    return invitation_request(actor=actor, identifier=person.identifier, birth_date=birth_date or person.birth_date)


def _notices():
    return list(Message.objects.filter(template=TEMPLATE).order_by("id"))


def test_the_invitation_page_path_is_the_web_one():
    assert INVITE_PAGE_PATH == reverse("web:household_invite")


def test_the_spouse_without_account_reaches_the_responsible_person(household):
    spouse, responsible = household.spouse.person, household.responsible
    ContactFactory(account=responsible.account, phone=True)
    result = _ask(spouse)
    assert not result.throttled
    notices = _notices()
    contacts = {c.value for c in responsible.account.contacts.filter(verified_at__isnull=False)}
    assert {m.recipient for m in notices} == contacts
    first_name = spouse.first_names.split()[0]
    for message in notices:
        body = message.get_body()
        assert first_name in body
        assert "https://moncompte.example.fr/mon-compte/foyer/inviter/" in body
        assert spouse.identifier.value not in body.replace(" ", "")
    entry = JournalEntry.objects.get(action="invitation_request.request")
    assert entry.dossier == household.dossier
    assert entry.subject_person == spouse
    assert entry.detail == {"notified": 2, "over_limit": False}


def test_a_spouse_with_the_delegation_is_told_as_well():
    family = make_household(delegated=True)
    # The child of 17, without account, asks: R and S+ may invite, both are told.
    family.child.account.delete()
    _ask(family.child.person)
    recipients = {m.recipient for m in _notices()}
    assert recipients == {family.responsible.account.contacts.get().value, family.spouse.account.contacts.get().value}


def test_unvalidated_contacts_and_unusable_accounts_are_not_told(household):
    responsible = household.responsible.account
    ContactFactory(account=responsible, unverified=True)
    _ask(household.spouse.person)
    assert [m.recipient for m in _notices()] == [responsible.contacts.get(verified_at__isnull=False).value]
    Message.objects.all().delete()
    responsible.contact_validated_at = None
    responsible.save(update_fields=["contact_validated_at"])
    _ask(household.young_child.person)  # too young anyway; and nobody usable to tell
    assert _notices() == []


@pytest.mark.parametrize("case", ["wrong_birth_date", "has_account", "too_young", "no_file", "former_member", "nobody"])
def test_nothing_is_sent_otherwise_and_the_answer_is_the_same(case, household):
    person = household.spouse.person
    birth_date = None
    if case == "wrong_birth_date":
        birth_date = person.birth_date - datetime.timedelta(days=1)
    elif case == "has_account":
        person = household.child.person
    elif case == "too_young":
        person = household.young_child.person
    elif case == "no_file":
        person = PersonFactory(age=30)
    elif case == "former_member":
        Member.objects.filter(person=person).update(ended_on=datetime.date.today() - datetime.timedelta(days=1))
    else:
        person = None
    if person is None:
        result = invitation_request(
            actor=VISITOR, identifier=parse_identifier("1 80 01 75 001 001"), birth_date=datetime.date(1980, 1, 1)
        )
    else:
        result = _ask(person, birth_date)
    assert not result.throttled
    assert _notices() == []
    entry = JournalEntry.objects.get(action="invitation_request.request")
    assert entry.dossier is None


def test_a_member_may_also_be_someone_of_another_role(household):
    other = PersonFactory(age=20, first_names="Lucie")
    Member.objects.create(dossier=household.dossier, person=other, role=Role.AUTRE, joined_on=datetime.date(2015, 1, 1))
    _ask(other)
    assert "Lucie" in _notices()[0].get_body()


def test_one_notice_per_member_a_day_silently(household):
    spouse = household.spouse.person
    for n in range(3):
        actor = Actor.visitor(channel=Channel.WEB, client_address=f"203.0.113.{n}")
        assert not _ask(spouse, actor=actor).throttled
    assert len(_notices()) == 1
    details = [e.detail for e in JournalEntry.objects.filter(action="invitation_request.request").order_by("id")]
    assert details == [
        {"notified": 1, "over_limit": False},
        {"notified": 0, "over_limit": True},
        {"notified": 0, "over_limit": True},
    ]


def test_a_stranger_with_the_nir_only_does_not_use_up_the_members_request(household):
    spouse = household.spouse.person
    for days in range(1, 4):
        _ask(spouse, spouse.birth_date - datetime.timedelta(days=days))
    _ask(spouse)
    assert len(_notices()) == 1


def test_one_address_is_throttled_after_its_free_requests(household, settings):
    _ask(PersonFactory(age=30))
    # Far past the free requests of the address: the wait (doubling) lasts minutes.
    for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS + 10):
        throttling.scopes_failed([throttling.address_scope("invitation_request", "198.51.100.21")])
    result = _ask(household.spouse.person)
    assert result.throttled and "Réessayez dans" in result.wait_message()
    assert _notices() == []
    assert JournalEntry.objects.filter(action="invitation_request.throttled").count() == 1
