"""Signing a person in with their identifier and password.

One path for every outcome: unknown identifier, no account, inactive account and wrong
password give the same answer after the same work (an Argon2 computation), so neither the
message nor the time tells whether an identifier exists.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone

from moncompte.accounts import throttling
from moncompte.accounts.models import Account, Contact
from moncompte.accounts.sessions import session_closed, session_opened
from moncompte.audit.services import journal_record
from moncompte.identity.identifiers import Identifier
from moncompte.identity.models import FormerIdentifier, Person
from moncompte.identity.protection import identifier_digest

SESSION_AUTH_AT = "moncompte_auth_at"
SESSION_SEEN_AT = "moncompte_seen_at"
# False until the account has a validated contact: the account is usable only then.
SESSION_CONTACT_OK = "moncompte_contact_ok"

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


def client_address(request: HttpRequest) -> str:
    """The client's address, taking the configured number of trusted proxies into account."""
    proxies = settings.MONCOMPTE_TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


@dataclass(frozen=True)
class SigninOutcome:
    account: Account | None
    wait_seconds: int = 0
    # Set when the right password came with an identifier that was replaced: the new one.
    new_identifier: Identifier | None = None

    @property
    def succeeded(self) -> bool:
        return self.account is not None


def signin(*, request: HttpRequest, identifier: Identifier, password: str) -> SigninOutcome:
    """Check the credentials and, when they hold, open a new session for the account."""
    digest = identifier_digest(identifier.value)
    address = client_address(request)
    device_token = request.COOKIES.get(throttling.DEVICE_COOKIE_NAME)
    wait, failures_counted = throttling.signin_check(
        identifier_digest=digest, address=address, device_token=device_token
    )
    if wait:
        journal_record(action="signin.throttled", client_address=address, detail={"wait_seconds": wait})
        return SigninOutcome(account=None, wait_seconds=wait)

    person = (
        Person.objects.with_identifier(identifier.value)
        .select_related("account")
        .annotate(
            has_verified_contact=Exists(
                Contact.objects.filter(account__person=OuterRef("pk"), verified_at__isnull=False)
            )
        )
        .first()
    )
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
    if account is not None and account.is_active and account.has_usable_password():
        # check_password re-derives the hash when the Argon2 parameters have changed.
        password_ok = account.check_password(password)
    else:
        check_password(password, _dummy_hash())
        password_ok = False

    if password_ok and former is not None:
        # The old identifier never signs in; its holder, proven by the password, learns the new one.
        journal_record(action="signin.former_identifier", subject_person=holder, client_address=address)
        return SigninOutcome(account=None, new_identifier=holder.identifier)

    if not password_ok:
        throttling.signin_failed(identifier_digest=digest, address=address, device_token=device_token)
        journal_record(
            action="signin.failure",
            actor_person=None,
            subject_person=holder,
            client_address=address,
        )
        return SigninOutcome(account=None)

    if failures_counted:
        throttling.signin_succeeded(identifier_digest=digest, device_token=device_token)
    open_session(
        request=request,
        account=account,
        action="signin.success",
        has_verified_contact=getattr(holder, "has_verified_contact", None),
    )
    return SigninOutcome(account=account)


def open_session(
    *, request: HttpRequest, account: Account, action: str, has_verified_contact: bool | None = None
) -> None:
    """Sign the account in on this request: a new session key, its limits, its record.

    The session itself is written once, by SessionMiddleware, when the response leaves.
    """
    address = client_address(request)
    if has_verified_contact is None:
        has_verified_contact = account.contacts.filter(verified_at__isnull=False).exists()
    with transaction.atomic():
        # login() renews the session key: a key planted before sign-in is worthless after it.
        login(request, account, backend="moncompte.accounts.backends.AccountBackend")
        now = timezone.now().timestamp()
        request.session[SESSION_AUTH_AT] = now
        request.session[SESSION_SEEN_AT] = now
        request.session[SESSION_CONTACT_OK] = has_verified_contact
        session_opened(request=request, account=account, client_address=address)
        journal_record(
            action=action,
            actor_person=account.person,
            subject_person=account.person,
            session_key=request.session.session_key,
            client_address=address,
        )


def remember_device(response, identifier: Identifier) -> None:
    """Give the browser that signed in its device token (see moncompte.accounts.throttling)."""
    response.set_cookie(
        throttling.DEVICE_COOKIE_NAME,
        throttling.new_device_token(identifier_digest(identifier.value)),
        max_age=365 * 24 * 3600,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def signout(*, request: HttpRequest) -> None:
    from django.contrib.auth import logout

    if request.user.is_authenticated:
        journal_record(
            action="signout",
            actor_person=request.user.person,
            subject_person=request.user.person,
            session_key=request.session.session_key,
            client_address=client_address(request),
        )
        session_closed(session_key=request.session.session_key, reason="signed_out")
    logout(request)
