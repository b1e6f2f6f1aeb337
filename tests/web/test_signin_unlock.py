"""Signing in with a code when strangers keep an identifier throttled (issue 8, point 4;
moncompte.accounts.unlock, moncompte.web.signin.views).

The patient attacker of issue 8 keeps a known person's identifier counter at its cap with one
wrong password every few minutes, from addresses of their own: every new browser of the person
then waits 15 minutes, for as long as the attack lasts. Here the person's new browser gets in at
once with their password and a code sent to their validated contacts; a stranger cannot, and
nothing in the answers tells whether the identifier exists, has contacts, or whether the password
was right.
"""

import html
import json
import logging
import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from moncompte.accounts import throttling
from moncompte.accounts.models import Account, AccountSession
from moncompte.accounts.throttling import DEVICE_COOKIE_NAME
from moncompte.accounts.unlock import UNLOCK_PURPOSE
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor
from moncompte.identity.identifiers import nir_key, parse_identifier
from moncompte.identity.protection import identifier_digest
from moncompte.identity.services import person_rekey
from moncompte.notifications.models import OutboxEntry
from moncompte.verification.models import ContactChallenge
from tests.conftest import person_of, sign_in
from tests.factories import AccountFactory, ContactFactory, PersonFactory, nir_for, typed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

SIGNIN = "/connexion/"
UNLOCK = "/connexion/code/"
CODE = "/connexion/code/saisie/"
HOME = "/mon-compte/"

WRONG_PASSWORD = "Pas le bon 2021 du tout"
# A well-formed NIR that nobody holds (commune 75001 is none of the factories' birth places).
UNKNOWN = "1 80 01 75 001 001 " + nir_key("1800175001001")
NEUTRAL = "Si un compte correspond à ces identifiants, un code vient d'être envoyé à ses coordonnées validées"
OFFER = "Se connecter sans attendre"

PERSON_ADDRESS = "198.51.100.7"
ATTACKER_ADDRESSES = [f"203.0.113.{n}" for n in range(1, 21)]


@pytest.fixture(autouse=True)
def _fast(settings):
    # The minimum duration of an unlock request is a floor for timing, not what these tests check.
    settings.MONCOMPTE_SIGNIN_UNLOCK_MIN_SECONDS = 0


@pytest.fixture
def holder(db):
    """An account with two validated contacts, an email and a phone: a code goes to each."""
    account = AccountFactory()
    ContactFactory(account=account, phone=True)
    return account


def email_of(account: Account) -> str:
    return account.contacts.get(kind="email").value


def phone_of(account: Account) -> str:
    return account.contacts.get(kind="phone").value


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


def _normalized(response, *typed_identifiers: str) -> str:
    """The page without what changes at every answer (CSRF token, CSP nonce) nor the identifier
    as typed (the sign-in page shows it back)."""
    body = response.content.decode()
    for raw in typed_identifiers:
        body = body.replace(raw, "IDENTIFIANT")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value=""', body)
    return re.sub(r'nonce="[^"]+"', 'nonce=""', body)


def _patient_attacker(raw_identifier: str, failures: int = 20) -> None:
    """The attacker's wrong passwords over the last hours, from addresses of their own, each one
    counted as the sign-in counts it: the identifier's counter at its cap (15 minutes)."""
    digest = identifier_digest(parse_identifier(raw_identifier).value)
    for n in range(failures):
        address = ATTACKER_ADDRESSES[n % len(ATTACKER_ADDRESSES)]
        throttling.signin_failed(identifier_digest=digest, address=address)
    assert throttling.signin_wait(identifier_digest=digest, address="192.0.2.1") >= 15 * 60 - 1


def _request(client: Client, raw: str, password: str):
    return client.post(UNLOCK, {"identifier": raw, "password": password})


def _open_sessions(account: Account) -> list[str]:
    sessions = AccountSession.objects.filter(account=account, ended_at__isnull=True)
    return list(sessions.values_list("session_key", flat=True))


# The patient attacker and the real person ------------------------------------------------------


