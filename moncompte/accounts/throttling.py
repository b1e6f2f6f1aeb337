"""Sign-in throttling with growing waits, shared by every web process through the cache.

Two counters are kept for each failed sign-in:
- per identifier, so that one account cannot be guessed at from many addresses; a browser that
  already signed in to that account successfully carries a device token and gets its own
  counter, so a stranger hammering someone's identifier never locks that person out of their
  usual device (OWASP "device cookies"), and the wait for others is capped
  (MONCOMPTE_THROTTLE_MAX_WAIT_PER_IDENTIFIER);
- per client address, so that one address cannot spray many identifiers.

After a number of free failures each new failure doubles the wait (1 s, 2 s, 4 s, ...) up to a
cap. Counters expire after MONCOMPTE_THROTTLE_WINDOW_SECONDS without failure; a success clears
the identifier's counter. Keys hold digests only, never an identifier.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

DEVICE_COOKIE_NAME = "moncompte_appareil"


@dataclass(frozen=True)
class ThrottleScope:
    key: str
    free_failures: int
    max_wait: int


def _wait_for(failures: int, last_failure_at: float, scope: ThrottleScope, now: float) -> int:
    if failures <= scope.free_failures:
        return 0
    wait = min(2 ** (failures - scope.free_failures - 1), scope.max_wait)
    return max(0, int(last_failure_at + wait - now + 0.999))


def _scopes(*, identifier_digest: str, address: str, device_token: str | None) -> list[ThrottleScope]:
    if device_token and device_token_matches(device_token, identifier_digest):
        identifier_key = f"throttle:device:{_short(device_token + identifier_digest)}"
    else:
        identifier_key = f"throttle:identifier:{_short(identifier_digest)}"
    return [
        ThrottleScope(
            identifier_key,
            settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER,
            settings.MONCOMPTE_THROTTLE_MAX_WAIT_PER_IDENTIFIER,
        ),
        address_scope("signin", address),
    ]


def _short(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _scopes_state(scopes: list[ThrottleScope]) -> tuple[int, dict]:
    now = time.time()
    values = cache.get_many([k for s in scopes for k in (s.key + ":n", s.key + ":t")])
    waits = [_wait_for(int(values.get(s.key + ":n", 0)), float(values.get(s.key + ":t", 0)), s, now) for s in scopes]
    return max(waits, default=0), values


def scopes_wait(scopes: list[ThrottleScope]) -> int:
    """Seconds to wait before the next attempt counted on these scopes; 0 if none."""
    return _scopes_state(scopes)[0]


def scopes_failed(scopes: list[ThrottleScope]) -> None:
    window = settings.MONCOMPTE_THROTTLE_WINDOW_SECONDS
    now = time.time()
    for scope in scopes:
        cache.add(scope.key + ":n", 0, window)
        try:
            cache.incr(scope.key + ":n")
        except ValueError:  # expired between add and incr
            cache.set(scope.key + ":n", 1, window)
        cache.set(scope.key + ":t", now, window)


def address_scope(purpose: str, address: str) -> ThrottleScope:
    """The per-address counter of one kind of attempt (sign-in, first connection, reset, ...)."""
    return ThrottleScope(
        f"throttle:{purpose}:address:{_short(address)}",
        settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS,
        settings.MONCOMPTE_THROTTLE_MAX_WAIT_PER_ADDRESS,
    )


def password_reset_key(*, identifier_digest: str, device_token: str | None = None) -> str:
    """The per-identifier counter of password-reset requests and codes (or of this device's, when
    it already signed in to that identifier), as for sign-in; kept by the flow between steps."""
    if device_token and device_token_matches(device_token, identifier_digest):
        return f"throttle:password_reset:device:{_short(device_token + identifier_digest)}"
    return f"throttle:password_reset:identifier:{_short(identifier_digest)}"


def password_reset_scopes(identifier_key: str, address: str) -> list[ThrottleScope]:
    return [
        ThrottleScope(
            identifier_key,
            settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER,
            settings.MONCOMPTE_THROTTLE_MAX_WAIT_PER_IDENTIFIER,
        ),
        address_scope("password_reset", address),
    ]


def reauth_scope(account_id: int) -> ThrottleScope:
    """The per-account counter of password re-entries by a signed-in person (moncompte.accounts
    .reauth): one for every form that asks for it, so guesses through several forms add up."""
    return ThrottleScope(
        f"throttle:reauth:account:{_short(str(account_id))}",
        settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER,
        settings.MONCOMPTE_THROTTLE_MAX_WAIT_PER_IDENTIFIER,
    )


def scopes_cleared(scopes: list[ThrottleScope]) -> None:
    cache.delete_many([k for s in scopes for k in (s.key + ":n", s.key + ":t")])


def signin_wait(*, identifier_digest: str, address: str, device_token: str | None = None) -> int:
    """Seconds the client must still wait before a new attempt on this identifier; 0 if none."""
    return signin_check(identifier_digest=identifier_digest, address=address, device_token=device_token)[0]


def signin_check(*, identifier_digest: str, address: str, device_token: str | None = None) -> tuple[int, bool]:
    """The wait (as signin_wait) and whether this identifier has failures counted, in one read:
    when it has none, a success has nothing to clear (one round trip saved per sign-in)."""
    scopes = _scopes(identifier_digest=identifier_digest, address=address, device_token=device_token)
    wait, values = _scopes_state(scopes)
    return wait, scopes[0].key + ":n" in values


def signin_failed(*, identifier_digest: str, address: str, device_token: str | None = None) -> None:
    scopes_failed(_scopes(identifier_digest=identifier_digest, address=address, device_token=device_token))


def signin_succeeded(*, identifier_digest: str, device_token: str | None = None) -> None:
    # Only the counter the attempt was counted on is cleared: the address counter stays (a
    # success does not excuse spraying other identifiers).
    identifier_scope = _scopes(identifier_digest=identifier_digest, address="", device_token=device_token)[0]
    cache.delete_many([identifier_scope.key + ":n", identifier_scope.key + ":t"])


def _device_mac(nonce: str, identifier_digest: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"device:{nonce}:{identifier_digest}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def new_device_token(identifier_digest: str) -> str:
    """A token for the browser that just signed in; it reveals nothing about the account."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_device_mac(nonce, identifier_digest)}"


def device_token_matches(token: str, identifier_digest: str) -> bool:
    nonce, _, mac = token.partition(".")
    return bool(nonce and mac) and hmac.compare_digest(mac, _device_mac(nonce, identifier_digest))
