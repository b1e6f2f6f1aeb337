"""Redis is an accelerator, never a dependency (issue 8, point 1; docs/operations.md "When Redis
fails"): the cache backend's timeouts, retries and circuit breaker, /healthz, and the sessions
when Redis is stopped, frozen, or comes back with the data it held.

Redis is real: a port nobody listens on (connections refused), a server of the test's own
(tests/support/redis_server.py) that is stopped, frozen with SIGSTOP and thawed, and a local
server that accepts connections and never answers (a black hole) to count the tries.
"""

import json
import logging
import os
import socket
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import Client
from redis import Redis

from moncompte.core.cache import BreakerState, ResilientRedisCache
from tests.conftest import sign_in
from tests.support.redis_server import LocalRedis
from tests.support.server import free_port


def _resilient(location: str, *, open_seconds: float = 60, timeout: float = 0.2) -> ResilientRedisCache:
    return ResilientRedisCache(
        location,
        {
            "KEY_PREFIX": "test-cache-outage",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": timeout,
                "SOCKET_TIMEOUT": timeout,
                "BREAKER_OPEN_SECONDS": open_seconds,
            },
        },
    )


def _cache_settings(location: str, *, open_seconds: float = 60) -> dict:
    return {
        "default": {
            "BACKEND": "moncompte.core.cache.ResilientRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "test-cache-outage",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "BREAKER_OPEN_SECONDS": open_seconds},
        }
    }


def _records(caplog, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "moncompte.cache" and text in r.getMessage()]


