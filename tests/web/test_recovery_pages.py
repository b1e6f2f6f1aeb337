"""Pages of the password reset (/mot-de-passe-oublie/) and of the password change."""

import json
import logging
import re
import time

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from moncompte.accounts.models import Account, AccountSession
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor
from moncompte.identity.identifiers import new_provisional_identifier, nir_key, parse_identifier
from moncompte.identity.services import person_rekey
from moncompte.notifications.models import Message, OutboxEntry
from moncompte.verification.models import ContactChallenge
from tests.conftest import CLAIRE, MARC, person_of, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

RESET = "/mot-de-passe-oublie/"
CODE = "/mot-de-passe-oublie/code/"
NEW = "/mot-de-passe-oublie/nouveau/"
CHANGE = "/mon-compte/mot-de-passe/"

NEW_PASSWORD = "Marronniers et 41 pivoines"
# A well-formed NIR that nobody holds; Tom exists but has no account; Julien has no account either.
UNKNOWN = "1 80 01 75 001 001 " + nir_key("1800175001001")
TOM = "1 13 07 75 112 045 09"
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


# Reset ------------------------------------------------------------------------------------------


def test_claire_resets_by_email_and_an_older_session_is_signed_out(demo):
    older = Client()
    sign_in(older, *CLAIRE)
    older_key = older.session.session_key
    assert older.get("/mon-compte/").status_code == 200

    client = Client()
    assert "Mot de passe oublié ?" in client.get("/connexion/").content.decode()
    response = _request(client, CLAIRE[0])
    assert response.status_code == 302 and response["Location"] == CODE
    page = client.get(CODE).content.decode()
    assert NEUTRAL in page
    # Nothing about the account before the code is proven: no masked address, no masked number.
    assert "c•••" not in page and "44" not in page

    response = client.post(CODE, {"code": _email_code("claire.martin@example.fr")})
    assert response.status_code == 302 and response["Location"] == NEW
    page = client.get(NEW).content.decode()
    assert "c•••@e•••.fr" in page and "06 •• •• •• 44" in page

    response = client.post(NEW, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/connexion/"
    assert "Votre mot de passe a été modifié" in client.get("/connexion/").content.decode()
    # Not signed in by the reset.
    assert client.get("/mon-compte/").status_code == 302

    assert older.get("/mon-compte/").status_code == 302
    assert AccountSession.objects.get(session_key=older_key).end_reason == "password_reset"
    assert sign_in(client, CLAIRE[0], CLAIRE[1]).status_code == 401
    assert sign_in(client, CLAIRE[0], NEW_PASSWORD)["Location"] == "/mon-compte/"
    assert client.get("/mon-compte/").status_code == 200

    # Told by email and by SMS.
    notices = [m for m in mail.outbox if m.subject == "Le mot de passe de votre compte a été modifié"]
    assert [m.to for m in notices] == [["claire.martin@example.fr"]]
    assert "a été modifié" in OutboxEntry.objects.filter(recipient="+33611223344").order_by("-id").first().get_body()


def test_the_sms_code_works_too(demo):
    client = Client()
    _request(client, CLAIRE[0])
    response = client.post(CODE, {"code": _sms_code("+33611223344")})
    assert response["Location"] == NEW


def test_one_code_per_channel_and_each_is_single_use(demo):
    client = Client()
    _request(client, CLAIRE[0])
    email_code, sms_code = _email_code("claire.martin@example.fr"), _sms_code("+33611223344")
    assert ContactChallenge.objects.filter(purpose="password_reset").exclude(destination="").count() == 2
    client.post(CODE, {"code": email_code})
    # The code step is over: going back to it starts again.
    assert client.post(CODE, {"code": sms_code})["Location"] == RESET
    assert client.get(NEW).status_code == 200


def test_unknown_identifiers_get_the_same_pages_as_a_real_account(demo):
    unknown_provisional = new_provisional_identifier().display()
    pages = {}
    wrong = None
    for who in (CLAIRE[0], UNKNOWN, TOM, unknown_provisional):
        client = Client()
        response = _request(client, who)
        first = (response.status_code, response["Location"])
        code_page = _normalized(client.get(CODE))
        if wrong is None:  # Claire's: a code that is neither of hers, then typed for everyone
            wrong = _wrong(_email_code("claire.martin@example.fr"), _sms_code("+33611223344"))
        response = client.post(CODE, {"code": wrong})
        after_wrong = (response.status_code, _normalized(response))
        for _ in range(4):
            response = client.post(CODE, {"code": wrong})
        exhausted = (response.status_code, _normalized(response))
        pages[who] = (first, code_page, after_wrong, exhausted)
    known = pages.pop(CLAIRE[0])
    assert known[0] == (302, CODE)
    assert "Le code saisi est incorrect. Il vous reste 4 essais." in known[2][1]
    assert "Vous avez saisi 5 codes incorrects" in known[3][1]
    for who, other in pages.items():
        assert other == known, who


def test_an_account_with_one_contact_gets_the_same_pages(demo):
    marc, claire = Client(), Client()
    _request(marc, MARC[0])
    _request(claire, CLAIRE[0])
    assert _normalized(marc.get(CODE)) == _normalized(claire.get(CODE))
    codes = [_email_code("claire.martin@example.fr"), _sms_code("+33611223344"), _email_code("marc.martin@example.fr")]
    wrong = _wrong(*codes)
    assert _normalized(marc.post(CODE, {"code": wrong})) == _normalized(claire.post(CODE, {"code": wrong}))
    assert marc.post(CODE, {"code": _email_code("marc.martin@example.fr")})["Location"] == NEW


def test_an_expired_code_is_refused_the_same_way_for_everyone(demo):
    pages = []
    for who in (CLAIRE[0], UNKNOWN):
        client = Client()
        _request(client, who)
        ContactChallenge.objects.update(expires_at=ContactChallenge.objects.first().created_at)
        response = client.post(CODE, {"code": "123456"})
        assert response.status_code == 400
        assert "Ce code a expiré." in response.content.decode()
        pages.append(_normalized(response))
    assert pages[0] == pages[1]


def test_after_five_wrong_codes_the_right_one_no_longer_works(demo):
    client = Client()
    _request(client, CLAIRE[0])
    right = _email_code("claire.martin@example.fr")
    wrong = _wrong(right, _sms_code("+33611223344"))
    for _ in range(5):
        client.post(CODE, {"code": wrong})
    # The request and the 5 wrong codes counted on the identifier: the next try waits a second.
    response = client.post(CODE, {"code": right})
    assert response.status_code == 429
    assert "Réessayez dans 1 seconde" in response.content.decode()
    cache.clear()  # the second has passed
    response = client.post(CODE, {"code": right})
    assert response.status_code == 400
    assert "Demandez un nouveau code" in response.content.decode()
    assert client.get(NEW)["Location"] == RESET


def test_a_new_request_gives_a_new_code_and_kills_nothing_else(demo):
    client = Client()
    _request(client, CLAIRE[0])
    first = _email_code("claire.martin@example.fr")
    _request(client, CLAIRE[0])
    second = _email_code("claire.martin@example.fr")
    if first != second:
        assert client.post(CODE, {"code": first}).status_code == 400
    assert client.post(CODE, {"code": second})["Location"] == NEW


def test_weak_password_is_refused_with_its_reasons_and_nothing_changes(demo):
    older = Client()
    sign_in(older, *CLAIRE)
    client = Client()
    _request(client, CLAIRE[0])
    client.post(CODE, {"code": _email_code("claire.martin@example.fr")})
    before = Account.objects.get(person=person_of(CLAIRE[0])).password
    sent_before = Message.objects.count()
    response = client.post(NEW, {"password": "claire1985", "password_confirm": "claire1985"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "au moins 12 caractères" in body
    assert "ni vos prénoms ni vos noms" in body
    response = client.post(NEW, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "x"})
    assert "Les deux mots de passe ne sont pas identiques." in response.content.decode()
    assert Account.objects.get(person=person_of(CLAIRE[0])).password == before
    assert Message.objects.count() == sent_before
    assert older.get("/mon-compte/").status_code == 200


def test_steps_cannot_be_skipped(demo):
    client = Client()
    assert client.get(CODE)["Location"] == RESET
    assert client.get(NEW)["Location"] == RESET
    _request(client, UNKNOWN)
    assert client.get(NEW)["Location"] == RESET


def test_a_malformed_identifier_gets_the_usual_french_message(demo):
    response = Client().post(RESET, {"identifier": "2 85 05 75 115 042 96"})
    assert response.status_code == 400
    assert "clé" in response.content.decode()


def test_requests_are_throttled_per_identifier_alike_for_known_and_unknown(demo):
    answers = {}
    for who in (CLAIRE[0], UNKNOWN):
        client = Client()
        statuses = [_request(client, who).status_code for _ in range(7)]
        answers[who] = statuses
    assert answers[CLAIRE[0]] == answers[UNKNOWN] == [302] * 6 + [429]
    response = _request(Client(), UNKNOWN)
    assert "Trop de demandes" in response.content.decode()
    # Another identifier from the same address is not concerned.
    assert _request(Client(), MARC[0]).status_code == 302


def test_requests_are_throttled_per_address(demo, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert [_request(client, who).status_code for who in (CLAIRE[0], MARC[0], TOM, UNKNOWN)] == [302, 302, 302, 429]
    assert _request(Client(REMOTE_ADDR="203.0.113.10"), UNKNOWN).status_code == 302


def test_a_reset_request_answers_known_and_unknown_identifiers_after_the_same_time(demo, settings, monkeypatch):
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

    monkeypatch.setattr(views, "time", Clock)
    monkeypatch.setattr(views, "password_reset_request", working)
    outcomes = []
    for who in (CLAIRE[0], UNKNOWN):
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


def test_a_signed_in_person_is_sent_to_the_change_page(client, demo):
    sign_in(client, *CLAIRE)
    assert client.get(RESET)["Location"] == CHANGE


def test_a_former_identifier_resets_and_learns_the_new_one(demo):
    amadou = "8 17 51 23 456 789 13"
    new_nir = "1 92 08 99 350 012 " + nir_key("1920899350012")
    person_rekey(actor=Actor.system(), person=person_of(amadou), new_identifier=parse_identifier(new_nir))
    client = Client()
    _request(client, amadou)
    client.post(CODE, {"code": _email_code("amadou.diallo@example.fr")})
    client.post(NEW, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert new_nir in client.get("/connexion/").content.decode()
    assert sign_in(client, new_nir, NEW_PASSWORD)["Location"] == "/mon-compte/"


# Change -----------------------------------------------------------------------------------------


def test_home_links_to_the_change_page(client, demo):
    sign_in(client, *CLAIRE)
    assert f'href="{CHANGE}"' in client.get("/mon-compte/").content.decode()
    assert client.get(CHANGE).status_code == 200


def test_change_needs_the_current_password(client, demo):
    sign_in(client, *CLAIRE)
    before = Account.objects.get(person=person_of(CLAIRE[0])).password
    response = client.post(CHANGE, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "Saisissez votre mot de passe actuel." in response.content.decode()
    response = client.post(
        CHANGE, {"current_password": "Pas le bon 2021", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert "Votre mot de passe actuel est incorrect." in response.content.decode()
    assert Account.objects.get(person=person_of(CLAIRE[0])).password == before
    assert JournalEntry.objects.filter(action="reauth.failure", detail__purpose="password_change").count() == 1


def test_wrong_current_passwords_are_throttled(client, demo):
    sign_in(client, *CLAIRE)
    data = {"current_password": "Pas le bon 2021", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    statuses = [client.post(CHANGE, data).status_code for _ in range(7)]
    assert statuses == [400] * 6 + [429]
    response = client.post(CHANGE, {**data, "current_password": CLAIRE[1]})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()


def test_change_ends_the_other_sessions_keeps_this_one_and_tells_the_person(demo):
    laptop, phone = Client(), Client()
    sign_in(laptop, *CLAIRE)
    sign_in(phone, *CLAIRE)
    mail.outbox.clear()
    response = laptop.post(
        CHANGE, {"current_password": CLAIRE[1], "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
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
    assert [m.to for m in mail.outbox] == [["claire.martin@example.fr"]]
    assert "modifié" in mail.outbox[0].subject
    assert OutboxEntry.objects.filter(recipient="+33611223344").exists()
    assert sign_in(Client(), CLAIRE[0], NEW_PASSWORD)["Location"] == "/mon-compte/"


def test_change_refuses_a_weak_or_unchanged_password(client, demo):
    sign_in(client, *CLAIRE)
    response = client.post(CHANGE, {"current_password": CLAIRE[1], "password": "azerty123", "password_confirm": "x"})
    body = response.content.decode()
    assert response.status_code == 400 and "trop courant" in body
    response = client.post(
        CHANGE, {"current_password": CLAIRE[1], "password": CLAIRE[1] + " 22", "password_confirm": CLAIRE[1] + " 22"}
    )
    assert response.status_code == 302
    response = client.post(
        CHANGE,
        {"current_password": CLAIRE[1] + " 22", "password": CLAIRE[1] + " 22", "password_confirm": CLAIRE[1] + " 22"},
    )
    assert "différent de votre mot de passe actuel" in response.content.decode()


# Secrets stay out of the journal and the logs ---------------------------------------------------


def test_no_code_or_password_in_the_journal_or_the_logs(demo, caplog):
    caplog.set_level(logging.DEBUG)
    client = Client()
    _request(client, CLAIRE[0])
    codes = [_email_code("claire.martin@example.fr"), _sms_code("+33611223344")]
    wrong = _wrong(*codes)
    client.post(CODE, {"code": wrong})
    client.post(CODE, {"code": codes[0]})
    client.post(NEW, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    sign_in(client, CLAIRE[0], NEW_PASSWORD)
    changed = "Autre phrase 2022 bien longue"
    client.post(CHANGE, {"current_password": NEW_PASSWORD, "password": changed, "password_confirm": changed})

    journal = json.dumps(list(JournalEntry.objects.values("action", "detail")), ensure_ascii=False)
    for action in ("password_reset.request", "password_reset.code_failure", "password_reset.code_success"):
        assert action in journal
    assert "password.reset" in journal and "password.change" in journal
    for secret in [*codes, wrong, NEW_PASSWORD, changed, CLAIRE[1]]:
        assert secret not in journal
        assert secret not in caplog.text
