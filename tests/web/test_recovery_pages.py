"""Pages of the password reset (/mot-de-passe-oublie/) and of the password change."""

import json
import logging
import re
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import F
from django.test import Client

from moncompte.accounts.models import Account, AccountSession, ThrottleCounter
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor
from moncompte.identity.identifiers import new_provisional_identifier, nir_key, parse_identifier
from moncompte.identity.services import person_rekey
from moncompte.notifications.models import Message, OutboxEntry
from moncompte.verification.models import ContactChallenge
from tests.conftest import person_of, sign_in
from tests.factories import AccountFactory, ContactFactory, PersonFactory, nir_for, typed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

RESET = "/mot-de-passe-oublie/"
CODE = "/mot-de-passe-oublie/code/"
NEW = "/mot-de-passe-oublie/nouveau/"
CHANGE = "/mon-compte/mot-de-passe/"

NEW_PASSWORD = "Marronniers et 41 pivoines"
# A well-formed NIR that nobody holds (commune 75001 is none of the factories' birth places).
UNKNOWN = "1 80 01 75 001 001 " + nir_key("1800175001001")
NEUTRAL = "Si un compte existe pour ce numéro, un code vient d'être envoyé à ses coordonnées validées"


@pytest.fixture(autouse=True)
def _fast(settings):
    # The minimum duration of a reset request has its own test below.
    settings.MONCOMPTE_PASSWORD_RESET_MIN_SECONDS = 0


def _email_code(address: str) -> str:
    bodies = [m.body for m in mail.outbox if m.to == [address]]
    assert bodies, f"no email to {address}"
    return re.search(r"\b(\d{6})\b", bodies[-1]).group(1)


def _sms_code(number: str) -> str:
    entry = OutboxEntry.objects.filter(recipient=number).order_by("-id").first()
    assert entry is not None, f"no SMS to {number}"
    return re.search(r"\b(\d{6})\b", entry.get_body()).group(1)


def _wrong(*codes: str) -> str:
    return next(c for c in ("000000", "111111", "222222") if c not in codes)


