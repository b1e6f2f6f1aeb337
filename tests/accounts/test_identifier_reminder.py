"""moncompte.accounts.identifier_reminder: the identifier sent to the contact typed, and only there."""

import re

import pytest

from moncompte.accounts import throttling
from moncompte.accounts.identifier_reminder import identifier_reminder_request, reminder_lines
from moncompte.accounts.throttling import quota_take
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel, ContactChannel
from moncompte.notifications.models import Message
from tests.factories import AccountFactory, ContactFactory, PersonFactory

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.9"
VISITOR = Actor.visitor(channel=Channel.WEB, client_address=ADDRESS)
EMAIL = ContactChannel.EMAIL
PHONE = ContactChannel.PHONE


def _email_of(account) -> str:
    return account.contacts.get(kind=EMAIL).value


def _remind(destination: str, channel=EMAIL, actor=VISITOR):
    return identifier_reminder_request(actor=actor, channel=channel, destination=destination)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.fixture
def nir_account(db):
    return AccountFactory()


@pytest.fixture
def provisional_account(db):
    return AccountFactory(person=PersonFactory(provisional=True))


def test_a_provisional_identifier_is_sent_in_full_to_the_contact_typed(provisional_account):
    email = _email_of(provisional_account)
    ContactFactory(account=provisional_account, phone=True)
    _remind(email)
    message = Message.objects.get(template="identifier_reminder")
    assert message.recipient == email
    assert message.account == provisional_account
    assert provisional_account.person.identifier.display() in message.get_body()


def test_a_nir_is_never_in_full_in_the_message(nir_account):
    identifier = nir_account.person.identifier
    ContactFactory(account=nir_account, phone=True)
    phone = nir_account.contacts.get(kind=PHONE).value
    _remind(_email_of(nir_account))
    _remind(phone, channel=PHONE)
    messages = Message.objects.filter(template="identifier_reminder").order_by("id")
    assert [m.recipient for m in messages] == [_email_of(nir_account), phone]
    assert identifier.masked() in messages[0].get_body()
    for message in messages:
        body = message.get_body()
        # The email shows the mask; the SMS (no dots in the GSM alphabet) names the first digit and the key.
        shown = f"commence par {identifier.value[0]} et finit par {identifier.key}"
        assert identifier.masked() in body or shown in body
        assert "carte Vitale" in body
        # Neither the 13 characters nor any 6 of them in a row, with or without spaces.
        digits = _digits(body)
        value = identifier.value
        assert not any(value[i : i + 6] in digits for i in range(len(value) - 5))
        assert identifier.display() not in body


def test_a_masked_nir_shows_the_first_digit_and_the_key_only(nir_account):
    identifier = nir_account.person.identifier
    lines = reminder_lines(identifier)
    assert lines["provisional"] is False
    assert _digits(lines["shown"]) == identifier.value[0] + identifier.key


def test_several_accounts_on_one_contact_get_one_listing(nir_account, provisional_account):
    email = _email_of(nir_account)
    ContactFactory(account=provisional_account, value=email)
    _remind(email)
    message = Message.objects.get(template="identifier_reminder")
    body = message.get_body()
    assert provisional_account.person.identifier.display() in body
    assert nir_account.person.identifier.masked() in body
    assert message.account is None
    # Each account's person has the request in their journal.
    subjects = set(
        JournalEntry.objects.filter(action="identifier_reminder.request").values_list("subject_person", flat=True)
    )
    assert subjects == {nir_account.person_id, provisional_account.person_id}


def test_the_email_is_found_whatever_its_case_and_sent_to_the_validated_value(nir_account):
    email = _email_of(nir_account)
    _remind(email.upper())
    assert Message.objects.get(template="identifier_reminder").recipient == email


@pytest.mark.parametrize("case", ["unknown", "unverified", "inactive"])
def test_nothing_is_sent_to_a_contact_of_nobody_and_the_journal_is_anonymous(case, nir_account):
    if case == "unknown":
        destination = "personne@example.fr"
    elif case == "unverified":
        destination = ContactFactory(account=nir_account, unverified=True).value
    else:
        destination = _email_of(nir_account)
        nir_account.is_active = False
        nir_account.save(update_fields=["is_active"])
    result = _remind(destination)
    assert not result.throttled
    assert not Message.objects.exists()
    entry = JournalEntry.objects.get(action="identifier_reminder.request")
    assert entry.subject_person is None
    assert entry.detail == {"channel": "email", "sent": False, "over_limit": False}
    assert destination not in str(entry.detail)


def test_a_destination_gets_three_reminders_a_day_counted_whether_it_exists_or_not(nir_account, settings):
    email = _email_of(nir_account)
    others = [Actor.visitor(channel=Channel.WEB, client_address=f"203.0.113.{n}") for n in range(6)]
    for actor in others[:5]:
        assert not _remind(email, actor=actor).throttled
    assert Message.objects.filter(template="identifier_reminder").count() == 3
    details = [e.detail for e in JournalEntry.objects.filter(action="identifier_reminder.request").order_by("id")]
    assert [d["sent"] for d in details] == [True, True, True, False, False]
    assert details[-1]["over_limit"] is True
    # An unknown destination is counted the same way.
    for actor in others[:4]:
        _remind("personne@example.fr", actor=actor)
    last = JournalEntry.objects.filter(action="identifier_reminder.request").order_by("-id").first()
    assert last.detail["over_limit"] is True


def test_requests_over_the_limit_are_not_counted():
    key = "throttle:test:quota"
    assert [quota_take(key, 2) for _ in range(4)] == [True, True, False, False]
    from moncompte.accounts.models import ThrottleCounter

    assert ThrottleCounter.objects.get(key=key).failures == 2


def test_one_address_is_throttled_after_its_free_requests(nir_account, settings):
    assert not _remind("personne@example.fr").throttled
    # Far past the free requests of the address: the wait (doubling) lasts minutes.
    for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS + 10):
        throttling.scopes_failed([throttling.address_scope("identifier_reminder", ADDRESS)])
    result = _remind(_email_of(nir_account))
    assert result.throttled and result.wait_seconds > 0
    assert "Réessayez dans" in result.wait_message()
    assert not Message.objects.exists()
    assert JournalEntry.objects.filter(action="identifier_reminder.throttled", subject_person=None).count() == 1
