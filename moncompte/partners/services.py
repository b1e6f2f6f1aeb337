"""Partner data for a person, live, within a page's time budget (issue 10, point 4; docs/partners.md).

``partner_data`` asks the sources at once, each in a worker thread of a bounded pool, and waits
at most the budget (``MONCOMPTE_PARTNER_BUDGET_MS``, 800 ms): it returns what has come, and says
in French what is missing and why. A lookup still running goes on in the background and fills
the per-person cache when it ends, so the next page has it; a page asking while the same lookup
still runs waits for that one rather than asking again. Nothing here raises for a partner's
problem.

The cache keeps each answer ``MONCOMPTE_PARTNER_CACHE_SECONDS`` under a key made of the source
and the person's id (never their identifier), and the entry also holds a fragment of the
identifier's keyed digest, checked on reading: one person's answer is never given for another,
and a person whose identifier changed is asked again. A cache that fails is a miss.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from moncompte.identity.models import IdentifierType
from moncompte.partners.client import PartnerFailure, PartnerNotFound, breaker, lookup
from moncompte.partners.sources import Source

logger = logging.getLogger("moncompte.partners")

__all__ = ["PartnerReport", "PartnerResult", "Source", "lookups_settle", "partner_data", "partner_health"]


@dataclass(frozen=True)
class PartnerResult:
    source: Source
    label: str
    fetched_at: datetime.datetime  # aware: when the partner answered (not when the cache gave it)
    data: dict
    from_cache: bool = False


@dataclass(frozen=True)
class PartnerReport:
    results: dict[Source, PartnerResult] = field(default_factory=dict)
    missing: dict[Source, str] = field(default_factory=dict)  # a French sentence for the person


def _sentence(source: Source, why: str) -> str:
    label = source.label
    if why == "late":
        return f"{label} n'a pas répondu à temps."
    if why == "not_found":
        return f"{label} ne connaît pas votre situation."
    if why == "no_identifier":
        return (
            f"{label} : ces informations ne peuvent être demandées qu'avec un numéro de sécurité sociale, "
            "que votre compte n'a pas encore."
        )
    return f"{label} est momentanément indisponible."


# The pool ------------------------------------------------------------------------------------

_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_inflight: dict[str, Future] = {}  # cache key -> the lookup running for it


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=settings.MONCOMPTE_PARTNER_WORKERS, thread_name_prefix="partner")
        return _pool


def _queue_limit() -> int:
    # Past this, a partner hanging would pile up lookups nobody waits for: answer "unavailable".
    return settings.MONCOMPTE_PARTNER_WORKERS * 4


def _submit(source: Source, nir: str, key: str, who: str) -> Future | None:
    """The lookup for ``key``: the one already running, or a new one; None if the pool is full."""
    executor = _executor()
    with _pool_lock:
        future = _inflight.get(key)
        if future is not None:
            return future
        if len(_inflight) >= _queue_limit():
            return None
        future = _inflight[key] = executor.submit(_fetch, source, nir, key, who)
    future.add_done_callback(lambda done: _forget(key, done))  # at once if already done
    return future


def _forget(key: str, future: Future) -> None:
    with _pool_lock:
        if _inflight.get(key) is future:
            del _inflight[key]


def lookups_settle(timeout: float = 10.0) -> bool:
    """Wait until the lookups still running in the background have ended (a test, a benchmark,
    a clean shutdown); True if they all did within ``timeout``."""
    with _pool_lock:
        running = list(_inflight.values())
    return not running or not wait(running, timeout=timeout).not_done


# The cache -----------------------------------------------------------------------------------


def _cache_key(source: Source, person) -> str:
    return f"partners:v1:{source.value}:{person.pk}"


def _who(person) -> str:
    """A fragment of the identifier's keyed digest (not the identifier): the cached entry's owner."""
    return person.identifier_digest[:16]


def _cache_put(key: str, who: str, fetched_at: datetime.datetime, data: dict) -> None:
    seconds = settings.MONCOMPTE_PARTNER_CACHE_SECONDS
    if seconds <= 0:
        return
    try:
        cache.set(key, {"who": who, "fetched_at": fetched_at.isoformat(), "data": data}, seconds)
    except Exception as error:  # noqa: BLE001 - the cache is an accelerator: without it, ask again
        logger.warning("partner cache write failed (%s)", type(error).__name__)


def _cached(source: Source, key: str, who: str) -> PartnerResult | None:
    if settings.MONCOMPTE_PARTNER_CACHE_SECONDS <= 0:
        return None
    try:
        entry = cache.get(key)
    except Exception as error:  # noqa: BLE001 - a miss
        logger.warning("partner cache read failed (%s)", type(error).__name__)
        return None
    if not isinstance(entry, dict) or entry.get("who") != who or not isinstance(entry.get("data"), dict):
        return None
    try:
        fetched_at = datetime.datetime.fromisoformat(entry["fetched_at"])
    except (KeyError, TypeError, ValueError):
        return None
    if fetched_at.tzinfo is None:
        return None
    return PartnerResult(source=source, label=source.label, fetched_at=fetched_at, data=entry["data"], from_cache=True)


def _fetch(source: Source, nir: str, key: str, who: str) -> PartnerResult:
    data = lookup(source, nir)
    fetched_at = timezone.now()
    _cache_put(key, who, fetched_at, data)
    return PartnerResult(source=source, label=source.label, fetched_at=fetched_at, data=data)


# The service ---------------------------------------------------------------------------------


def _nir_of(person) -> str | None:
    """The identifier a partner knows the person by: a NIR or a NIA (same shape); none for a
    provisional identifier (NNP, Mon Compte's own)."""
    if person is None or person.identifier_type not in (IdentifierType.NIR, IdentifierType.NIA):
        return None
    return person.identifier.value


def partner_data(*, person, sources: Iterable[Source | str], budget_seconds: float | None = None) -> PartnerReport:
    """What the partners say about ``person`` now, within the budget (seconds; None: the setting).

    The caller has asked the policy: the person is the one acting (their own data). Every source
    asked is in ``results`` or in ``missing``; nothing raises for a partner's problem.
    """
    wanted = list(dict.fromkeys(Source(s) for s in sources))
    report = PartnerReport()
    nir = _nir_of(person)
    if nir is None:
        report.missing.update({source: _sentence(source, "no_identifier") for source in wanted})
        return report
    budget = settings.MONCOMPTE_PARTNER_BUDGET_MS / 1000 if budget_seconds is None else max(budget_seconds, 0)
    who = _who(person)
    waiting: dict[Source, Future] = {}
    for source in wanted:
        key = _cache_key(source, person)
        cached = _cached(source, key, who)
        if cached is not None:
            report.results[source] = cached
        elif not breaker(source).may_call():
            logger.warning("partner %s failed: circuit open", source.value)
            report.missing[source] = _sentence(source, "circuit_open")
        else:
            future = _submit(source, nir, key, who)
            if future is None:
                logger.warning("partner %s failed: too many lookups under way", source.value)
                report.missing[source] = _sentence(source, "saturated")
            else:
                waiting[source] = future
    if waiting:
        wait(waiting.values(), timeout=budget)
    for source, future in waiting.items():
        if not future.done():
            report.missing[source] = _sentence(source, "late")  # it goes on, and fills the cache
            continue
        error = future.exception()
        if error is None:
            report.results[source] = future.result()
        elif isinstance(error, PartnerNotFound):
            report.missing[source] = _sentence(source, "not_found")
        elif isinstance(error, PartnerFailure):
            report.missing[source] = _sentence(source, error.kind)  # logged by the lookup
        else:  # a bug of ours must not block the page either; the type only in the log
            logger.error("partner %s lookup raised %s", source.value, type(error).__name__)
            report.missing[source] = _sentence(source, "error")
    return report


def partner_health() -> dict:
    """Each partner's breaker and counters, for /healthz: no call made, no personal data."""
    with _pool_lock:
        under_way = len(_inflight)
    return {
        "lookups_under_way": under_way,
        **{source.value: breaker(source).snapshot() for source in Source},
    }
