import time

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.test import Client

from moncompte.accounts.models import Account
from moncompte.accounts.throttling import DEVICE_COOKIE_NAME
from moncompte.audit.models import JournalEntry
from tests.conftest import CLAIRE, LEA, MARC, SOFIA, person_of, sign_in

pytestmark = pytest.mark.django_db

BAD_CREDENTIALS = "Numéro de sécurité sociale, identifiant provisoire ou mot de passe incorrect."


def test_signin_page_has_the_french_labels(client):
    response = client.get("/connexion/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Numéro de sécurité sociale ou identifiant provisoire" in body
    assert "Mot de passe" in body


@pytest.mark.parametrize(
    "raw",
    ["2 85 05 75 115 042 95", "2850575115042", "2.85.05.75.115.042.95", "285057511504295"],
)
def test_claire_signs_in_with_any_spelling_of_her_nir(client, demo, raw):
    response = sign_in(client, raw, CLAIRE[1])
    assert response.status_code == 302
    assert response["Location"] == "/mon-compte/"
    home = client.get("/mon-compte/")
    assert "Claire MARTIN" in home.content.decode()


def test_corsican_nir_in_lower_case(client, demo):
    response = sign_in(client, "2 90 02 2a 004 021 09", SOFIA[1])
    assert response.status_code == 302


def test_nnp_holder_signs_in(client, demo):
    assert sign_in(client, "8 17 51 23 456 789 13", "Provisoire2021nuit").status_code == 302
    assert "Amadou DIALLO" in client.get("/mon-compte/").content.decode()


def test_wrong_password_is_refused_and_keeps_the_identifier(client, demo):
    response = sign_in(client, CLAIRE[0], "pas le bon mot de passe 1")
    body = response.content.decode()
    assert response.status_code == 401
    assert BAD_CREDENTIALS in body
    assert 'value="2 85 05 75 115 042 95"' in body
    assert "_auth_user_id" not in client.session


def test_malformed_identifier_gets_a_french_explanation(client, demo):
    response = sign_in(client, "2 85 05 75 115", "x")
    body = response.content.decode()
    assert response.status_code == 400
    assert "13 chiffres" in body
    assert 'value="2 85 05 75 115"' in body


def test_unknown_identifier_and_wrong_password_answer_the_same(client, demo):
    """No enumeration: same status, same message, same page but for the typed identifier."""
    unknown = sign_in(Client(), "1 80 01 75 056 123 75", "Mauvais2021mot")
    wrong = sign_in(Client(), MARC[0], "Mauvais2021mot")
    assert unknown.status_code == wrong.status_code == 401

    def without_tokens(response, raw):
        import re

        body = response.content.decode().replace(raw, "IDENTIFIANT")
        return re.sub(r'value="[A-Za-z0-9]{32,}"', "", re.sub(r'nonce="[^"]+"', "", body))

    assert without_tokens(unknown, "1 80 01 75 056 123 75") == without_tokens(wrong, MARC[0])


def test_unknown_identifier_costs_a_password_hash(client, demo, monkeypatch):
    """Timing: an unknown identifier still runs one Argon2 verification, like a wrong password."""
    from moncompte.accounts import signin as signin_module

    calls = []
    real = signin_module.check_password
    monkeypatch.setattr(signin_module, "check_password", lambda *a, **k: calls.append(1) or real(*a, **k))
    sign_in(client, "1 80 01 75 056 123 75", "Mauvais2021mot")
    assert calls == [1]


def test_person_without_account_cannot_sign_in(client, demo):
    # Tom (13) has no account; same answer as any failure.
    response = sign_in(client, "1 13 07 75 112 045 09", "Nimporte2021quoi")
    assert response.status_code == 401
    assert BAD_CREDENTIALS in response.content.decode()


def test_inactive_account_cannot_sign_in(client, demo):
    Account.objects.filter(person=person_of(LEA[0])).update(is_active=False)
    assert sign_in(client, *LEA).status_code == 401


def test_session_key_is_renewed_at_signin(client, demo):
    client.get("/connexion/")
    client.session.save()
    before = client.session.session_key
    assert before
    sign_in(client, *CLAIRE)
    after = client.session.session_key
    assert after and after != before


def test_signout_is_post_only_and_ends_the_session(client, demo):
    sign_in(client, *CLAIRE)
    assert client.get("/deconnexion/").status_code == 405
    response = client.post("/deconnexion/")
    assert response.status_code == 302
    assert client.get("/mon-compte/").status_code == 302


def test_open_redirect_is_refused(client, demo):
    response = client.post(
        "/connexion/", {"identifier": CLAIRE[0], "password": CLAIRE[1], "next": "https://evil.example/"}
    )
    assert response["Location"] == "/mon-compte/"


def test_next_is_followed_when_local(client, demo):
    response = client.post("/connexion/", {"identifier": CLAIRE[0], "password": CLAIRE[1], "next": "/mon-compte/"})
    assert response["Location"] == "/mon-compte/"


def test_passwords_are_argon2id_with_the_configured_parameters(demo):
    encoded = Account.objects.get(person=person_of(CLAIRE[0])).password
    assert identify_hasher(encoded).algorithm == "argon2"
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_hash_is_rederived_at_signin_when_parameters_change(client, demo, settings):
    settings.MONCOMPTE_ARGON2_MEMORY_KIB = 12288
    settings.MONCOMPTE_ARGON2_TIME_COST = 3
    assert sign_in(client, *CLAIRE).status_code == 302
    encoded = Account.objects.get(person=person_of(CLAIRE[0])).password
    assert "$m=12288,t=3,p=1$" in encoded
    # And the new hash still opens the account.
    assert sign_in(Client(), *CLAIRE).status_code == 302


class TestThrottling:
    def test_waits_grow_after_the_free_failures(self, client, demo, settings):
        free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
        for _ in range(free + 1):
            assert sign_in(client, MARC[0], "Mauvais2021mot").status_code == 401
        blocked = sign_in(client, *MARC)
        assert blocked.status_code == 429
        assert "Trop de tentatives" in blocked.content.decode()
        # Even the right password is refused while the wait runs.
        assert "_auth_user_id" not in client.session

    def test_wait_doubles(self, demo):
        from moncompte.accounts.throttling import ThrottleScope, _wait_for

        scope = ThrottleScope("k", free_failures=5, max_wait=900)
        now = time.time()
        assert _wait_for(5, now, scope, now) == 0
        assert [_wait_for(n, now, scope, now) for n in (6, 7, 8, 9)] == [1, 2, 4, 8]
        assert _wait_for(40, now, scope, now) == 900  # capped: never a long lock-out

    def test_wait_ends(self, client, demo, settings):
        free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
        for _ in range(free + 1):
            sign_in(client, MARC[0], "Mauvais2021mot")
        assert sign_in(client, *MARC).status_code == 429
        time.sleep(1.1)  # the first wait is one second
        assert sign_in(client, *MARC).status_code == 302

    def test_throttling_is_per_identifier_not_global(self, client, demo, settings):
        for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER + 1):
            sign_in(client, MARC[0], "Mauvais2021mot")
        assert sign_in(Client(), *CLAIRE).status_code == 302

    def test_per_address_limit_stops_spraying_identifiers(self, demo, settings):
        settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 3
        attacker = Client(REMOTE_ADDR="203.0.113.9")
        unknown = ["1 80 01 75 056 123 75", "1 81 01 75 056 123 26", "1 82 01 75 056 123 74", "1 83 01 75 056 123 25"]
        for raw in unknown:
            sign_in(attacker, raw, "Mauvais2021mot")
        assert sign_in(attacker, *CLAIRE).status_code == 429
        # Another address is not concerned.
        assert sign_in(Client(REMOTE_ADDR="198.51.100.7"), *CLAIRE).status_code == 302

    def test_a_stranger_cannot_lock_the_owner_out_of_their_device(self, demo, settings):
        owner = Client(REMOTE_ADDR="198.51.100.7")
        assert sign_in(owner, *MARC).status_code == 302
        assert DEVICE_COOKIE_NAME in owner.cookies
        owner.post("/deconnexion/")
        stranger = Client(REMOTE_ADDR="203.0.113.9")
        for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER + 3):
            sign_in(stranger, MARC[0], "Mauvais2021mot")
        assert sign_in(stranger, *MARC).status_code == 429
        # The owner's browser, known from an earlier success, still gets in.
        assert sign_in(owner, *MARC).status_code == 302

    def test_throttled_attempts_are_journaled(self, client, demo, settings):
        for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER + 2):
            sign_in(client, MARC[0], "Mauvais2021mot")
        assert JournalEntry.objects.filter(action="signin.throttled").exists()