class BlackHole:
    """A TCP server that accepts every connection and never answers: counts connections and the
    bytes it was sent (a Redis that hangs, whose clients' retries can be counted)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                pass
            else:
                connection.settimeout(0.05)
                self.connections.append(connection)
            for connection in list(self.connections):
                try:
                    self.received += connection.recv(65536)
                except (TimeoutError, OSError):
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for connection in self.connections:
            connection.close()
        self.listener.close()


# The backend and its breaker -------------------------------------------------------------------


def test_a_refused_connection_answers_as_a_miss_and_opens_the_breaker(caplog):
    cache = _resilient(f"redis://127.0.0.1:{free_port()}/0")
    caplog.set_level(logging.INFO, logger="moncompte.cache")
    assert cache.get("key") is None
    assert cache.get("key", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set("key", 1) is False and cache.add("key", 1) is False
    assert "key" not in cache
    cache.delete("key")
    cache.delete_many(["a", "b"])
    cache.clear()
    with pytest.raises(ValueError):  # as for a key the cache does not hold
        cache.incr("key")
    state = cache.breaker.snapshot()
    assert state["state"] == BreakerState.OPEN and state["openings"] == 1
    # Only the first call went to the network: every later one was answered at once.
    assert state["failures"] == 1 and state["short_circuits"] == 9
    assert state["last_error"] and state["unavailable_since"]
    assert len(_records(caplog, "Cache indisponible")) == 1
    assert _records(caplog, "Cache indisponible")[0].levelno == logging.WARNING


def test_while_open_no_call_reaches_redis_even_when_it_is_back(tmp_path):
    redis = LocalRedis(work_dir=tmp_path)
    cache = _resilient(redis.url, open_seconds=600)
    assert cache.get("key") is None  # refused: the breaker opens for 10 minutes
    with redis:
        for _ in range(5):
            assert cache.set("key", 1) is False
        assert cache.breaker.snapshot()["failures"] == 1
        with Redis.from_url(redis.url) as direct:
            assert direct.keys("*") == []  # nothing was written


def test_one_probe_after_the_open_time_closes_the_breaker_when_redis_is_back(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="moncompte.cache")
    redis = LocalRedis(work_dir=tmp_path)
    cache = _resilient(redis.url, open_seconds=0)
    assert cache.set("key", 1) is False
    assert cache.breaker.state is BreakerState.OPEN
    with redis:
        assert cache.set("key", 1) is True  # the probe
        assert cache.breaker.state is BreakerState.CLOSED
        assert cache.get("key") == 1
        assert cache.breaker.snapshot()["probes"] == 1
    assert len(_records(caplog, "Cache indisponible")) == 1
    back = _records(caplog, "Cache de nouveau disponible")
    assert len(back) == 1 and back[0].levelno == logging.INFO


def test_a_failed_probe_opens_the_breaker_again_without_a_new_warning(caplog):
    caplog.set_level(logging.INFO, logger="moncompte.cache")
    cache = _resilient(f"redis://127.0.0.1:{free_port()}/0", open_seconds=0)
    for _ in range(3):
        assert cache.get("key") is None
    state = cache.breaker.snapshot()
    assert state["state"] == BreakerState.OPEN and state["openings"] == 1 and state["probes"] == 2
    assert len(_records(caplog, "Cache indisponible")) == 1


def test_a_frozen_redis_costs_one_timeout_then_nothing(tmp_path):
    with LocalRedis(work_dir=tmp_path) as redis:
        cache = _resilient(redis.url, open_seconds=600)
        assert cache.set("key", "kept") is True
        redis.freeze()
        try:
            assert cache.get("key") is None  # the read timeout, then a miss
            state = cache.breaker.snapshot()
            assert state["state"] == BreakerState.OPEN and state["last_error"] == "TimeoutError"
            for _ in range(5):
                assert cache.get("key") is None
            assert cache.breaker.snapshot()["failures"] == 1
        finally:
            redis.thaw()
        cache.breaker.reset()
        assert cache.get("key") == "kept"


def test_a_redis_restarted_between_two_calls_is_reached_again_without_a_failure(tmp_path):
    """The pooled connection died with the old server: one immediate reconnection, no outage."""
    with LocalRedis(work_dir=tmp_path) as redis:
        cache = _resilient(redis.url, open_seconds=600)
        assert cache.set("key", 1) is True
        redis.stop()
        redis.start()
        assert cache.set("key", 2) is True and cache.get("key") == 2
        assert cache.breaker.snapshot()["failures"] == 0


def test_no_retry_after_a_timeout():
    """A Redis that hangs is asked once, on one connection, and the call gives up after the
    timeout: the backend sets its retry policy itself (redis-py's own client retries a timed-out
    command 10 times with growing waits)."""
    hole = BlackHole()
    try:
        cache = _resilient(f"redis://127.0.0.1:{hole.port}/0", open_seconds=600, timeout=0.1)
        assert cache.get("key") is None
        assert cache.breaker.snapshot()["last_error"] == "TimeoutError"
        assert cache.get("key") is None  # open: not even a connection
    finally:
        hole.close()
    assert len(hole.connections) == 1


def _project_caches(tmp_path, **environ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONCOMPTE_", "DJANGO_", "EMAIL_"))}
    env.pop("DATABASE_URL", None)
    env.update(MONCOMPTE_VAR_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:6379/0", **environ)
    script = "import json, config.settings as s; print(json.dumps(s.CACHES['default']))"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_project_caches_through_the_resilient_backend_with_short_timeouts(tmp_path):
    done = _project_caches(tmp_path)
    assert done.returncode == 0, done.stderr
    default = json.loads(done.stdout)
    assert default["BACKEND"] == "moncompte.core.cache.ResilientRedisCache"
    assert default["OPTIONS"] == {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "BREAKER_OPEN_SECONDS": 5}
    done = _project_caches(
        tmp_path,
        MONCOMPTE_CACHE_CONNECT_TIMEOUT="0.05",
        MONCOMPTE_CACHE_TIMEOUT="0.1",
        MONCOMPTE_CACHE_BREAKER_SECONDS="30",
    )
    assert json.loads(done.stdout)["OPTIONS"] == {
        "SOCKET_CONNECT_TIMEOUT": 0.05,
        "SOCKET_TIMEOUT": 0.1,
        "BREAKER_OPEN_SECONDS": 30,
    }
    refused = _project_caches(tmp_path, MONCOMPTE_CACHE_TIMEOUT="2s")
    assert refused.returncode != 0 and "MONCOMPTE_CACHE_TIMEOUT must be" in refused.stderr


# /healthz --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_200_and_tells_the_cache_is_unavailable(settings):
    settings.CACHES = _cache_settings(f"redis://127.0.0.1:{free_port()}/0")
    for _ in range(2):  # the first one probes (refused), the second one is answered by the breaker
        response = Client().get("/healthz")
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok" and body["cache"] == "unavailable"
    assert body["cache_breaker"]["state"] == "open" and body["cache_breaker"]["short_circuits"] >= 1


@pytest.mark.django_db
def test_healthz_tells_the_cache_is_available(settings, tmp_path):
    with LocalRedis(work_dir=tmp_path) as redis:
        settings.CACHES = _cache_settings(redis.url)
        body = Client().get("/healthz").json()
    assert body["status"] == "ok" and body["cache"] == "available"
    assert body["cache_breaker"]["state"] == "closed"


@pytest.mark.django_db
def test_healthz_without_redis_says_local(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    health = Client().get("/healthz").json()
    assert {k: health[k] for k in ("status", "cache")} == {"status": "ok", "cache": "local"}


# Sessions --------------------------------------------------------------------------------------


@pytest.fixture
def redis_cache(settings, tmp_path):
    """The project's cache on a Redis of this test's own; its breaker reset afterwards."""
    with LocalRedis(work_dir=tmp_path) as redis:
        settings.CACHES = _cache_settings(redis.url, open_seconds=600)
        yield redis
        caches["default"].breaker.reset()


def _signed_in(client: Client, someone) -> bool:
    response = client.get("/mon-compte/")
    return response.status_code == 200 and someone.person.display_name in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_signed_in_people_keep_browsing_sign_in_and_sign_out_while_redis_is_away(redis_cache, family, outage):
    before = Client()
    assert sign_in(before, *family.responsible.credentials).status_code == 302
    redis_cache.stop() if outage == "stopped" else redis_cache.freeze()
    try:
        assert _signed_in(before, family.responsible)
        during = Client()
        assert sign_in(during, *family.spouse.credentials).status_code == 302
        assert _signed_in(during, family.spouse) and _signed_in(before, family.responsible)
        assert before.post("/deconnexion/").status_code == 302
        assert not _signed_in(before, family.responsible)
        assert _signed_in(during, family.spouse)
    finally:
        redis_cache.start() if outage == "stopped" else redis_cache.thaw()
    assert _signed_in(during, family.spouse)


@pytest.mark.django_db
@pytest.mark.parametrize("ending", ["sign-out", "ended from the sessions page"])
def test_a_session_ended_while_redis_is_frozen_does_not_come_back_with_redis(redis_cache, family, ending):
    """Redis, frozen, keeps what it held; once thawed, a copy of an ended session must not sign
    anyone in again. Read by another web process, which never saw the outage (its breaker is
    closed: reset here), with the old cookie (a stolen one, or the phone ended from the laptop)."""
    laptop, phone = Client(), Client()
    assert sign_in(laptop, *family.responsible.credentials).status_code == 302
    assert sign_in(phone, *family.responsible.credentials).status_code == 302
    assert _signed_in(phone, family.responsible)  # read once more: any cache would hold it now
    copy = Client()
    copy.cookies[settings.SESSION_COOKIE_NAME] = phone.cookies[settings.SESSION_COOKIE_NAME].value
    redis_cache.freeze()
    try:
        if ending == "sign-out":
            assert phone.post("/deconnexion/").status_code == 302
        else:
            from moncompte.accounts.models import AccountSession

            record = AccountSession.objects.get(session_key=copy.cookies[settings.SESSION_COOKIE_NAME].value)
            assert laptop.post(f"/mon-compte/appareils/{record.id}/fermer/").status_code == 302
    finally:
        redis_cache.thaw()
    caches["default"].breaker.reset()  # another process, or this one after its probe
    assert not _signed_in(copy, family.responsible)
    assert _signed_in(laptop, family.responsible)