def test_under_a_patient_attack_the_person_signs_in_from_a_new_browser_with_a_code(holder):
    raw, password = holder.person.raw_identifier, holder.raw_password
    _patient_attacker(raw)

    browser = Client(REMOTE_ADDR=PERSON_ADDRESS)  # a new browser: no device cookie
    blocked = sign_in(browser, raw, password)
    assert blocked.status_code == 429
    page = blocked.content.decode()
    assert "Trop de tentatives de connexion. Réessayez dans 15 minutes." in page
    assert OFFER in page and 'action="/connexion/code/"' in page

    # The offer carries the identifier to the code sign-in; the password is typed again there.
    start = browser.post(UNLOCK, {"depuis_connexion": "1", "identifier": raw})
    assert start.status_code == 200
    assert f'value="{raw}"' in start.content.decode()
    assert not ContactChallenge.objects.exists()  # nothing sent before the password

    response = _request(browser, raw, password)
    assert response.status_code == 302 and response["Location"] == CODE
    code_page = browser.get(CODE).content.decode()
    assert NEUTRAL in code_page
    # Nothing about the account on the way: no masked address, no masked number.
    assert "•" not in code_page

    response = browser.post(CODE, {"code": _email_code(email_of(holder))})
    assert response.status_code == 302 and response["Location"] == HOME
    assert DEVICE_COOKIE_NAME in response.cookies  # this browser now has its own counter
    home = browser.get(HOME)
    assert home.status_code == 200
    assert _open_sessions(holder) == [browser.cookies[settings.SESSION_COOKIE_NAME].value]
    assert JournalEntry.objects.filter(action="signin_unlock.success", actor_person=holder.person).exists()

    # The attack goes on; this browser, now known, signs in with the password alone.
    browser.post("/deconnexion/")
    _patient_attacker(raw, failures=5)
    assert sign_in(browser, raw, password)["Location"] == HOME
    # Every other new browser still waits: the unlock cleared nothing for strangers.
    assert sign_in(Client(REMOTE_ADDR="192.0.2.44"), raw, password).status_code == 429


def test_the_sms_code_works_too_and_a_code_serves_once(holder):
    raw, password = holder.person.raw_identifier, holder.raw_password
    _patient_attacker(raw)
    browser = Client(REMOTE_ADDR=PERSON_ADDRESS)
    _request(browser, raw, password)
    email_code, sms_code = _email_code(email_of(holder)), _sms_code(phone_of(holder))
    assert browser.post(CODE, {"code": sms_code})["Location"] == HOME
    # Used: the flow is over, and another browser cannot reuse either code.
    other = Client()
    _request(other, UNKNOWN, WRONG_PASSWORD)
    for code in (email_code, sms_code):
        assert other.post(CODE, {"code": code}).status_code == 400
    assert len(_open_sessions(holder)) == 1


def test_a_stranger_with_the_identifier_but_not_the_password_gets_no_code_and_no_session(holder):
    raw = holder.person.raw_identifier
    _patient_attacker(raw)
    stranger = Client(REMOTE_ADDR=ATTACKER_ADDRESSES[0])
    response = _request(stranger, raw, WRONG_PASSWORD)
    # The same answer as for the right password...
    assert response.status_code == 302 and response["Location"] == CODE
    assert NEUTRAL in stranger.get(CODE).content.decode()
    # ...but nothing was sent: the person is not flooded, their codes' hourly cap is not spent.
    assert mail.outbox == [] and not OutboxEntry.objects.exists()
    assert not ContactChallenge.objects.exclude(destination="").exists()
    for guess in ("000000", "123456", "999999", "424242", "314159"):
        assert stranger.post(CODE, {"code": guess}).status_code == 400
    assert "Vous avez saisi 5 codes incorrects" in stranger.post(CODE, {"code": "271828"}).content.decode()
    assert not AccountSession.objects.exists()
    assert DEVICE_COOKIE_NAME not in stranger.cookies


def test_a_stranger_who_knows_the_password_still_needs_the_code(holder):
    """A leaked password is not enough: the code goes to the person, who is warned by it."""
    raw, password = holder.person.raw_identifier, holder.raw_password
    _patient_attacker(raw)
    stranger = Client(REMOTE_ADDR=ATTACKER_ADDRESSES[0])
    assert _request(stranger, raw, password)["Location"] == CODE
    right = [_email_code(email_of(holder)), _sms_code(phone_of(holder))]
    wrong = _wrong(*right)
    for _ in range(5):
        assert stranger.post(CODE, {"code": wrong}).status_code == 400
    # After 5 wrong codes, even the right one is refused: a new request (and a new code) is needed.
    response = stranger.post(CODE, {"code": right[0]})
    assert response.status_code == 400 and "Demandez un nouveau code" in response.content.decode()
    assert not AccountSession.objects.exists()


