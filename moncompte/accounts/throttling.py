"""Sign-in throttling with growing waits, shared by every web process through the database.

Two counters are kept for each failed sign-in:
- per identifier, so that one account cannot be guessed at from many addresses; a browser that
  already signed in to that account successfully carries a device token and gets its own
  counter, so a stranger hammering someone's identifier never locks that person out of their
  usual device (OWASP "device cookies"), and the wait for others is capped
  (MONCOMPTE_THROTTLE_MAX_WAIT_PER_IDENTIFIER);
- per client address, so that one address cannot spray many identifiers.

After a number of free failures each new failure doubles the wait (1 s, 2 s, 4 s, ...) up to a
cap. Counters lapse MONCOMPTE_THROTTLE_WINDOW_SECONDS after their last failure; a success clears
the identifier's counter. Keys hold digests only, never an identifier.

The counters are rows of ``ThrottleCounter``, not cache entries (docs/decisions.md): whatever
Redis does (down, frozen, restarted empty, evicting), nobody gets a fresh attempt from it. A
check is one ``SELECT``; a failure one upsert per key (``INSERT ... ON CONFLICT DO UPDATE``, the
same statement whether the counter exists or not, atomic under concurrent failures) and the
removal of lapsed rows (on PostgreSQL a batch that skips the rows other failures hold),
committed at once: call ``scopes_failed`` outside any transaction that may roll back, or the
failure would be forgotten with it.

Device cookies come from the client: any value, of any characters, is checked without error
(``device_token_matches`` answers False for anything but a genuine token).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.utils import timezone

from moncompte.accounts.models import ThrottleCounter
from moncompte.core.waits import wait_text

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
    # Any text (an address or a cookie as the client sent it) hashes without error.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _scopes_state(scopes: list[ThrottleScope]) -> tuple[int, dict]:
    """The longest wait of ``scopes`` and their live counters, as ``{key + ":n": failures,
    key + ":t": last failure (epoch seconds)}`` (only the keys that have one)."""
    now = timezone.now()
    rows = ThrottleCounter.objects.filter(key__in=[s.key for s in scopes], expires_at__gt=now).values_list(
        "key", "failures", "last_failure_at"
    )
    values: dict = {}
    for key, failures, last_failure_at in rows:
        values[key + ":n"] = failures
        values[key + ":t"] = last_failure_at.timestamp()
    at = now.timestamp()
    waits = [_wait_for(values.get(s.key + ":n", 0), values.get(s.key + ":t", 0.0), s, at) for s in scopes]
    return max(waits, default=0), values


def scopes_wait(scopes: list[ThrottleScope]) -> int:
    """Seconds to wait before the next attempt counted on these scopes; 0 if none."""
    return _scopes_state(scopes)[0]


def scopes_failed(scopes: list[ThrottleScope]) -> None:
    """Count one failure on each scope, committed at once (see the module's docstring)."""
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.MONCOMPTE_THROTTLE_WINDOW_SECONDS)
    alias = router.db_for_write(ThrottleCounter)
    connection = connections[alias]
    ops = connection.ops
    table = ops.quote_name(ThrottleCounter._meta.db_table)
    key, failures, last, expires = (ops.quote_name(c) for c in ("key", "failures", "last_failure_at", "expires_at"))
    # A lapsed counter starts again at 1; the same statement inserts or increments, atomically.
    upsert = (
        f"INSERT INTO {table} ({key}, {failures}, {last}, {expires}) VALUES (%s, 1, %s, %s) "  # noqa: S608 (names only)
        f"ON CONFLICT ({key}) DO UPDATE SET "
        f"{failures} = CASE WHEN {table}.{expires} <= EXCLUDED.{last} THEN 1 ELSE {table}.{failures} + 1 END, "
        f"{last} = EXCLUDED.{last}, {expires} = EXCLUDED.{expires}"
    )
    lapsed = f"SELECT {key} FROM {table} WHERE {expires} <= %s"  # noqa: S608 (names only)
    if connection.features.has_select_for_update_skip_locked:
        # Never waits for a row another failure holds (so never a deadlock), a bounded batch.
        lapsed += " LIMIT 500 FOR UPDATE SKIP LOCKED"
    purge = f"DELETE FROM {table} WHERE {key} IN ({lapsed})"  # noqa: S608 (names only)
    at, until = ops.adapt_datetimefield_value(now), ops.adapt_datetimefield_value(expires_at)
    with transaction.atomic(using=alias, savepoint=False), connection.cursor() as cursor:
        # Keys in one order for every caller: two failures never wait for each other's rows crosswise.
        for scope_key in sorted(scope.key for scope in scopes):
            cursor.execute(upsert, [scope_key, at, until])
        cursor.execute(purge, [at])


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
    ThrottleCounter.objects.filter(key__in=[s.key for s in scopes]).delete()


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
    scopes_cleared([identifier_scope])


def _device_mac(nonce: str, identifier_digest: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"device:{nonce}:{identifier_digest}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def new_device_token(identifier_digest: str) -> str:
    """A token for the browser that just signed in; it reveals nothing about the account."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_device_mac(nonce, identifier_digest)}"


def device_token_matches(token: str, identifier_digest: str) -> bool:
    """Whether ``token`` (a cookie's value, anything a client sends) is a genuine token given for
    this identifier. Never raises: our tokens are ASCII, anything else is simply not one."""
    if not isinstance(token, str) or not token.isascii():
        return False
    nonce, _, mac = token.partition(".")
    if not (nonce and mac):
        return False
    # Bytes: hmac.compare_digest refuses str holding anything but ASCII (a TypeError, once a 500).
    return hmac.compare_digest(mac.encode(), _device_mac(nonce, identifier_digest).encode())


def quota_take(key: str, limit: int) -> bool:
    """Take one of the ``limit`` uses of ``key`` in a throttle window (a ThrottleCounter row).

    True when taken. False once ``limit`` uses are counted: nothing more is counted then, so the
    counter lapses MONCOMPTE_THROTTLE_WINDOW_SECONDS after the last use taken. Two requests at
    once may both read a count under the limit: the atomic upsert's count decides. ``key`` holds
    a digest only, never the value it stands for.
    """
    used = ThrottleCounter.objects.filter(key=key, expires_at__gt=timezone.now()).values_list("failures", flat=True)
    if (used.first() or 0) >= limit:
        return False
    scopes_failed([ThrottleScope(key, limit, 0)])
    counted = ThrottleCounter.objects.filter(key=key).values_list("failures", flat=True).first() or 0
    return counted <= limit


def quiet_request_admit(*, scope: str, client_address: str, quota_key: str, quota_limit: int) -> tuple[int, bool]:
    """Admit a public request answered the same whatever was typed (a reminder, an invitation
    request): ``(wait, False)`` when the client address must wait (nothing counted then), else
    ``(0, allowed)``: the request counted against the address whatever it matches, and one use of
    the per-target quota taken when one is left (``quota_take``)."""
    scopes = [address_scope(scope, client_address)]
    wait = scopes_wait(scopes)
    if wait:
        return wait, False
    scopes_failed(scopes)
    return 0, quota_take(quota_key, quota_limit)


@dataclass(frozen=True)
class QuietRequest:
    """The outcome of a public request answered the same whatever was typed (a reminder, an
    invitation request): ``wait_seconds`` > 0 when throttled (nothing was done); otherwise
    nothing tells what happened."""

    wait_seconds: int = 0

    @property
    def throttled(self) -> bool:
        return self.wait_seconds > 0

    def wait_message(self) -> str:
        return f"Trop de demandes depuis votre connexion. Réessayez dans {wait_text(self.wait_seconds)}."
