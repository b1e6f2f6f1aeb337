"""Checking a person's identifier and password: the domain part of signing in.

One path for every outcome: unknown identifier, no account, inactive account and wrong
password give the same answer after the same work (one Argon2 verification with the production
parameters, and the same throttling counters), so neither the message, nor the time, nor the
number of tries before a wait tells whether an identifier exists.

The channel opens its own session once the credentials hold (the web: moncompte.web.signin.session).
A browser throttled on an identifier can sign in with a code instead of waiting
(moncompte.accounts.unlock, which checks the password through ``password_matches``).
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.utils import timezone

from moncompte.accounts import throttling
from moncompte.accounts.models import Account
from moncompte.accounts.sessions import session_closed
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.identity.identifiers import Identifier
from moncompte.identity.models import FormerIdentifier, Person
from moncompte.identity.protection import identifier_digest

# Verified against when there is no account, so that a failure always costs one Argon2 run.
_dummy_hash_cache: dict[str, str] = {}


def _dummy_hash() -> str:
    params = (
        settings.MONCOMPTE_ARGON2_MEMORY_KIB,
        settings.MONCOMPTE_ARGON2_TIME_COST,
        settings.MONCOMPTE_ARGON2_PARALLELISM,
    )
    key = repr(params)
    if key not in _dummy_hash_cache:
        _dummy_hash_cache[key] = make_password("no account has this password")
    return _dummy_hash_cache[key]


def password_matches(account: Account | None, password: str) -> bool:
    """Whether ``password`` opens ``account``, after the same work whatever the account: an
    absent, inactive or password-less account costs one Argon2 run against the dummy hash.
    Counts nothing: the caller throttles (sign-in here, the unlock in moncompte.accounts.unlock)."""
    if account is not None and account.is_active and account.has_usable_password():
        # check_password re-derives the hash when the Argon2 parameters have changed.
        password_ok = account.check_password(password)
    else:
        check_password(password, _dummy_hash())
        password_ok = False
    return password_ok


@dataclass(frozen=True)
class SigninOutcome:
    account: Account | None
    wait_seconds: int = 0
    # Set when the right password came with an identifier that was replaced: the new one.
    new_identifier: Identifier | None = None

    @property
    def succeeded(self) -> bool:
        return self.account is not None


def credentials_check(
    *, actor: Actor, identifier: Identifier, password: str, device_token: str | None = None
) -> SigninOutcome:
    """Whether ``password`` is the password of the account holding ``identifier``.

    ``actor`` is the visitor (channel, address); ``device_token`` the token the channel keeps for
    a device that signed in to this identifier before (see moncompte.accounts.throttling).
    Journals failures and waits; the success is journaled by the session the channel opens.
    """
    digest = identifier_digest(identifier.value)
    address = actor.client_address or ""
    wait, failures_counted = throttling.signin_check(
        identifier_digest=digest, address=address, device_token=device_token
    )
    if wait:
        journal_record(action=JournalAction.SIGNIN_THROTTLED, actor=actor, detail={"wait_seconds": wait})
        return SigninOutcome(account=None, wait_seconds=wait)

    person = Person.objects.with_identifier(identifier.value).select_related("account").first()
    former = None
    if person is None:
        former = (
            FormerIdentifier.objects.with_identifier(identifier.value)
            .filter(valid_until__gt=timezone.now())
            .select_related("person__account")
            .first()
        )
    holder = person or (former.person if former else None)
    account = getattr(holder, "account", None) if holder else None
    password_ok = password_matches(account, password)

    if password_ok and former is not None:
        # The old identifier never signs in; its holder, proven by the password, learns the new one.
        journal_record(action=JournalAction.SIGNIN_FORMER_IDENTIFIER, actor=actor, subject_person=holder)
        return SigninOutcome(account=None, new_identifier=holder.identifier)

    if not password_ok:
        throttling.signin_failed(identifier_digest=digest, address=address, device_token=device_token)
        journal_record(action=JournalAction.SIGNIN_FAILURE, actor=actor, subject_person=holder)
        return SigninOutcome(account=None)

    if failures_counted:
        throttling.signin_succeeded(identifier_digest=digest, device_token=device_token)
    return SigninOutcome(account=account)


def device_token_for(identifier: Identifier) -> str:
    """A new device token for a client that just signed in with ``identifier``."""
    return throttling.new_device_token(identifier_digest(identifier.value))


def signout(*, actor: Actor) -> None:
    """The signed-in actor leaves: journaled, and their session's record ended. The channel
    discards the session itself."""
    if actor.account is None:
        return
    journal_record(action=JournalAction.SIGNOUT, actor=actor)
    session_closed(session_key=actor.session_key, reason="signed_out")
