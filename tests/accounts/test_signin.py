import time

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.utils.html import escape

from moncompte.accounts.models import Account
from moncompte.accounts.services import account_create
from moncompte.accounts.throttling import DEVICE_COOKIE_NAME
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor
from moncompte.identity.identifiers import nir_key
from tests.conftest import sign_in
from tests.factories import AccountFactory, PersonFactory, nir_for, typed

pytestmark = pytest.mark.django_db

BAD_CREDENTIALS = "Numéro de sécurité sociale, identifiant provisoire ou mot de passe incorrect."
WRONG_PASSWORD = "Mauvais2021mot"


def unknown_identifier() -> str:
    """A valid NIR, as typed, that nobody in the database holds (the factories never hand it out)."""
    import datetime

    return typed(nir_for(sex="M", birth_date=datetime.date(1980, 1, 15), birth_place_code="75056"))


def test_signin_page_has_the_french_labels(client):
    response = client.get("/connexion/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Numéro de sécurité sociale ou identifiant provisoire" in body
    assert "Mot de passe" in body


SPELLINGS = {
    "spaced-with-key": lambda raw, value: raw,  # "2 85 05 75 115 042 95"
    "13-digits": lambda raw, value: value,  # "2850575115042"
    "dotted-with-key": lambda raw, value: ".".join(raw.split()),  # "2.85.05.75.115.042.95"
    "15-digits": lambda raw, value: value + nir_key(value),  # "285057511504295"
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_holder_signs_in_with_any_spelling_of_their_nir(client, family, spelling):
    responsible = family.responsible
    raw = SPELLINGS[spelling](responsible.identifier, responsible.person.identifier_value)
    response = sign_in(client, raw, responsible.password)
    assert response.status_code == 302
    assert response["Location"] == "/mon-compte/"
    home = client.get("/mon-compte/")
    assert escape(responsible.person.display_name) in home.content.decode()


def test_corsican_nir_in_lower_case(client):
    account = AccountFactory(person=PersonFactory(birth_place_code="2A004"))
    raw = account.person.raw_identifier
    assert "2A" in raw
    response = sign_in(client, raw.lower(), account.raw_password)
    assert response.status_code == 302


def test_nnp_holder_signs_in(client):
    account = AccountFactory(person=PersonFactory(nnp=True))
    assert sign_in(client, account.person.raw_identifier, account.raw_password).status_code == 302
    assert escape(account.person.display_name) in client.get("/mon-compte/").content.decode()


def test_wrong_password_is_refused_and_keeps_the_identifier(client, family):
    response = sign_in(client, family.responsible.identifier, "pas le bon mot de passe 1")
    body = response.content.decode()
    assert response.status_code == 401
    assert BAD_CREDENTIALS in body
    assert f'value="{family.responsible.identifier}"' in body
    assert "_auth_user_id" not in client.session


def test_malformed_identifier_gets_a_french_explanation(client, family):
    response = sign_in(client, "2 85 05 75 115", "x")
    body = response.content.decode()
    assert response.status_code == 400
    assert "13 chiffres" in body
    assert 'value="2 85 05 75 115"' in body


def test_unknown_identifier_and_wrong_password_answer_the_same(client, family):
    """No enumeration: same status, same message, same page but for the typed identifier."""
    stranger = unknown_identifier()
    known = family.spouse.identifier
    unknown = sign_in(Client(), stranger, WRONG_PASSWORD)
    wrong = sign_in(Client(), known, WRONG_PASSWORD)
    assert unknown.status_code == wrong.status_code == 401

    def without_tokens(response, raw):
        import re

        body = response.content.decode().replace(raw, "IDENTIFIANT")
        return re.sub(r'value="[A-Za-z0-9]{32,}"', "", re.sub(r'nonce="[^"]+"', "", body))

    assert without_tokens(unknown, stranger) == without_tokens(wrong, known)


@pytest.fixture
def argon2_work(monkeypatch):
    """Every Argon2 verification run, as (memory KiB, iterations, lanes, hash length): the work
    it costs, read from the hash it verifies against. Wraps the call PasswordHasher.verify makes
    (argon2._password_hasher.verify_secret), the one every Argon2 check goes through."""
    import argon2._password_hasher as password_hasher
    from argon2 import extract_parameters

    runs = []
    real = password_hasher.verify_secret

    def verify_secret(hash, secret, type):
        params = extract_parameters(hash.decode() if isinstance(hash, bytes) else hash)
        runs.append((params.memory_cost, params.time_cost, params.parallelism, params.hash_len))
        return real(hash, secret, type)

    monkeypatch.setattr(password_hasher, "verify_secret", verify_secret)
    return runs


def _production_work():
    from argon2 import DEFAULT_HASH_LENGTH

    return (
        settings.MONCOMPTE_ARGON2_MEMORY_KIB,
        settings.MONCOMPTE_ARGON2_TIME_COST,
        settings.MONCOMPTE_ARGON2_PARALLELISM,
        DEFAULT_HASH_LENGTH,
    )


FAILURES = {
    "unknown-identifier": lambda family: unknown_identifier(),
    "person-without-account": lambda family: family.young_child.identifier,
    "inactive-account": lambda family: family.child.identifier,
    "wrong-password": lambda family: family.spouse.identifier,
}


@pytest.mark.parametrize("failure", FAILURES)
def test_every_failure_costs_one_argon2_verification_with_the_production_parameters(family, argon2_work, failure):
    """Anti-enumeration by work: a cheaper dummy hash (fewer KiB or iterations, another hasher,
    no hash at all) for an unknown identifier fails here, not only a missing call."""
    Account.objects.filter(pk=family.child.account.pk).update(is_active=False)
    raw = FAILURES[failure](family)
    assert sign_in(Client(), raw, WRONG_PASSWORD).status_code == 401
    assert argon2_work == [_production_work()]
    assert _production_work()[:2] == (19 * 1024, 2)  # the production defaults, not lowered for tests


def test_a_real_verification_costs_the_same_as_a_failure(family, argon2_work):
    assert sign_in(Client(), *family.spouse.credentials).status_code == 302
    assert argon2_work == [_production_work()]


def test_person_without_account_cannot_sign_in(client, family):
    # The child of 10 has no account; same answer as any failure.
    assert family.young_child.account is None
    response = sign_in(client, family.young_child.identifier, "Nimporte2021quoi")
    assert response.status_code == 401
    assert BAD_CREDENTIALS in response.content.decode()


def test_inactive_account_cannot_sign_in(client, family):
    Account.objects.filter(pk=family.child.account.pk).update(is_active=False)
    assert sign_in(client, *family.child.credentials).status_code == 401
    # The same credentials sign in once the account is active again: the refusal was the rule's.
    Account.objects.filter(pk=family.child.account.pk).update(is_active=True)
    assert sign_in(Client(), *family.child.credentials).status_code == 302


def test_session_key_is_renewed_at_signin(client, family):
    client.get("/connexion/")
    client.session.save()
    before = client.session.session_key
    assert before
    sign_in(client, *family.responsible.credentials)
    after = client.session.session_key
    assert after and after != before


def test_signout_is_post_only_and_ends_the_session(client, family):
    sign_in(client, *family.responsible.credentials)
    assert client.get("/deconnexion/").status_code == 405
    response = client.post("/deconnexion/")
    assert response.status_code == 302
    assert client.get("/mon-compte/").status_code == 302


def test_open_redirect_is_refused(client, family):
    identifier, password = family.responsible.credentials
    response = client.post(
        "/connexion/", {"identifier": identifier, "password": password, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/mon-compte/"


def test_next_is_followed_when_local(client, family):
    # A target other than the default one: following it or not makes a difference.
    identifier, password = family.responsible.credentials
    response = client.post(
        "/connexion/", {"identifier": identifier, "password": password, "next": "/mon-compte/appareils/"}
    )
    assert response["Location"] == "/mon-compte/appareils/"


def test_a_protected_page_sends_to_sign_in_and_back(client, family):
    identifier, password = family.responsible.credentials
    response = client.get("/mon-compte/appareils/")
    assert response.status_code == 302
    assert response["Location"] == "/connexion/?next=/mon-compte/appareils/"
    page = client.get(response["Location"]).content.decode()
    assert 'name="next" value="/mon-compte/appareils/"' in page
    # The page's form posts to /connexion/ with the hidden field; the query string works too.
    response = client.post("/connexion/?next=/mon-compte/appareils/", {"identifier": identifier, "password": password})
    assert response["Location"] == "/mon-compte/appareils/"
    # Already signed in: /connexion/ goes straight to the target.
    assert client.get("/connexion/?next=/mon-compte/appareils/")["Location"] == "/mon-compte/appareils/"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/mon-compte/", "javascript:alert(1)"])
def test_foreign_next_targets_fall_back_to_home(client, family, target):
    identifier, password = family.responsible.credentials
    response = client.post("/connexion/", {"identifier": identifier, "password": password, "next": target})
    assert response["Location"] == "/mon-compte/"


def test_passwords_are_argon2id_with_the_configured_parameters():
    # Through the service that opens accounts, not the factories' hash.
    account = account_create(actor=Actor.system(), person=PersonFactory(), password="Valable2024ciel")
    encoded = Account.objects.get(pk=account.pk).password
    assert identify_hasher(encoded).algorithm == "argon2"
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_hash_is_rederived_at_signin_when_parameters_change(client, family, settings):
    responsible = family.responsible
    assert "$m=19456,t=2,p=1$" in Account.objects.get(pk=responsible.account.pk).password
    settings.MONCOMPTE_ARGON2_MEMORY_KIB = 12288
    settings.MONCOMPTE_ARGON2_TIME_COST = 3
    assert sign_in(client, *responsible.credentials).status_code == 302
    encoded = Account.objects.get(pk=responsible.account.pk).password
    assert "$m=12288,t=3,p=1$" in encoded
    # And the new hash still opens the account.
    assert sign_in(Client(), *responsible.credentials).status_code == 302


class TestThrottling:
    def test_waits_grow_after_the_free_failures(self, client, family, settings):
        free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
        for _ in range(free + 1):
            assert sign_in(client, family.spouse.identifier, WRONG_PASSWORD).status_code == 401
        blocked = sign_in(client, *family.spouse.credentials)
        assert blocked.status_code == 429
        assert "Trop de tentatives" in blocked.content.decode()
        # Even the right password is refused while the wait runs.
        assert "_auth_user_id" not in client.session

    def test_wait_doubles(self):
        from moncompte.accounts.throttling import ThrottleScope, _wait_for

        scope = ThrottleScope("k", free_failures=5, max_wait=900)
        now = time.time()
        assert _wait_for(5, now, scope, now) == 0
        assert [_wait_for(n, now, scope, now) for n in (6, 7, 8, 9)] == [1, 2, 4, 8]
        assert _wait_for(40, now, scope, now) == 900  # capped: never a long lock-out

    def test_wait_ends(self, client, family, settings):
        free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
        for _ in range(free + 1):
            sign_in(client, family.spouse.identifier, WRONG_PASSWORD)
        assert sign_in(client, *family.spouse.credentials).status_code == 429
        time.sleep(1.1)  # the first wait is one second
        assert sign_in(client, *family.spouse.credentials).status_code == 302

    def test_throttling_is_per_identifier_not_global(self, client, family, settings):
        for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER + 1):
            sign_in(client, family.spouse.identifier, WRONG_PASSWORD)
        assert sign_in(Client(), *family.responsible.credentials).status_code == 302

    def test_per_address_limit_stops_spraying_identifiers(self, family, settings):
        settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 3
        attacker = Client(REMOTE_ADDR="203.0.113.9")
        unknown = [unknown_identifier() for _ in range(4)]
        assert len(set(unknown)) == 4
        for raw in unknown:
            sign_in(attacker, raw, WRONG_PASSWORD)
        assert sign_in(attacker, *family.responsible.credentials).status_code == 429
        # Another address is not concerned.
        assert sign_in(Client(REMOTE_ADDR="198.51.100.7"), *family.responsible.credentials).status_code == 302

    def test_a_stranger_cannot_lock_the_owner_out_of_their_device(self, family, settings):
        owner = Client(REMOTE_ADDR="198.51.100.7")
        assert sign_in(owner, *family.spouse.credentials).status_code == 302
        assert DEVICE_COOKIE_NAME in owner.cookies
        owner.post("/deconnexion/")
        stranger = Client(REMOTE_ADDR="203.0.113.9")
        for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER + 3):
            sign_in(stranger, family.spouse.identifier, WRONG_PASSWORD)
        assert sign_in(stranger, *family.spouse.credentials).status_code == 429
        # The owner's browser, known from an earlier success, still gets in.
        assert sign_in(owner, *family.spouse.credentials).status_code == 302

    def test_known_and_unknown_identifiers_get_the_same_answers_try_after_try(self, family, settings):
        """Anti-enumeration by outcome: an unknown identifier is throttled exactly like a known
        one (per identifier, not only per address), so the 7th answer tells nothing either."""
        import re

        free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
        answers = {}
        for n, raw in enumerate([family.spouse.identifier, unknown_identifier(), family.young_child.identifier]):
            attacker = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
            responses = [sign_in(attacker, raw, WRONG_PASSWORD) for _ in range(free + 2)]
            messages = [
                re.search(r'id="erreur-connexion">.*?<p>([^<]+)</p>', r.content.decode(), re.S) for r in responses
            ]
            answers[raw] = [(r.status_code, m and m.group(1)) for r, m in zip(responses, messages, strict=True)]
        known, unknown, without_account = answers.values()
        assert [status for status, _ in known] == [401] * (free + 1) + [429]
        assert known == unknown == without_account
        assert known[-1][1].startswith("Trop de tentatives de connexion. Réessayez dans ")

    def test_throttled_attempts_are_journaled(self, client, family, settings):
        for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER + 2):
            sign_in(client, family.spouse.identifier, WRONG_PASSWORD)
        assert JournalEntry.objects.filter(action="signin.throttled").exists()


class TestSessionTimeouts:
    def test_idle_session_ends(self, client, family, settings):
        sign_in(client, *family.responsible.credentials)
        session = client.session
        session["moncompte_seen_at"] = time.time() - settings.MONCOMPTE_SESSION_IDLE_SECONDS - 5
        session.save()
        response = client.get("/mon-compte/")
        assert response.status_code == 302
        assert response["Location"].startswith("/connexion/")
        assert client.get("/mon-compte/").status_code == 302

    def test_absolute_limit_ends_even_an_active_session(self, client, family, settings):
        sign_in(client, *family.responsible.credentials)
        session = client.session
        session["moncompte_auth_at"] = time.time() - settings.MONCOMPTE_SESSION_ABSOLUTE_SECONDS - 5
        session.save()
        assert client.get("/mon-compte/").status_code == 302

    def test_active_session_continues(self, client, family):
        sign_in(client, *family.responsible.credentials)
        assert client.get("/mon-compte/").status_code == 200


def test_session_cookie_flags(client, family):
    response = sign_in(client, *family.responsible.credentials)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_a_success_clears_the_failures_counted_before_it(client, family, settings):
    free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
    for _ in range(free):
        sign_in(Client(), family.spouse.identifier, WRONG_PASSWORD)
    assert sign_in(client, *family.spouse.credentials).status_code == 302
    # Counting starts again from zero: as many free failures again before any wait.
    for _ in range(free):
        assert sign_in(Client(), family.spouse.identifier, WRONG_PASSWORD).status_code == 401
    assert sign_in(Client(), *family.spouse.credentials).status_code == 302