# Nothing tells ---------------------------------------------------------------------------------


def test_every_identifier_gets_the_same_pages_whatever_it_is_or_has(holder):
    """Known with the right password, known with a wrong one, unknown, a person without
    account, an account without validated contact: the same answers, step after step."""
    without_account = PersonFactory().raw_identifier
    without_contact = AccountFactory(with_contact=False)
    cases = {
        "right-password": (holder.person.raw_identifier, holder.raw_password),
        "wrong-password": (holder.person.raw_identifier, WRONG_PASSWORD),
        "unknown": (UNKNOWN, WRONG_PASSWORD),
        "without-account": (without_account, WRONG_PASSWORD),
        "without-contact": (without_contact.person.raw_identifier, without_contact.raw_password),
    }
    pages = {}
    wrong = None
    for n, (name, (raw, password)) in enumerate(cases.items()):
        _patient_attacker(raw)
        client = Client(REMOTE_ADDR=f"198.51.100.{10 + n}")  # each its own address counter
        throttled = sign_in(client, raw, password)
        offer = client.post(UNLOCK, {"depuis_connexion": "1", "identifier": raw})
        response = _request(client, raw, password)
        first = (response.status_code, response["Location"])
        code_page = _normalized(client.get(CODE))
        if wrong is None:  # a code that is none of the holder's, typed for everyone
            wrong = _wrong(_email_code(email_of(holder)), _sms_code(phone_of(holder)))
        response = client.post(CODE, {"code": wrong})
        after_wrong = (response.status_code, _normalized(response))
        for _ in range(4):
            response = client.post(CODE, {"code": wrong})
        exhausted = (response.status_code, _normalized(response))
        pages[name] = (
            (throttled.status_code, _normalized(throttled, raw)),
            (offer.status_code, _normalized(offer, raw)),
            first,
            code_page,
            after_wrong,
            exhausted,
        )
    known = pages.pop("right-password")
    assert known[0][0] == 429 and OFFER in known[0][1]
    assert known[2] == (302, CODE)
    assert "Le code saisi est incorrect. Il vous reste 4 essais." in known[4][1]
    assert "Vous avez saisi 5 codes incorrects" in known[5][1]
    for name, other in pages.items():
        assert other == known, name


def test_a_destination_that_got_too_many_codes_gets_a_decoy_and_the_answer_does_not_tell(holder, settings):
    settings.MONCOMPTE_CODE_MAX_SENDS_PER_DESTINATION_PER_HOUR = 2
    raw, password = holder.person.raw_identifier, holder.raw_password
    browser = Client(REMOTE_ADDR=PERSON_ADDRESS)
    for _ in range(2):
        assert _request(browser, raw, password)["Location"] == CODE
    sent = len(mail.outbox)
    assert sent == 2
    response = _request(browser, raw, password)
    assert response.status_code == 302 and response["Location"] == CODE
    assert len(mail.outbox) == sent  # the cap held: nothing more to that address this hour
    entry = JournalEntry.objects.filter(action="signin_unlock.request").order_by("-id").first()
    assert entry.detail["refused"] == 2 and entry.detail["sent"] == 0
    # The earlier code belongs to an earlier flow: not this one's.
    assert browser.post(CODE, {"code": _email_code(email_of(holder))}).status_code == 400


# Limits ---------------------------------------------------------------------------------------


