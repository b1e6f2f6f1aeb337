"""The « Identifiant oublié » page (/identifiant-oublie/): the same answer whatever was typed."""

import re

import pytest
from django.core import mail
from django.test import Client

from moncompte.accounts import throttling
from moncompte.audit.models import JournalEntry
from moncompte.notifications.models import OutboxEntry
from tests.factories import AccountFactory, ContactFactory, PersonFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

PAGE = "/identifiant-oublie/"
SENT = "Si cette adresse ou ce numéro correspond à un compte dont il a été validé"


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.MONCOMPTE_IDENTIFIER_REMINDER_MIN_SECONDS = 0


def _normalized(response) -> str:
    """The page without what changes at every answer: CSRF token and CSP nonce."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', body)
    return re.sub(r'nonce="[^"]+"', 'nonce=""', body)


def _ask(contact: str, address: str = "198.51.100.30"):
    return Client(REMOTE_ADDR=address).post(PAGE, {"contact": contact})


def _email_of(account) -> str:
    return account.contacts.get(kind="email").value


def test_the_page_explains_and_links_back():
    page = Client().get(PAGE)
    assert page.status_code == 200
    body = page.content.decode()
    assert "<h1>Identifiant oublié</h1>" in body
    assert 'for="id_contact"' in body and 'aria-describedby="id_contact-aide"' in body
    assert 'href="/connexion/"' in body and 'href="/mot-de-passe-oublie/"' in body


def test_a_provisional_identifier_reaches_its_contact_in_full():
    account = AccountFactory(person=PersonFactory(provisional=True))
    response = _ask(_email_of(account))
    assert response.status_code == 200
    assert SENT in response.content.decode()
    [message] = mail.outbox
    assert message.to == [_email_of(account)]
    assert account.person.identifier.display() in message.body
    entry = JournalEntry.objects.get(action="identifier_reminder.request")
    assert entry.subject_person == account.person
    assert entry.client_address == "198.51.100.30"


def test_the_answer_is_the_same_whatever_was_typed():
    known = AccountFactory()
    ContactFactory(account=known, phone=True)
    phone = known.contacts.get(kind="phone").value
    unverified = ContactFactory(account=AccountFactory(), unverified=True).value
    answers = [
        _ask(_email_of(known), "203.0.113.1"),
        _ask("personne.inconnue@example.fr", "203.0.113.2"),
        _ask(unverified, "203.0.113.3"),
        _ask("0" + phone[3:], "203.0.113.4"),
        _ask("06 00 00 00 01", "203.0.113.5"),
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({_normalized(a) for a in answers}) == 1
    # Only the two real ones were sent: the email and the SMS of the known account.
    assert [m.to for m in mail.outbox] == [[_email_of(known)]]
    assert OutboxEntry.objects.filter(recipient=phone).count() == 1


def test_no_nir_in_full_in_the_email_nor_the_sms():
    account = AccountFactory()
    ContactFactory(account=account, phone=True)
    phone = account.contacts.get(kind="phone").value
    _ask(_email_of(account))
    _ask(phone)
    identifier = account.person.identifier
    bodies = [m.body for m in mail.outbox] + [e.get_body() for e in OutboxEntry.objects.filter(recipient=phone)]
    assert len(bodies) == 2
    assert identifier.masked() in bodies[0]
    for body in bodies:
        # The email shows the mask; the SMS (no dots in the GSM alphabet) names the first digit and the key.
        shown = f"commence par {identifier.value[0]} et finit par {identifier.key}"
        assert identifier.masked() in body or shown in body
        squeezed = re.sub(r"\s", "", body)
        assert identifier.value not in squeezed and identifier.display() not in body


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "Saisissez votre adresse électronique"),
        ("claire", "Saisissez votre adresse électronique"),
        ("claire@", "Saisissez une adresse électronique valide"),
        ("01 23 45 67 89", "téléphone fixe"),
        ("06 12", "Ce numéro de téléphone n&#x27;est pas valide"),
        ("9" * 300, "au plus 254 caractères"),
    ],
)
def test_a_malformed_contact_is_refused_in_french(typed, error):
    response = _ask(typed)
    assert response.status_code == 400
    body = response.content.decode()
    assert error in body and 'aria-invalid="true"' in body
    assert not JournalEntry.objects.filter(action="identifier_reminder.request").exists()


def test_three_reminders_a_day_per_destination_then_the_same_page_and_nothing_sent():
    account = AccountFactory(person=PersonFactory(provisional=True))
    answers = [_ask(_email_of(account), f"203.0.113.{n}") for n in range(5)]
    assert {a.status_code for a in answers} == {200}
    assert len({_normalized(a) for a in answers}) == 1
    assert len(mail.outbox) == 3


def test_one_address_is_throttled_the_same_for_every_contact(settings):
    account = AccountFactory()
    assert _ask("personne@example.fr").status_code == 200
    # Far past the free requests of the address: the wait (doubling) lasts minutes.
    scope = throttling.address_scope("identifier_reminder", "198.51.100.30")
    for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS + 10):
        throttling.scopes_failed([scope])
    known, unknown = _ask(_email_of(account)), _ask("autre@example.fr")
    assert known.status_code == unknown.status_code == 429
    assert "Trop de demandes depuis votre connexion" in known.content.decode()
    # The waits may differ by a second between the two answers, and the typed value is shown
    # again to whoever typed it; the rest is the same.
    strip = re.compile(r'Réessayez dans [^.<]+| value="[^"]*@example.fr"')
    assert strip.sub("", _normalized(known)) == strip.sub("", _normalized(unknown))
    assert mail.outbox == []
    assert JournalEntry.objects.filter(action="identifier_reminder.throttled").count() == 2