class TestSessionTimeouts:
    def test_idle_session_ends(self, client, demo, settings):
        sign_in(client, *CLAIRE)
        session = client.session
        session["moncompte_seen_at"] = time.time() - settings.MONCOMPTE_SESSION_IDLE_SECONDS - 5
        session.save()
        response = client.get("/mon-compte/")
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/")
        assert client.get("/mon-compte/").status_code == 302

    def test_absolute_limit_ends_even_an_active_session(self, client, demo, settings):
        sign_in(client, *CLAIRE)
        session = client.session
        session["moncompte_auth_at"] = time.time() - settings.MONCOMPTE_SESSION_ABSOLUTE_SECONDS - 5
        session.save()
        assert client.get("/mon-compte/").status_code == 302

    def test_active_session_continues(self, client, demo):
        sign_in(client, *CLAIRE)
        assert client.get("/mon-compte/").status_code == 200


def test_session_cookie_flags(client, demo):
    response = sign_in(client, *CLAIRE)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_a_success_clears_the_failures_counted_before_it(client, demo, settings):
    free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
    for _ in range(free):
        sign_in(Client(), MARC[0], "Mauvais2021mot")
    assert sign_in(client, *MARC).status_code == 302
    # Counting starts again from zero: as many free failures again before any wait.
    for _ in range(free):
        assert sign_in(Client(), MARC[0], "Mauvais2021mot").status_code == 401
    assert sign_in(Client(), *MARC).status_code == 302