def test_requests_are_limited_per_address_alike_for_every_identifier(holder, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 3
    sprayer = Client(REMOTE_ADDR=ATTACKER_ADDRESSES[0])
    for raw in (UNKNOWN, PersonFactory().raw_identifier, holder.person.raw_identifier, UNKNOWN):
        assert _request(sprayer, raw, WRONG_PASSWORD).status_code == 302
    # The fifth request waits, known identifier and right password included, and sends nothing.
    blocked = _request(sprayer, holder.person.raw_identifier, holder.raw_password)
    assert blocked.status_code == 429
    assert "Trop de demandes depuis votre connexion" in blocked.content.decode()
    assert mail.outbox == []
    unknown = _request(sprayer, UNKNOWN, WRONG_PASSWORD)
    assert unknown.status_code == 429
    assert _normalized(unknown, UNKNOWN) == _normalized(blocked, holder.person.raw_identifier)
    # Another address is not concerned: the limit is the sprayer's, not the person's.
    assert (
        _request(Client(REMOTE_ADDR=PERSON_ADDRESS), holder.person.raw_identifier, holder.raw_password)["Location"]
        == CODE
    )
    assert JournalEntry.objects.filter(action="signin_unlock.throttled").exists()


def test_strangers_requests_on_the_identifier_never_block_the_persons_unlock(holder):
    """Nothing of the unlock is counted per identifier: a stranger's requests from many
    addresses (wrong passwords, wrong codes) leave the person's own request and code intact."""
    raw, password = holder.person.raw_identifier, holder.raw_password
    _patient_attacker(raw)
    for n in range(40):
        stranger = Client(REMOTE_ADDR=ATTACKER_ADDRESSES[n % len(ATTACKER_ADDRESSES)])
        assert _request(stranger, raw, WRONG_PASSWORD)["Location"] == CODE
        stranger.post(CODE, {"code": "000000"})
    browser = Client(REMOTE_ADDR=PERSON_ADDRESS)
    assert _request(browser, raw, password)["Location"] == CODE
    assert browser.post(CODE, {"code": _email_code(email_of(holder))})["Location"] == HOME


def test_wrong_codes_count_on_the_address_too(holder, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 3
    raw, password = holder.person.raw_identifier, holder.raw_password
    browser = Client(REMOTE_ADDR=ATTACKER_ADDRESSES[0])
    _request(browser, raw, password)  # 1 on the address
    right = _email_code(email_of(holder))
    wrong = _wrong(right, _sms_code(phone_of(holder)))
    for _ in range(3):  # 4 on the address
        assert browser.post(CODE, {"code": wrong}).status_code == 400
    response = browser.post(CODE, {"code": right})
    assert response.status_code == 429
    assert not AccountSession.objects.exists()


def test_after_the_unlock_the_browser_still_has_only_a_few_free_guesses(holder, settings):
    """No free guesses: the device token gives this browser its own counter, not an unlimited one."""
    raw, password = holder.person.raw_identifier, holder.raw_password
    _patient_attacker(raw)
    browser = Client(REMOTE_ADDR=PERSON_ADDRESS)
    _request(browser, raw, password)
    assert browser.post(CODE, {"code": _email_code(email_of(holder))})["Location"] == HOME
    browser.post("/deconnexion/")
    for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER + 1):
        assert sign_in(browser, raw, WRONG_PASSWORD).status_code == 401
    assert sign_in(browser, raw, password).status_code == 429


def test_a_password_changed_after_the_request_makes_the_code_worthless(holder):
    raw, password = holder.person.raw_identifier, holder.raw_password
    browser = Client(REMOTE_ADDR=PERSON_ADDRESS)
    _request(browser, raw, password)
    account = Account.objects.get(pk=holder.pk)
    account.set_password("Une toute autre phrase 2024")
    account.save(update_fields=["password"])
    response = browser.post(CODE, {"code": _email_code(email_of(holder))})
    assert response.status_code == 400
    assert "Ce code n'est plus valable" in html.unescape(response.content.decode())
    assert not AccountSession.objects.exists()


def test_steps_cannot_be_skipped_and_a_signed_in_person_goes_home(holder):
    client = Client()
    assert client.get(CODE)["Location"] == UNLOCK
    assert client.post(CODE, {"code": "123456"})["Location"] == UNLOCK
    sign_in(client, holder.person.raw_identifier, holder.raw_password)
    assert client.get(UNLOCK)["Location"] == HOME
    assert client.get(CODE)["Location"] == HOME


def test_the_pages_are_french_accessible_and_work_without_javascript(holder):
    client = Client()
    page = client.get(UNLOCK).content.decode()
    assert '<label class="fr-label" for="id_identifier">' in page
    assert '<label class="fr-label" for="id_password">' in page
    assert 'method="post" action="/connexion/code/"' in page  # a plain form: no script needed
    # A form error: the summary at the top, each message linked to its field.
    response = client.post(UNLOCK, {"identifier": "2 85 05", "password": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'role="alert"' in body and 'href="#id_identifier"' in body and 'href="#id_password"' in body
    assert 'aria-invalid="true"' in body and "Saisissez votre mot de passe." in body
    _request(client, UNKNOWN, WRONG_PASSWORD)
    wrong = client.post(CODE, {"code": "000000"}).content.decode()
    assert 'href="#id_code"' in wrong and "Le code saisi est incorrect" in wrong


def test_next_is_followed_through_the_code_sign_in(holder):
    raw, password = holder.person.raw_identifier, holder.raw_password
    _patient_attacker(raw)
    browser = Client(REMOTE_ADDR=PERSON_ADDRESS)
    blocked = browser.post(SIGNIN + "?next=/mon-compte/appareils/", {"identifier": raw, "password": password})
    assert 'name="next" value="/mon-compte/appareils/"' in blocked.content.decode()
    browser.post(UNLOCK, {"identifier": raw, "password": password, "next": "/mon-compte/appareils/"})
    response = browser.post(CODE, {"code": _email_code(email_of(holder))})
    assert response["Location"] == "/mon-compte/appareils/"


def test_a_former_identifier_learns_the_new_one_and_is_not_signed_in():
    account = AccountFactory(person=PersonFactory(nnp=True))
    person = account.person
    former = person.raw_identifier
    new_nir = typed(nir_for(sex=person.sex, birth_date=person.birth_date, birth_place_code="99350"))
    person_rekey(actor=Actor.system(), person=person_of(former), new_identifier=parse_identifier(new_nir))
    browser = Client()
    _request(browser, former, account.raw_password)
    response = browser.post(CODE, {"code": _email_code(email_of(account))})
    assert response["Location"] == SIGNIN
    assert new_nir in browser.get(SIGNIN).content.decode()
    assert not AccountSession.objects.exists()


def test_no_code_or_password_in_the_journal_or_the_logs(holder, caplog):
    caplog.set_level(logging.DEBUG)
    raw, password = holder.person.raw_identifier, holder.raw_password
    _patient_attacker(raw)
    browser = Client(REMOTE_ADDR=PERSON_ADDRESS)
    sign_in(browser, raw, password)
    _request(browser, raw, WRONG_PASSWORD)
    _request(browser, raw, password)
    codes = [_email_code(email_of(holder)), _sms_code(phone_of(holder))]
    wrong = _wrong(*codes)
    browser.post(CODE, {"code": wrong})
    browser.post(CODE, {"code": codes[0]})
    journal = json.dumps(list(JournalEntry.objects.values("action", "detail")), ensure_ascii=False)
    for action in ("signin_unlock.request", "signin_unlock.failure", "signin_unlock.success"):
        assert action in journal
    for secret in [*codes, wrong, password, WRONG_PASSWORD, raw, parse_identifier(raw).value]:
        assert secret not in journal
        assert secret not in caplog.text
    assert ContactChallenge.objects.filter(purpose=UNLOCK_PURPOSE).exists()


def test_no_input_of_the_code_sign_in_reaches_a_500(holder):
    from hypothesis import given
    from hypothesis import settings as hypothesis_settings
    from hypothesis import strategies as st

    raw, password = holder.person.raw_identifier, holder.raw_password
    client = Client(REMOTE_ADDR=PERSON_ADDRESS, raise_request_exception=False)
    _request(client, raw, password)

    @hypothesis_settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(code=st.text(max_size=40), identifier=st.text(max_size=50), secret=st.text(max_size=50))
    def check(code, identifier, secret):
        assert client.post(CODE, {"code": code}).status_code < 500
        answer = client.post(UNLOCK, {"identifier": identifier, "password": secret, "next": identifier})
        assert answer.status_code < 500
        offer = client.post(UNLOCK, {"depuis_connexion": secret, "identifier": identifier * 3})
        assert offer.status_code < 500

    check()
