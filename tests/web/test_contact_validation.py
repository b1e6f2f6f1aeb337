import re

import pytest
from django.core import mail
from django.test import Client
from django.utils.html import escape

from moncompte.accounts.models import Contact
from tests.conftest import person_of, sign_in
from tests.factories import make_household

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

PASSWORD = "Charonne et 30 tilleuls"


@pytest.fixture
def newcomer(db):
    """A file nobody has an account for yet, which keeps its old 8-digit code."""
    return make_household(accounts=False, legacy_code="40506070")


def _new_account_client(newcomer):
    """The responsible person's browser after the first connection: an account, no contact yet."""
    client = Client()
    client.post(
        "/premiere-connexion/dossier/",
        {"place": newcomer.caf.departement, "numero": newcomer.dossier.numero, "code": newcomer.legacy_code},
    )
    client.post("/premiere-connexion/numero-securite-sociale/", {"identifier": newcomer.responsible.identifier})
    response = client.post("/premiere-connexion/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 302, "the first connection did not open the account"
    return client


def _last_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def test_first_connection_ends_with_a_validated_email(newcomer):
    client = _new_account_client(newcomer)
    response = client.post(
        "/mon-compte/coordonnees/valider/", {"action": "envoyer", "channel": "email", "email": "julien@example.fr"}
    )
    assert response.status_code == 302
    page = client.get("/mon-compte/coordonnees/valider/").content.decode()
    assert "j•••@e•••.fr" in page
    assert mail.outbox[-1].to == ["julien@example.fr"]
    response = client.post("/mon-compte/coordonnees/valider/", {"action": "valider", "code": _last_code()})
    # The account is usable now: the first-connection screens come first, once.
    assert response["Location"] == "/mon-compte/bienvenue/"
    assert escape(newcomer.responsible.person.display_name) in client.get("/mon-compte/").content.decode()
    contact = Contact.objects.get(account__person=newcomer.responsible.person)
    assert contact.value == "julien@example.fr" and contact.verified_at


def test_wrong_code_then_tries_run_out(newcomer):
    client = _new_account_client(newcomer)
    client.post("/mon-compte/coordonnees/valider/", {"action": "envoyer", "channel": "email", "email": "j@example.fr"})
    right = _last_code()
    wrong = "000000" if right != "000000" else "111111"
    response = client.post("/mon-compte/coordonnees/valider/", {"action": "valider", "code": wrong})
    assert response.status_code == 400
    assert "Il vous reste 4 essais" in response.content.decode()
    for _ in range(4):
        response = client.post("/mon-compte/coordonnees/valider/", {"action": "valider", "code": wrong})
    response = client.post("/mon-compte/coordonnees/valider/", {"action": "valider", "code": right})
    assert "Demandez un nouveau code" in response.content.decode()
    assert client.get("/mon-compte/")["Location"] == "/mon-compte/coordonnees/valider/"


def test_sms_code_to_an_overseas_mobile(newcomer):
    client = _new_account_client(newcomer)
    response = client.post(
        "/mon-compte/coordonnees/valider/", {"action": "envoyer", "channel": "phone", "phone": "0690 12 34 56"}
    )
    assert response.status_code == 302
    assert "+590 6" not in client.get("/mon-compte/coordonnees/valider/").content.decode()  # masked


@pytest.mark.parametrize(
    "data, message",
    [
        ({"channel": "email", "email": "pas-une-adresse"}, "adresse"),
        ({"channel": "email", "email": ""}, "Saisissez votre adresse électronique."),
        ({"channel": "phone", "phone": "01 23 45 67 89"}, "mobile"),
    ],
)
def test_bad_contact_gets_a_french_message_and_keeps_the_input(newcomer, data, message):
    client = _new_account_client(newcomer)
    response = client.post("/mon-compte/coordonnees/valider/", {"action": "envoyer", **data})
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body
    for value in data.values():
        if value and value not in {"email", "phone"}:
            assert f'value="{value}"' in body


def test_changing_a_validated_contact_needs_the_password(client, family):
    responsible = family.responsible
    former = responsible.account.contacts.get(kind="email").value
    sign_in(client, *responsible.credentials)
    response = client.post(
        "/mon-compte/coordonnees/valider/", {"action": "envoyer", "channel": "email", "email": "nouvelle@example.org"}
    )
    assert response.status_code == 400
    assert "Saisissez votre mot de passe actuel." in response.content.decode()
    response = client.post(
        "/mon-compte/coordonnees/valider/",
        {"action": "envoyer", "channel": "email", "email": "nouvelle@example.org", "current_password": "faux"},
    )
    assert "Mot de passe incorrect." in response.content.decode()
    client.post(
        "/mon-compte/coordonnees/valider/",
        {
            "action": "envoyer",
            "channel": "email",
            "email": "nouvelle@example.org",
            "current_password": responsible.password,
        },
    )
    # The old address stays until the new one is validated.
    emails = list(
        Contact.objects.filter(account__person=responsible.person, kind="email").values_list("value", flat=True)
    )
    assert emails == [former]
    client.post("/mon-compte/coordonnees/valider/", {"action": "valider", "code": _last_code()})
    emails = list(
        Contact.objects.filter(account__person=responsible.person, kind="email").values_list("value", flat=True)
    )
    assert emails == ["nouvelle@example.org"]


def test_a_stolen_session_cannot_guess_the_password_through_the_contact_change(family, settings):
    """The contact change re-checks the password through the one re-authentication: counted per
    account (whatever the address), slowed down, journaled."""
    from moncompte.audit.models import JournalEntry

    thief = Client(REMOTE_ADDR="203.0.113.9")
    sign_in(thief, *family.responsible.credentials)
    data = {"action": "envoyer", "channel": "email", "email": "voleur@example.org", "current_password": "faux"}
    free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
    statuses = [thief.post("/mon-compte/coordonnees/valider/", data).status_code for _ in range(free + 2)]
    assert statuses == [400] * (free + 1) + [429]
    # Even the right password now waits, and nothing was sent.
    response = thief.post("/mon-compte/coordonnees/valider/", {**data, "current_password": family.responsible.password})
    assert response.status_code == 429 and "Trop de tentatives. Réessayez dans" in response.content.decode()
    assert not [m for m in mail.outbox if m.to == ["voleur@example.org"]]
    failures = JournalEntry.objects.filter(action="reauth.failure", subject_person=family.responsible.person)
    assert failures.count() == free + 1 and failures.first().detail == {"purpose": "contact_change"}
    assert JournalEntry.objects.filter(action="reauth.throttled").count() == 2


def test_an_account_without_validated_contact_is_held_at_the_validation_whatever_its_session(newcomer):
    """The rule is the account's (moncompte.accounts.services.account_usable), not a session flag."""
    from moncompte.accounts.models import Account

    client = _new_account_client(newcomer)
    assert client.get("/mon-compte/")["Location"] == "/mon-compte/coordonnees/valider/"
    # A session flag planted or left over grants nothing.
    session = client.session
    session["moncompte_contact_ok"] = True
    session.save()
    assert client.get("/mon-compte/")["Location"] == "/mon-compte/coordonnees/valider/"
    assert client.get("/mon-compte/appareils/")["Location"] == "/mon-compte/coordonnees/valider/"
    raw = newcomer.responsible.identifier
    assert Account.objects.get(person=person_of(raw)).contact_validated_at is None
    # Once a contact is validated, every page opens, in this session and in the others.
    other = Client()
    assert sign_in(other, raw, PASSWORD).status_code == 302
    client.post(
        "/mon-compte/coordonnees/valider/", {"action": "envoyer", "channel": "email", "email": "julien@example.fr"}
    )
    client.post("/mon-compte/coordonnees/valider/", {"action": "valider", "code": _last_code()})
    assert client.get("/mon-compte/").status_code == 200
    assert other.get("/mon-compte/").status_code == 200
