"""A circuit breaker per partner and process: after ``threshold`` failures in a row the partner is
not called for ``open_seconds``; then one call goes through as a probe (half open), whose
success closes it and whose failure opens it again. While open, a page asks nothing and says at
once what is missing: a partner down costs no time at all.

Not ``moncompte.core.cache.CircuitBreaker``: that one opens at the first error (a cache that
fails once is skipped at once, its misses cost nothing), where a partner's single timeout must
not hide it from every page for half a minute; the counting of failures in a row is the
difference, the states and the probe are the same.
"""

from __future__ import annotations

import enum
import logging
import threading
import time

logger = logging.getLogger("moncompte.partners")


class State(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Permit(enum.Enum):
    REFUSED = 0
    CALL = 1
    PROBE = 2


class PartnerBreaker:
    def __init__(self, name: str, *, threshold: int, open_seconds: float) -> None:
        self.name = name
        self.threshold = threshold
        self.open_seconds = open_seconds  # read at each check: a change applies to an open breaker
        self._lock = threading.Lock()
        self._state = State.CLOSED
        self._in_a_row = 0
        self._opened_at = 0.0  # time.monotonic() of the last opening
        self.calls = self.failures = self.short_circuits = self.openings = self.probes = 0
        self.last_failure = ""

    @property
    def state(self) -> State:
        return self._state

    def _probe_due(self) -> bool:
        return time.monotonic() >= self._opened_at + self.open_seconds

    def permit(self) -> Permit:
        with self._lock:
            if self._state is State.CLOSED:
                self.calls += 1
                return Permit.CALL
            if self._state is State.OPEN and self._probe_due():
                self._state = State.HALF_OPEN
                self.calls += 1
                self.probes += 1
                return Permit.PROBE
            self.short_circuits += 1
            return Permit.REFUSED

    def may_call(self) -> bool:
        """Whether a call would be let through now (closed, or open with its probe due), without
        taking the permit: a page does not even submit a lookup to an open partner, nor while
        the probe is under way."""
        with self._lock:
            if self._state is State.CLOSED or (self._state is State.OPEN and self._probe_due()):
                return True
            self.short_circuits += 1
            return False

    def succeeded(self, permit: Permit) -> None:
        with self._lock:
            self._in_a_row = 0
            closed = permit is Permit.PROBE and self._state is not State.CLOSED
            if closed:
                self._state = State.CLOSED
        if closed:
            logger.info("partner %s available again (probe answered)", self.name)

    def failed(self, permit: Permit, kind: str) -> None:
        with self._lock:
            self.failures += 1
            self._in_a_row += 1
            self.last_failure = kind
            opening = self._state is State.CLOSED and self._in_a_row >= self.threshold
            if not (opening or permit is Permit.PROBE):
                return  # below the threshold, or a call begun before another one opened it
            self._state = State.OPEN
            self._opened_at = time.monotonic()
            if opening:
                self.openings += 1
        if opening:
            logger.warning(
                "partner %s circuit open after %s failures in a row (%s), probe in %ss",
                self.name,
                self.threshold,
                kind,
                f"{self.open_seconds:g}",
            )

    def reset(self) -> None:
        with self._lock:
            self._state = State.CLOSED
            self._in_a_row = 0
            self._opened_at = 0.0
            self.calls = self.failures = self.short_circuits = self.openings = self.probes = 0
            self.last_failure = ""

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "state": str(self._state),
                "failures_in_a_row": self._in_a_row,
                "calls": self.calls,
                "failures": self.failures,
                "short_circuits": self.short_circuits,
                "openings": self.openings,
                "probes": self.probes,
                "last_failure": self.last_failure,
            }