def _normalized(response) -> str:
    """The page without what changes at every answer: CSRF token and CSP nonce."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', body)
    return re.sub(r'nonce="[^"]+"', 'nonce=""', body)


def _request(client: Client, identifier: str):
    return client.post(RESET, {"identifier": identifier})


@pytest.fixture
def holder(db):
    """An account with two validated contacts, an email and a phone: a code goes to each."""
    account = AccountFactory()
    ContactFactory(account=account, phone=True)
    return account


@pytest.fixture
def one_contact(db):
    """An account with one validated contact, an email."""
    return AccountFactory()


@pytest.fixture
def without_account(db):
    """The identifier, as typed, of a person who exists but has no account."""
    return PersonFactory().raw_identifier


def email_of(account: Account) -> str:
    return account.contacts.get(kind="email").value


def phone_of(account: Account) -> str:
    return account.contacts.get(kind="phone").value


def credentials(account: Account) -> tuple[str, str]:
    return account.person.raw_identifier, account.raw_password


# Reset ------------------------------------------------------------------------------------------


def test_a_holder_resets_by_email_and_an_older_session_is_signed_out(holder):
    older = Client()
    sign_in(older, *credentials(holder))
    older_key = older.session.session_key
    assert older.get("/mon-compte/").status_code == 200

    client = Client()
    assert "Mot de passe oublié ?" in client.get("/connexion/").content.decode()
    response = _request(client, holder.person.raw_identifier)
    assert response.status_code == 302 and response["Location"] == CODE
    page = client.get(CODE).content.decode()
    assert NEUTRAL in page
    email, phone = email_of(holder), phone_of(holder)
    masked_email, masked_phone = f"{email[0]}•••@e•••.fr", f"0{phone[3]} •• •• •• {phone[-2:]}"
    # Nothing about the account before the code is proven: no masked address, no masked number.
    assert masked_email not in page and "•• ••" not in page

    response = client.post(CODE, {"code": _email_code(email)})
    assert response.status_code == 302 and response["Location"] == NEW
    page = client.get(NEW).content.decode()
    assert masked_email in page and masked_phone in page

    response = client.post(NEW, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/connexion/"
    assert "Votre mot de passe a été modifié" in client.get("/connexion/").content.decode()
    # Not signed in by the reset.
    assert client.get("/mon-compte/").status_code == 302

    assert older.get("/mon-compte/").status_code == 302
    assert AccountSession.objects.get(session_key=older_key).end_reason == "password_reset"
    assert sign_in(client, holder.person.raw_identifier, holder.raw_password).status_code == 401
    assert sign_in(client, holder.person.raw_identifier, NEW_PASSWORD)["Location"] == "/mon-compte/"
    assert client.get("/mon-compte/").status_code == 200

    # Told by email and by SMS.
    notices = [m for m in mail.outbox if m.subject == "Le mot de passe de votre compte a été modifié"]
    assert [m.to for m in notices] == [[email_of(holder)]]
    assert "a été modifié" in OutboxEntry.objects.filter(recipient=phone_of(holder)).order_by("-id").first().get_body()


def test_the_sms_code_works_too(holder):
    client = Client()
    _request(client, holder.person.raw_identifier)
    response = client.post(CODE, {"code": _sms_code(phone_of(holder))})
    assert response["Location"] == NEW


def test_one_code_per_channel_and_each_is_single_use(holder):
    client = Client()
    _request(client, holder.person.raw_identifier)
    email_code, sms_code = _email_code(email_of(holder)), _sms_code(phone_of(holder))
    assert ContactChallenge.objects.filter(purpose="password_reset").exclude(destination="").count() == 2
    client.post(CODE, {"code": email_code})
    # The code step is over: going back to it starts again.
    assert client.post(CODE, {"code": sms_code})["Location"] == RESET
    assert client.get(NEW).status_code == 200


def test_unknown_identifiers_get_the_same_pages_as_a_real_account(holder, without_account):
    unknown_provisional = new_provisional_identifier().display()
    pages = {}
    wrong = None
    for who in (holder.person.raw_identifier, UNKNOWN, without_account, unknown_provisional):
        client = Client()
        response = _request(client, who)
        first = (response.status_code, response["Location"])
        code_page = _normalized(client.get(CODE))
        if wrong is None:  # the holder's: a code that is neither of theirs, then typed for everyone
            wrong = _wrong(_email_code(email_of(holder)), _sms_code(phone_of(holder)))
        response = client.post(CODE, {"code": wrong})
        after_wrong = (response.status_code, _normalized(response))
        for _ in range(4):
            response = client.post(CODE, {"code": wrong})
        exhausted = (response.status_code, _normalized(response))
        pages[who] = (first, code_page, after_wrong, exhausted)
    known = pages.pop(holder.person.raw_identifier)
    assert known[0] == (302, CODE)
    assert "Le code saisi est incorrect. Il vous reste 4 essais." in known[2][1]
    assert "Vous avez saisi 5 codes incorrects" in known[3][1]
    for who, other in pages.items():
        assert other == known, who


def test_an_account_with_one_contact_gets_the_same_pages(holder, one_contact):
    single, both = Client(), Client()
    _request(single, one_contact.person.raw_identifier)
    _request(both, holder.person.raw_identifier)
    assert _normalized(single.get(CODE)) == _normalized(both.get(CODE))
    codes = [_email_code(email_of(holder)), _sms_code(phone_of(holder)), _email_code(email_of(one_contact))]
    wrong = _wrong(*codes)
    assert _normalized(single.post(CODE, {"code": wrong})) == _normalized(both.post(CODE, {"code": wrong}))
    assert single.post(CODE, {"code": _email_code(email_of(one_contact))})["Location"] == NEW


def test_an_expired_code_is_refused_the_same_way_for_everyone(holder):
    pages = []
    for who in (holder.person.raw_identifier, UNKNOWN):
        client = Client()
        _request(client, who)
        ContactChallenge.objects.update(expires_at=ContactChallenge.objects.first().created_at)
        response = client.post(CODE, {"code": "123456"})
        assert response.status_code == 400
        assert "Ce code a expiré." in response.content.decode()
        pages.append(_normalized(response))
    assert pages[0] == pages[1]


def test_after_five_wrong_codes_the_right_one_no_longer_works(holder):
    client = Client()
    _request(client, holder.person.raw_identifier)
    right = _email_code(email_of(holder))
    wrong = _wrong(right, _sms_code(phone_of(holder)))
    for _ in range(5):
        client.post(CODE, {"code": wrong})
    # The request and the 5 wrong codes counted on the identifier: the next try waits a second.
    response = client.post(CODE, {"code": right})
    assert response.status_code == 429
    assert "Réessayez dans 1 seconde" in response.content.decode()
    # The second has passed.
    ThrottleCounter.objects.update(last_failure_at=F("last_failure_at") - timedelta(seconds=2))
    response = client.post(CODE, {"code": right})
    assert response.status_code == 400
    assert "Demandez un nouveau code" in response.content.decode()
    assert client.get(NEW)["Location"] == RESET


def test_a_new_request_gives_a_new_code_and_kills_nothing_else(holder):
    client = Client()
    _request(client, holder.person.raw_identifier)
    first = _email_code(email_of(holder))
    _request(client, holder.person.raw_identifier)
    second = _email_code(email_of(holder))
    if first != second:
        assert client.post(CODE, {"code": first}).status_code == 400
    assert client.post(CODE, {"code": second})["Location"] == NEW


def test_weak_password_is_refused_with_its_reasons_and_nothing_changes():
    holder = AccountFactory(person=PersonFactory(first_names="Claire Anne", sex="F"))
    weak = f"claire{holder.person.birth_date.year}"  # too short, and her first name
    older = Client()
    assert sign_in(older, *credentials(holder)).status_code == 302
    client = Client()
    _request(client, holder.person.raw_identifier)
    client.post(CODE, {"code": _email_code(email_of(holder))})
    before = Account.objects.get(person=person_of(holder.person.raw_identifier)).password
    sent_before = Message.objects.count()
    response = client.post(NEW, {"password": weak, "password_confirm": weak})
    body = response.content.decode()
    assert response.status_code == 400
    assert "au moins 12 caractères" in body
    assert "ni vos prénoms ni vos noms" in body
    response = client.post(NEW, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x"})
    assert "Les deux mots de passe ne sont pas identiques." in response.content.decode()
    assert Account.objects.get(person=person_of(holder.person.raw_identifier)).password == before
    assert Message.objects.count() == sent_before
    assert older.get("/mon-compte/").status_code == 200


def test_steps_cannot_be_skipped(holder):
    client = Client()
    assert client.get(CODE)["Location"] == RESET
    assert client.get(NEW)["Location"] == RESET
    _request(client, UNKNOWN)
    assert client.get(NEW)["Location"] == RESET


def test_a_malformed_identifier_gets_the_usual_french_message(holder):
    raw = holder.person.raw_identifier
    wrong_key = f"{int(raw[-2:]) % 97 + 1:02d}"  # any key but the right one
    response = Client().post(RESET, {"identifier": raw[:-2] + wrong_key})
    assert response.status_code == 400
    assert "clé" in response.content.decode()


def test_requests_are_throttled_per_identifier_alike_for_known_and_unknown(holder, one_contact):
    answers = {}
    for who in (holder.person.raw_identifier, UNKNOWN):
        client = Client()
        statuses = [_request(client, who).status_code for _ in range(7)]
        answers[who] = statuses
    assert answers[holder.person.raw_identifier] == answers[UNKNOWN] == [302] * 6 + [429]
    response = _request(Client(), UNKNOWN)
    assert "Trop de demandes" in response.content.decode()
    # Another identifier from the same address is not concerned.
    assert _request(Client(), one_contact.person.raw_identifier).status_code == 302


def test_requests_are_throttled_per_address(holder, one_contact, without_account, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    identifiers = (holder.person.raw_identifier, one_contact.person.raw_identifier, without_account, UNKNOWN)
    assert [_request(client, who).status_code for who in identifiers] == [302, 302, 302, 429]
    assert _request(Client(REMOTE_ADDR="203.0.113.10"), UNKNOWN).status_code == 302


def test_a_reset_request_answers_known_and_unknown_identifiers_after_the_same_time(holder, settings, monkeypatch):
    """Outcome, not wall time: the view's clock is simulated. The real account's request does
    more work (its codes and messages) than the unknown one's (decoys); both answers leave at the
    same minimum duration, with the same page, the same rows and the same journal entry."""
    from moncompte.web.recovery import views

    settings.MONCOMPTE_PASSWORD_RESET_MIN_SECONDS = 0.2
    clock = {"now": 1000.0}
    slept = []

    class Clock:
        time = staticmethod(time.time)

        @staticmethod
        def monotonic():
            return clock["now"]

        @staticmethod
        def sleep(seconds):
            slept.append(seconds)
            clock["now"] += seconds

    real_request = views.password_reset_request

    def working(**kwargs):
        result = real_request(**kwargs)
        clock["now"] += 0.15 if result.account_id else 0.01  # the real account's extra work
        return result

    from moncompte.web import flows

    monkeypatch.setattr(views, "time", Clock)
    monkeypatch.setattr(flows, "time", Clock)  # the wait itself (flows.answer_no_sooner)
    monkeypatch.setattr(views, "password_reset_request", working)
    outcomes = []
    for who in (holder.person.raw_identifier, UNKNOWN):
        started = clock["now"]
        challenges, entries = ContactChallenge.objects.count(), JournalEntry.objects.count()
        response = _request(Client(), who)
        outcomes.append(
            (
                round(clock["now"] - started, 6),
                response.status_code,
                response["Location"],
                ContactChallenge.objects.count() - challenges,
                JournalEntry.objects.count() - entries,
                JournalEntry.objects.order_by("-id").first().action,
            )
        )
    assert outcomes[0] == outcomes[1] == (0.2, 302, CODE, 2, 1, "password_reset.request")
    assert len(slept) == 2


def test_a_signed_in_person_is_sent_to_the_change_page(client, holder):
    sign_in(client, *credentials(holder))
    assert client.get(RESET)["Location"] == CHANGE


def test_a_former_identifier_resets_and_learns_the_new_one():
    account = AccountFactory(person=PersonFactory(nnp=True))
    person = account.person
    former = person.raw_identifier
    # Born abroad (commune 99350), as the NNP holder's NIR often is once it is issued.
    new_nir = typed(nir_for(sex=person.sex, birth_date=person.birth_date, birth_place_code="99350"))
    person_rekey(actor=Actor.system(), person=person_of(former), new_identifier=parse_identifier(new_nir))
    client = Client()
    _request(client, former)
    client.post(CODE, {"code": _email_code(email_of(account))})
    client.post(NEW, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert new_nir in client.get("/connexion/").content.decode()
    assert sign_in(client, new_nir, NEW_PASSWORD)["Location"] == "/mon-compte/"


# Change -----------------------------------------------------------------------------------------


def test_home_links_to_the_change_page(client, holder):
    sign_in(client, *credentials(holder))
    assert f'href="{CHANGE}"' in client.get("/mon-compte/").content.decode()
    assert client.get(CHANGE).status_code == 200


def test_change_needs_the_current_password(client, holder):
    sign_in(client, *credentials(holder))
    before = Account.objects.get(person=person_of(holder.person.raw_identifier)).password
    response = client.post(CHANGE, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "Saisissez votre mot de passe actuel." in response.content.decode()
    response = client.post(
        CHANGE, {"current_password": "Pas le bon 2021", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert "Votre mot de passe actuel est incorrect." in response.content.decode()
    assert Account.objects.get(person=person_of(holder.person.raw_identifier)).password == before
    assert JournalEntry.objects.filter(action="reauth.failure", detail__purpose="password_change").count() == 1


def test_wrong_current_passwords_are_throttled(client, holder):
    sign_in(client, *credentials(holder))
    data = {"current_password": "Pas le bon 2021", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    statuses = [client.post(CHANGE, data).status_code for _ in range(7)]
    assert statuses == [400] * 6 + [429]
    response = client.post(CHANGE, {**data, "current_password": holder.raw_password})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()


def test_change_ends_the_other_sessions_keeps_this_one_and_tells_the_person(holder):
    laptop, phone = Client(), Client()
    sign_in(laptop, *credentials(holder))
    sign_in(phone, *credentials(holder))
    mail.outbox.clear()
    response = laptop.post(
        CHANGE, {"current_password": holder.raw_password, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/mon-compte/"
    page = laptop.get("/mon-compte/")
    assert page.status_code == 200
    assert "Votre autre session ouverte a été fermée." in page.content.decode()
    assert phone.get("/mon-compte/").status_code == 302
    # This session's record follows its renewed key.
    current = AccountSession.objects.get(session_key=laptop.session.session_key)
    assert current.ended_at is None
    assert laptop.get("/mon-compte/appareils/").content.decode().count("cet appareil") == 1
    assert [m.to for m in mail.outbox] == [[email_of(holder)]]
    assert "modifié" in mail.outbox[0].subject
    assert OutboxEntry.objects.filter(recipient=phone_of(holder)).exists()
    assert sign_in(Client(), holder.person.raw_identifier, NEW_PASSWORD)["Location"] == "/mon-compte/"


def test_change_refuses_a_weak_or_unchanged_password(client, holder):
    sign_in(client, *credentials(holder))
    current, changed = holder.raw_password, holder.raw_password + " 22"
    response = client.post(CHANGE, {"current_password": current, "password": "azerty123", "password_confirm": "x"})
    body = response.content.decode()
    assert response.status_code == 400 and "trop courant" in body
    response = client.post(CHANGE, {"current_password": current, "password": changed, "password_confirm": changed})
    assert response.status_code == 302
    response = client.post(CHANGE, {"current_password": changed, "password": changed, "password_confirm": changed})
    assert "différent de votre mot de passe actuel" in response.content.decode()


# Secrets stay out of the journal and the logs ---------------------------------------------------


def test_no_code_or_password_in_the_journal_or_the_logs(holder, caplog):
    caplog.set_level(logging.DEBUG)
    client = Client()
    _request(client, holder.person.raw_identifier)
    codes = [_email_code(email_of(holder)), _sms_code(phone_of(holder))]
    wrong = _wrong(*codes)
    client.post(CODE, {"code": wrong})
    client.post(CODE, {"code": codes[0]})
    client.post(NEW, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    sign_in(client, holder.person.raw_identifier, NEW_PASSWORD)
    changed = "Autre phrase 2022 bien longue"
    client.post(CHANGE, {"current_password": NEW_PASSWORD, "password": changed, "password_confirm": changed})

    journal = json.dumps(list(JournalEntry.objects.values("action", "detail")), ensure_ascii=False)
    for action in ("password_reset.request", "password_reset.code_failure", "password_reset.code_success"):
        assert action in journal
    assert "password.reset" in journal and "password.change" in journal
    for secret in [*codes, wrong, NEW_PASSWORD, changed, holder.raw_password]:
        assert secret not in journal
        assert secret not in caplog.text
