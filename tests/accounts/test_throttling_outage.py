"""Throttling when Redis fails (issue 8, point 1), and device cookies of any content.

The counters live in the database (moncompte.accounts.throttling, ``ThrottleCounter``): a
brute-forcer gains no attempt when Redis stops, restarts empty or comes back, nor when the cache
is cleared. Each test fails if the counters go back to the cache.
"""

import datetime
import tempfile
import threading
from pathlib import Path

import pytest
from django.core.cache import cache, caches
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from moncompte.accounts import throttling
from moncompte.accounts.models import ThrottleCounter
from moncompte.accounts.throttling import DEVICE_COOKIE_NAME
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.identity.protection import identifier_digest
from tests.conftest import sign_in
from tests.support.redis_server import LocalRedis
from tests.support.services import requires_postgresql

pytestmark = pytest.mark.django_db

# Hypothesis keeps its caches out of the repository (as tests/web/test_fuzz.py does).
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "moncompte-hypothesis")

WRONG_PASSWORD = "Mauvais2021mot"


@pytest.fixture
def strict(settings):
    """One free failure, waits long enough that no test outruns them."""
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER = 1
    settings.MONCOMPTE_THROTTLE_MAX_WAIT_PER_IDENTIFIER = 900
    return settings


@pytest.fixture
def redis(settings, tmp_path):
    """The project's cache on a Redis of this test's own."""
    with LocalRedis(work_dir=tmp_path) as server:
        settings.CACHES = {
            "default": {
                "BACKEND": "moncompte.core.cache.ResilientRedisCache",
                "LOCATION": server.url,
                "KEY_PREFIX": "test-throttling-outage",
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "BREAKER_OPEN_SECONDS": 0},
            }
        }
        yield server
        caches["default"].breaker.reset()


def _wrong(client: Client, someone) -> None:
    """The wait of the previous failures over (time passes by moving the counters back: no clock
    is mocked), a wrong password, checked and counted."""
    ThrottleCounter.objects.update(last_failure_at=F("last_failure_at") - datetime.timedelta(hours=1))
    assert sign_in(client, someone.identifier, WRONG_PASSWORD).status_code == 401


def _throttled_wait(client: Client, someone) -> int:
    """The right password, refused while the wait runs: the wait it was told."""
    assert sign_in(client, *someone.credentials).status_code == 429
    return JournalEntry.objects.filter(action=JournalAction.SIGNIN_THROTTLED).latest("id").detail["wait_seconds"]


@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_failures_made_before_during_and_after_an_outage_all_count(strict, redis, family, outage):
    """Two wrong passwords with Redis up, two while it is stopped (or frozen), two once it is back
    (restarted empty, or thawed with what it held): six failures, the right password then waits
    16 s (2^(6-1-1)), as it would have without any outage."""
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(2):
        _wrong(attacker, family.responsible)
    redis.stop() if outage == "stopped" else redis.freeze()
    try:
        for _ in range(2):
            _wrong(attacker, family.responsible)
    finally:
        redis.start() if outage == "stopped" else redis.thaw()
    for _ in range(2):
        _wrong(attacker, family.responsible)
    assert _throttled_wait(attacker, family.responsible) >= 10

    # The same six without any outage: the same wait.
    other = Client(REMOTE_ADDR="203.0.113.10")
    for _ in range(6):
        _wrong(other, family.spouse)
    assert _throttled_wait(other, family.spouse) >= 10


def test_clearing_the_cache_forgets_no_failure(strict, family):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(6):
        _wrong(attacker, family.responsible)
    cache.clear()  # an eviction, a FLUSHALL, a Redis restarted without its data
    assert _throttled_wait(attacker, family.responsible) >= 10


def test_counters_are_kept_per_digest_count_and_clear():
    scopes = [throttling.address_scope("signin", "198.51.100.7"), throttling.reauth_scope(12)]
    for _ in range(3):
        throttling.scopes_failed(scopes)
    rows = {row.key: row.failures for row in ThrottleCounter.objects.all()}
    assert rows == {scopes[0].key: 3, scopes[1].key: 3}
    assert all("198.51.100.7" not in key for key in rows)  # digests only
    wait, values = throttling._scopes_state(scopes)
    assert values[scopes[0].key + ":n"] == 3 and wait == 0  # 30 free failures per address
    throttling.scopes_cleared(scopes[1:])
    assert set(ThrottleCounter.objects.values_list("key", flat=True)) == {scopes[0].key}


