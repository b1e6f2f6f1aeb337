"""The cache is an accelerator, never a dependency (issue 8, docs/operations.md "When Redis fails").

``ResilientRedisCache`` is django-redis's backend with three changes:

- short connect and read timeouts (``MONCOMPTE_CACHE_CONNECT_TIMEOUT``, ``MONCOMPTE_CACHE_TIMEOUT``,
  given by the settings as ``SOCKET_CONNECT_TIMEOUT`` and ``SOCKET_TIMEOUT``) and no retry, set
  here rather than left to how a library version builds its pool (redis-py's own client retries
  a timed-out command 10 times, with waits);
- every error is caught: a read answers as a miss, a write does nothing, ``incr`` raises the
  ``ValueError`` of a missing key. Nothing the cache does can turn into a 500;
- a circuit breaker, one per Redis location and process: after a failure it opens for
  ``BREAKER_OPEN_SECONDS`` (``MONCOMPTE_CACHE_BREAKER_SECONDS``), during which every call returns
  at once without touching the network; then a single call is let through as a probe (half
  open): its success closes the breaker, its failure opens it again. Opening also closes the
  idle pooled connections, so that the probe and the calls after it reach Redis through fresh
  ones (a call under way ends by its own timeout).

Each change of state is logged once (WARNING "Cache indisponible…", INFO "Cache de nouveau
disponible…", logger ``moncompte.cache``, without any key or value) and counted;
``cache_health()`` gives the states and counters that ``/healthz`` shows.

Nothing in the service relies on the cache for its correctness: sessions and throttling
counters live in the database (docs/decisions.md). The breaker keeps any use of the cache, now or
later, from costing more than microseconds while Redis is away.
"""

import enum
import logging
import threading
import time

from django.core.cache import caches
from django_redis.cache import RedisCache

logger = logging.getLogger("moncompte.cache")

DEFAULT_BREAKER_OPEN_SECONDS = 5.0


class BreakerState(enum.StrEnum):
    CLOSED = "closed"  # the cache is used
    OPEN = "open"  # every call returns at once, as a miss
    HALF_OPEN = "half_open"  # one probe call is under way


class _Permit(enum.Enum):
    REFUSED = 0
    CALL = 1
    PROBE = 2


class CircuitBreaker:
    """The state of one Redis as this process sees it; shared by the threads of the process."""

    def __init__(self, name: str, open_seconds: float = DEFAULT_BREAKER_OPEN_SECONDS) -> None:
        self.name = name
        self.open_seconds = open_seconds
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._reopen_at = 0.0  # time.monotonic() from which a probe may go
        self._opened_at = 0.0  # time.time() of the opening, for the log and /healthz
        self.failures = 0  # errors caught (each one a call answered as a miss)
        self.short_circuits = 0  # calls answered at once while open
        self.openings = 0
        self.probes = 0
        self.last_error = ""

    @property
    def state(self) -> BreakerState:
        return self._state

    def permit(self) -> _Permit:
        if self._state is BreakerState.CLOSED:  # the common case, without taking the lock
            return _Permit.CALL
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return _Permit.CALL
            if self._state is BreakerState.OPEN and time.monotonic() >= self._reopen_at:
                self._state = BreakerState.HALF_OPEN
                self.probes += 1
                return _Permit.PROBE
            self.short_circuits += 1
            return _Permit.REFUSED

    def succeeded(self, permit: _Permit) -> None:
        # Only the probe closes the breaker: a call started before the opening proves little.
        if permit is not _Permit.PROBE:
            return
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return
            self._state = BreakerState.CLOSED
            away = time.time() - self._opened_at
            skipped = self.short_circuits
        logger.info(
            "Cache de nouveau disponible (%s) après %.1f s d'indisponibilité (%d appels passés sans lui en tout).",
            self.name,
            away,
            skipped,
        )

    def failed(self, error: BaseException, permit: _Permit) -> bool:
        """Count the failure; True when it opened the breaker (the caller then drops its connections)."""
        with self._lock:
            self.failures += 1
            self.last_error = type(error).__name__
            if self._state is BreakerState.CLOSED:
                self._state = BreakerState.OPEN
                self._opened_at = time.time()
                self._reopen_at = time.monotonic() + self.open_seconds
                self.openings += 1
                opened = True
            elif permit is _Permit.PROBE:
                self._state = BreakerState.OPEN
                self._reopen_at = time.monotonic() + self.open_seconds
                opened = False
            else:  # a call that was already under way when another one opened the breaker
                return False
        if opened:
            logger.warning(
                "Cache indisponible (%s, %s) : le service s'en passe, nouvel essai dans %s s.",
                self.name,
                self.last_error,
                f"{self.open_seconds:g}",
            )
        return opened

    def abandoned(self, permit: _Permit) -> None:
        """A probe interrupted (neither answer nor error): the next call probes again."""
        if permit is not _Permit.PROBE:
            return
        with self._lock:
            if self._state is BreakerState.HALF_OPEN:
                self._state = BreakerState.OPEN
                self._reopen_at = time.monotonic()

    def reset(self) -> None:
        """Back to closed, counters kept (an operator's or a test's fresh start)."""
        with self._lock:
            self._state = BreakerState.CLOSED
            self._reopen_at = 0.0

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "state": str(self._state),
                "failures": self.failures,
                "short_circuits": self.short_circuits,
                "openings": self.openings,
                "probes": self.probes,
                "last_error": self.last_error,
                "unavailable_since": (
                    None
                    if self._state is BreakerState.CLOSED
                    else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._opened_at))
                ),
            }


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(location: str, open_seconds: float = DEFAULT_BREAKER_OPEN_SECONDS) -> CircuitBreaker:
    """The process's breaker of one Redis location (Django makes one cache object per thread)."""
    with _breakers_lock:
        breaker = _breakers.get(location)
        if breaker is None:
            breaker = _breakers[location] = CircuitBreaker(_shown_location(location), open_seconds)
        breaker.open_seconds = open_seconds
        return breaker


