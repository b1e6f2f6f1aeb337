"""One lookup at one partner over HTTP: a timeout, retries with backoff for the idempotent
lookups, the circuit breaker, and a strict check of the answer.

The person is named to the partner by their NIR in the JSON body of a POST (never in a URL: the
partners' access logs and every proxy would keep it), with the partner's bearer token. Nothing
of the body or of the answer is logged, nor an exception's text (it may quote either): the log
says which partner failed and how ("partner drm failed: timeout").
"""

from __future__ import annotations

import logging
import random
import threading
import time

import httpx
from django.conf import settings

from moncompte.partners.breaker import PartnerBreaker, Permit
from moncompte.partners.sources import Malformed, Source, checked_answer

logger = logging.getLogger("moncompte.partners")


class PartnerFailure(Exception):
    """The partner gave no usable answer. ``kind``: timeout, unreachable, status, malformed,
    circuit_open or error (a bug of ours); ``detail``: the HTTP status for ``status``."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(kind)
        self.kind = kind
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.kind} {self.detail}".strip()


class PartnerNotFound(Exception):
    """The partner answered that it does not know the person (404)."""


# Worth another try: the partner may answer the same question the next time. A 4xx other than
# 404 (a refused token, a request it does not understand) or a malformed answer would not change.
_RETRYABLE_KINDS = {"timeout", "unreachable"}
_RETRYABLE_STATUSES = {429, 500, 502, 503, 504}

_lock = threading.Lock()
_clients: dict[tuple, httpx.Client] = {}
_breakers: dict[str, PartnerBreaker] = {}


def _setting(source: Source, what: str) -> str:
    return settings.MONCOMPTE_PARTNERS[source.value][what]


def _client(source: Source) -> httpx.Client:
    """The partner's connection pool (one per process, shared by the worker threads)."""
    base_url = _setting(source, "url")
    read = settings.MONCOMPTE_PARTNER_TIMEOUT_MS / 1000
    connect = settings.MONCOMPTE_PARTNER_CONNECT_TIMEOUT_MS / 1000
    key = (source.value, base_url, read, connect)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = httpx.Client(
                base_url=base_url,
                timeout=httpx.Timeout(read, connect=connect, pool=connect),
                limits=httpx.Limits(max_connections=settings.MONCOMPTE_PARTNER_WORKERS, max_keepalive_connections=4),
                follow_redirects=False,
                trust_env=False,  # no proxy nor .netrc from the environment: the URL says where it goes
            )
        return client


def breaker(source: Source | str) -> PartnerBreaker:
    """The partner's breaker in this process (its threshold and open time follow the settings)."""
    code = Source(source).value
    with _lock:
        found = _breakers.get(code)
        if found is None:
            found = _breakers[code] = PartnerBreaker(
                code,
                threshold=settings.MONCOMPTE_PARTNER_BREAKER_FAILURES,
                open_seconds=settings.MONCOMPTE_PARTNER_BREAKER_SECONDS,
            )
        else:
            found.threshold = settings.MONCOMPTE_PARTNER_BREAKER_FAILURES
            found.open_seconds = settings.MONCOMPTE_PARTNER_BREAKER_SECONDS
        return found


def reset_partners() -> None:
    """Every breaker closed with its counters at zero, every connection dropped (tests, an
    operator's fresh start)."""
    with _lock:
        for found in _breakers.values():
            found.reset()
        for client in _clients.values():
            client.close()
        _clients.clear()


def _attempt(source: Source, nir: str) -> dict:
    """One request: the checked answer, or PartnerFailure / PartnerNotFound."""
    try:
        response = _client(source).post(
            source.path,
            json={"nir": nir},
            headers={"Authorization": f"Bearer {_setting(source, 'token')}", "Accept": "application/json"},
        )
    except httpx.TimeoutException:
        raise PartnerFailure("timeout") from None
    except httpx.HTTPError:  # refused, reset, DNS, protocol error
        raise PartnerFailure("unreachable") from None
    if response.status_code == 404:
        raise PartnerNotFound()
    if response.status_code != 200:
        raise PartnerFailure("status", str(response.status_code))
    try:
        return checked_answer(source, response.json())
    except (ValueError, Malformed):  # not JSON, or not the agreed shape
        raise PartnerFailure("malformed") from None


def _retryable(failure: PartnerFailure) -> bool:
    return failure.kind in _RETRYABLE_KINDS or (failure.kind == "status" and int(failure.detail) in _RETRYABLE_STATUSES)


def lookup(source: Source, nir: str, *, idempotent: bool = True) -> dict:
    """The partner's checked answer about the person; raises PartnerFailure or PartnerNotFound.

    An idempotent call (every lookup here: a read, even if sent as a POST) is tried again after
    a timeout, a failed connection, a 429 or a 5xx, ``MONCOMPTE_PARTNER_RETRIES`` times, after a
    backoff that doubles each time, with jitter (half to one and a half times). A probe of the
    half-open breaker is tried once. One WARNING per failed lookup, with the partner and the kind.
    """
    if not _setting(source, "url"):
        # Not configured (production without this partner's URL): the service goes on without it.
        raise PartnerFailure("not_configured")
    gate = breaker(source)
    permit = gate.permit()
    if permit is Permit.REFUSED:
        logger.warning("partner %s failed: circuit open", source.value)
        raise PartnerFailure("circuit_open")
    attempts = 1 + (settings.MONCOMPTE_PARTNER_RETRIES if idempotent and permit is Permit.CALL else 0)
    backoff = settings.MONCOMPTE_PARTNER_BACKOFF_MS / 1000
    failure = PartnerFailure("error")
    try:
        for attempt in range(attempts):
            try:
                answer = _attempt(source, nir)
            except PartnerFailure as caught:
                failure = caught
                if not _retryable(caught) or attempt == attempts - 1:
                    break
                time.sleep(backoff * (2**attempt) * (0.5 + random.random()))  # noqa: S311 (jitter, not a secret)
                continue
            gate.succeeded(permit)
            return answer
    except PartnerNotFound:
        gate.succeeded(permit)  # the partner works: it does not know this person
        raise
    except Exception as error:  # a bug of ours: the breaker must still hear of it (a probe left hanging)
        logger.error("partner %s lookup raised %s", source.value, type(error).__name__)
        failure = PartnerFailure("error")
    gate.failed(permit, str(failure))
    logger.warning("partner %s failed: %s", source.value, failure)
    raise failure
