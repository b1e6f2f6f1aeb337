"""The invitation request page (/demander-une-invitation/): the same answer whatever was typed."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client

from moncompte.accounts import throttling
from moncompte.audit.models import JournalEntry
from tests.factories import PersonFactory, make_household
from tests.web.date_parts import date_parts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

PAGE = "/demander-une-invitation/"
SENT = "Demande enregistrée"
ADDRESS = "198.51.100.40"


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.MONCOMPTE_INVITATION_REQUEST_MIN_SECONDS = 0
    settings.MONCOMPTE_PUBLIC_URL = "https://moncompte.example.fr"


@pytest.fixture
def family(db):
    """R has an account (first connection done); the spouse has none."""
    family = make_household()
    family.spouse.account.delete()
    return family


def _normalized(response) -> str:
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', body)
    return re.sub(r'nonce="[^"]+"', 'nonce=""', body)


def _ask(identifier: str, birth_date, address: str = ADDRESS):
    return Client(REMOTE_ADDR=address).post(PAGE, {"identifier": identifier, **date_parts(birth_date)})


def test_the_page_asks_the_nir_and_birth_date_and_offers_the_other_way():
    response = Client().get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Demander une invitation à créer mon compte</h1>" in body
    assert 'for="id_identifier"' in body and 'for="id_birth_day"' in body and 'type="date"' not in body
    assert "Code d'invitation" not in body
    assert 'href="/creer-mon-compte/"' in body and 'href="/connexion/"' in body


def test_the_spouse_asks_and_the_responsible_person_gets_the_link(family):
    spouse = family.spouse.person
    response = _ask(family.spouse.identifier, spouse.birth_date)
    assert response.status_code == 200
    body = response.content.decode()
    assert SENT in body and "La suite" in body
    # Nothing about the file or the responsible person on the page.
    responsible = family.responsible.person
    for clue in (responsible.first_names.split()[0], responsible.birth_name, family.dossier.numero):
        assert clue not in body
    [message] = mail.outbox
    assert message.to == [family.responsible.account.contacts.get().value]
    assert spouse.first_names.split()[0] in message.subject
    assert "https://moncompte.example.fr/mon-compte/foyer/inviter/" in message.body
    assert re.sub(r"\s", "", family.spouse.identifier) not in re.sub(r"\s", "", message.body)
    entry = JournalEntry.objects.get(action="invitation_request.request")
    assert (entry.dossier, entry.subject_person, entry.client_address) == (family.dossier, spouse, ADDRESS)


def test_the_answer_is_the_same_whatever_was_typed(family):
    spouse = family.spouse.person
    stranger = PersonFactory(age=30)
    answers = [
        _ask(family.spouse.identifier, spouse.birth_date, "203.0.113.1"),
        _ask(family.spouse.identifier, spouse.birth_date - datetime.timedelta(days=3), "203.0.113.2"),
        _ask(family.child.identifier, family.child.person.birth_date, "203.0.113.3"),  # has an account
        _ask(family.young_child.identifier, family.young_child.person.birth_date, "203.0.113.4"),
        _ask(stranger.raw_identifier, stranger.birth_date, "203.0.113.5"),  # on no file
        _ask("1 80 01 75 001 001", "01/01/1980", "203.0.113.6"),  # nobody
    ]
    assert {a.status_code for a in answers} == {200}
    assert len({_normalized(a) for a in answers}) == 1
    assert len(mail.outbox) == 1


def test_one_notice_a_day_then_the_same_page(family):
    spouse = family.spouse.person
    answers = [_ask(family.spouse.identifier, spouse.birth_date, f"203.0.113.{n}") for n in range(3)]
    assert len({_normalized(a) for a in answers}) == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("identifier", "birth_date", "error"),
    [
        ("", "01/01/1980", "Saisissez votre numéro de sécurité sociale."),
        ("1 80 01 75 001 001 00", "01/01/1980", "clé"),
        ("1 80 01 75 001 001", "", "Saisissez votre date de naissance : jour, mois et année."),
        ("1 80 01 75 001 001", "31/02/1980", "Cette date n&#x27;existe pas"),
        ("1 80 01 75 001 001", "99999999999999999999", "Vérifiez la date de naissance"),
        ("1 80 01 75 001 001", "١٢/٠٥/١٩٨٠", "ne s&#x27;écrit qu&#x27;avec des chiffres"),
    ],
)
def test_malformed_input_is_refused_in_french(identifier, birth_date, error):
    response = _ask(identifier, birth_date)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not JournalEntry.objects.filter(action="invitation_request.request").exists()


def test_one_address_is_throttled_the_same_for_everyone(family, settings):
    assert _ask("1 80 01 75 001 001", "01/01/1980").status_code == 200
    scope = throttling.address_scope("invitation_request", ADDRESS)
    for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS + 10):
        throttling.scopes_failed([scope])
    spouse = family.spouse.person
    known = _ask(family.spouse.identifier, spouse.birth_date)
    assert known.status_code == 429
    assert "Trop de demandes depuis votre connexion" in known.content.decode()
    assert mail.outbox == []
    assert JournalEntry.objects.filter(action="invitation_request.throttled").count() == 1