def test_a_lapsed_counter_starts_again_at_one_and_lapsed_rows_go():
    one, other = throttling.reauth_scope(1), throttling.reauth_scope(2)
    throttling.scopes_failed([one])
    throttling.scopes_failed([one])
    throttling.scopes_failed([other])
    # A day and more without failure (time passes by moving the rows back, no clock is mocked).
    ThrottleCounter.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert throttling.scopes_wait([one]) == 0 and throttling._scopes_state([one])[1] == {}
    throttling.scopes_failed([one])
    assert {row.key: row.failures for row in ThrottleCounter.objects.all()} == {one.key: 1}


def test_a_success_clears_the_identifiers_counter_only(family):
    digest = identifier_digest(family.responsible.person.identifier_value)
    for _ in range(2):
        throttling.signin_failed(identifier_digest=digest, address="198.51.100.7")
    assert throttling.signin_check(identifier_digest=digest, address="198.51.100.7")[1] is True
    throttling.signin_succeeded(identifier_digest=digest)
    assert throttling.signin_check(identifier_digest=digest, address="198.51.100.7")[1] is False
    assert ThrottleCounter.objects.get().failures == 2  # the address keeps its count


@requires_postgresql("row locks: a failure must not wait for a lapsed counter another one holds")
@pytest.mark.django_db(transaction=True)
def test_a_failure_never_waits_for_a_lapsed_counter_held_by_another():
    """The removal of lapsed rows skips the rows other transactions hold: two failures purging
    each other's lapsed rows would otherwise wait for each other (a deadlock, answered 500).
    Provoked: another transaction holds a lapsed row while a failure is counted."""
    lapsed, other = throttling.reauth_scope(1), throttling.reauth_scope(2)
    throttling.scopes_failed([lapsed])
    ThrottleCounter.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    held, release, counted = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                list(ThrottleCounter.objects.select_for_update().filter(key=lapsed.key))
                held.set()
                release.wait(60)
        finally:
            db_connection.close()

    def fail() -> None:
        try:
            throttling.scopes_failed([other])
            counted.set()
        finally:
            db_connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(30)
    failure = threading.Thread(target=fail)
    failure.start()
    try:
        done_while_held = counted.wait(30)
    finally:
        release.set()
        holder.join(60)
        failure.join(60)
    assert done_while_held, "the failure waited for the row another transaction held"
    assert ThrottleCounter.objects.get(key=other.key).failures == 1
    throttling.scopes_failed([other])  # the row is free now: removed by the next failure
    assert not ThrottleCounter.objects.filter(key=lapsed.key).exists()


# Device cookies of any content ------------------------------------------------------------------

ODD_TOKENS = [
    "",
    ".",
    "é.é",
    "nonce.é",
    "nonce.\udc80",
    "\udcff.abc",
    "nonce.\x00",
    "nonce." + "0" * 5000,
    "🍪.🍪",
    "a" * 16 + "." + "f" * 32,
]


@pytest.mark.parametrize("token", ODD_TOKENS)
def test_any_cookie_value_is_simply_not_a_device_token(token):
    assert throttling.device_token_matches(token, "digest") is False
    assert throttling.password_reset_key(identifier_digest="digest", device_token=token).startswith(
        "throttle:password_reset:identifier:"
    )


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.one_of(st.text(), st.builds("{}.{}".format, st.text(min_size=1), st.text(min_size=1))))
def test_any_text_is_checked_without_error(token):
    assert throttling.device_token_matches(token, "digest") is False


def test_a_genuine_token_still_matches_its_identifier_only():
    token = throttling.new_device_token("digest")
    assert throttling.device_token_matches(token, "digest") is True
    assert throttling.device_token_matches(token, "other digest") is False
    assert throttling.device_token_matches(token[:-1] + ("0" if token[-1] != "0" else "1"), "digest") is False


@pytest.mark.parametrize("raw", ["é.é", "nonce.\u00e9t\u00e9", "abc.\u2603"])
def test_sign_in_and_reset_with_a_non_ascii_device_cookie_answer_without_error(family, raw):
    cookie = f"{DEVICE_COOKIE_NAME}={raw}"
    client = Client(HTTP_COOKIE=cookie.encode().decode("latin-1"))  # as a WSGI server passes it
    assert sign_in(client, family.responsible.identifier, WRONG_PASSWORD).status_code == 401
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    reset = Client(HTTP_COOKIE=cookie.encode().decode("latin-1"))
    assert reset.post("/mot-de-passe-oublie/", {"identifier": family.spouse.identifier}).status_code in (200, 302)