def _shown_location(location: str) -> str:
    # redis://user:password@host:port/db: never the credentials in a log line.
    scheme, _, rest = location.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}" if rest else location


def _no_retry():
    """A failed call is a miss, never tried again (a pooled connection that a restarted Redis
    closed is replaced by redis-py before it is used, without a retry)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return Retry(NoBackoff(), 0)


class ResilientRedisCache(RedisCache):
    """django-redis with short timeouts, no retry, every error caught, and a circuit breaker.

    ``OPTIONS["BREAKER_OPEN_SECONDS"]``: how long the breaker stays open after a failure.
    """

    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        open_seconds = float(options.pop("BREAKER_OPEN_SECONDS", DEFAULT_BREAKER_OPEN_SECONDS))
        pool_kwargs = dict(options.get("CONNECTION_POOL_KWARGS") or {})
        pool_kwargs.setdefault("retry", _no_retry())
        options["CONNECTION_POOL_KWARGS"] = pool_kwargs
        options["IGNORE_EXCEPTIONS"] = False  # caught here, counted and logged by the breaker
        params["OPTIONS"] = options
        super().__init__(server, params)
        self.breaker = breaker_for(server if isinstance(server, str) else ",".join(server), open_seconds)

    # The guard ------------------------------------------------------------------------------

    def _guarded(self, fallback, call, *args, **kwargs):
        permit = self.breaker.permit()
        if permit is _Permit.REFUSED:
            return fallback
        try:
            result = call(*args, **kwargs)
        except Exception as error:  # any error of the cache: the call answers as a miss
            if self.breaker.failed(error, permit):
                self._drop_connections()
            return fallback
        except BaseException:  # interrupted: a probe must not leave the breaker half open for ever
            self.breaker.abandoned(permit)
            raise
        self.breaker.succeeded(permit)
        return result

    def _drop_connections(self) -> None:
        # The idle connections only: one a thread is waiting on ends by its own timeout.
        try:
            for client in self.client._clients:
                if client is not None:
                    client.connection_pool.disconnect(inuse_connections=False)
        except Exception:  # noqa: S110 (nothing more to do: the breaker is open anyway)
            pass

    def available(self) -> bool:
        """A real round trip (PING) through the breaker: what /healthz reports."""
        return bool(self._guarded(False, lambda: self.client.get_client(write=True).ping()))

    # Django's cache API, each call guarded ---------------------------------------------------

    def get(self, key, default=None, version=None, client=None):
        return self._guarded(default, super().get, key, default=default, version=version, client=client)

    def get_many(self, *args, **kwargs):
        return self._guarded({}, super().get_many, *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._guarded(False, super().has_key, *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._guarded(False, super().set, *args, **kwargs)

    def add(self, *args, **kwargs):
        return self._guarded(False, super().add, *args, **kwargs)

    def set_many(self, data, *args, **kwargs):
        return self._guarded(list(data), super().set_many, data, *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._guarded(False, super().touch, *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._guarded(False, super().delete, *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._guarded(None, super().delete_many, *args, **kwargs)

    def delete_pattern(self, *args, **kwargs):
        return self._guarded(0, super().delete_pattern, *args, **kwargs)

    def clear(self):
        return self._guarded(None, super().clear)

    def incr(self, key, delta=1, version=None, client=None):
        missing = object()
        result = self._guarded(missing, super().incr, key, delta=delta, version=version, client=client)
        if result is missing:
            # Django's answer for a key the cache does not hold: callers already handle it.
            raise ValueError("Le cache ne tient pas cette clé (indisponible).")
        return result

    def decr(self, key, delta=1, version=None, client=None):
        return self.incr(key, -delta, version=version, client=client)

    def ttl(self, *args, **kwargs):
        return self._guarded(None, super().ttl, *args, **kwargs)

    def pttl(self, *args, **kwargs):
        return self._guarded(None, super().pttl, *args, **kwargs)

    def expire(self, *args, **kwargs):
        return self._guarded(False, super().expire, *args, **kwargs)

    def persist(self, *args, **kwargs):
        return self._guarded(False, super().persist, *args, **kwargs)

    def keys(self, *args, **kwargs):
        return self._guarded([], super().keys, *args, **kwargs)

    def iter_keys(self, *args, **kwargs):
        return self._guarded(iter(()), lambda: iter(list(super(ResilientRedisCache, self).iter_keys(*args, **kwargs))))

    def close(self, **kwargs):
        try:
            super().close(**kwargs)
        except Exception:  # noqa: S110 (closing a connection to a dead Redis: nothing to do)
            pass


def cache_health(alias: str = "default") -> dict:
    """What /healthz tells about the cache: ``available`` (answers), ``unavailable`` (the
    breaker is open, or the probe failed: the service runs without it) or ``local`` (no Redis
    configured: each process's own memory), with the breaker's counters."""
    cache = caches[alias]
    if not isinstance(cache, ResilientRedisCache):
        return {"cache": "local"}
    reachable = cache.available()
    return {"cache": "available" if reachable else "unavailable", "cache_breaker": cache.breaker.snapshot()}
