"""The web session of a signed-in person: open it, keep its limits, close it.

Every web flow that ends signed in (sign-in, first connection, account creation, invitation)
calls ``open_web_session``; the domain records the session (moncompte.accounts.sessions).
"""

import contextlib
import time

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from moncompte.accounts import signin as signin_domain
from moncompte.accounts.models import Account
from moncompte.accounts.onboarding import onboarding_record_seen
from moncompte.accounts.sessions import session_closed, session_open
from moncompte.accounts.throttling import DEVICE_COOKIE_NAME
from moncompte.audit.actions import JournalAction
from moncompte.core.actors import Actor
from moncompte.identity.identifiers import Identifier
from moncompte.web.actors import actor_of
from moncompte.web.signin.targets import after_signin

SESSION_AUTH_AT = "moncompte_auth_at"
SESSION_SEEN_AT = "moncompte_seen_at"
# Where the person was going when the first-connection screens came first (a local path).
SESSION_ONBOARDING_NEXT = "moncompte_onboarding_next"

_BACKEND = "moncompte.accounts.backends.AccountBackend"


@contextlib.contextmanager
def _signed_out_on_failure(request: HttpRequest):
    """If opening the session fails, the request leaves signed out: the transaction rolled the
    record and the journal entry back, so the session must not say signed in either (a page
    answered after the failure would otherwise save it, with no record to list or end it)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):  # the original failure is the one to report
            request.session.flush()
        request.user = AnonymousUser()
        raise


def open_web_session(request: HttpRequest, account: Account, action: JournalAction | str) -> Actor:
    """Sign ``account`` in on this request: a new session key, its limits, its record, the
    journal entry ``action``. Returns the signed-in actor.

    All or nothing: if any step fails, nothing is recorded and the request stays signed out.
    The session itself is written once, by SessionMiddleware, when the response leaves.
    """
    with _signed_out_on_failure(request), transaction.atomic():
        if request.user.is_authenticated:
            # A sign-in over a signed-in session (a second tab, the back button) replaces it:
            # the old one ends with its record, never merged into the new one.
            close_web_session(request, reason="replaced")
        # login() renews the session key: a key planted before sign-in is worthless after it.
        login(request, account, backend=_BACKEND)
        now = time.time()
        request.session[SESSION_AUTH_AT] = now
        request.session[SESSION_SEEN_AT] = now
        actor = actor_of(request)
        session_open(actor=actor, user_agent=request.META.get("HTTP_USER_AGENT", ""), action=JournalAction(action))
    return actor


def sign_in_and_redirect(
    request: HttpRequest, account: Account, identifier: Identifier, action: JournalAction | str, target: str
) -> HttpResponseRedirect:
    """Open the session of ``account`` and answer with a redirect to ``target`` (a local path,
    moncompte.web.signin.targets), the browser remembered for ``identifier``.

    The answer is built before the session opens: nothing that could fail runs once the session
    is recorded (a failure inside ``open_web_session`` leaves no record and no sign-in).
    """
    # The first-connection screens, when due, come first, the target kept for their end. Their
    # record shares the session's transaction: a sign-in that fails leaves them due.
    with transaction.atomic():
        onboarding = onboarding_record_seen(account=account)
        response = HttpResponseRedirect(reverse("web:onboarding") if onboarding else target)
        remember_device(response, identifier)
        open_web_session(request, account, action)
    if onboarding:
        request.session[SESSION_ONBOARDING_NEXT] = target
    return response


def onboarding_or(request: HttpRequest, target: str) -> str:
    """For a flow that signed the person in (open_web_session) and reaches its end now: the
    first-connection screens when due (``target`` kept for their end), else ``target``."""
    if onboarding_record_seen(account=request.user):
        request.session[SESSION_ONBOARDING_NEXT] = target
        return reverse("web:onboarding")
    return target


def onboarding_target(request: HttpRequest) -> str:
    """Where the first-connection screens lead at their end or when skipped: the target kept at
    sign-in (checked again as a local path), else the home page."""
    return after_signin(request.session.get(SESSION_ONBOARDING_NEXT))


def close_web_session(request: HttpRequest, *, reason: str) -> None:
    """Discard this request's session (timeout, a session ended from the list) and its record."""
    session_closed(session_key=request.session.session_key, reason=reason)
    logout(request)


def sign_out(request: HttpRequest) -> None:
    signin_domain.signout(actor=actor_of(request))
    logout(request)


def device_token(request: HttpRequest) -> str | None:
    return request.COOKIES.get(DEVICE_COOKIE_NAME)


# How long a browser keeps its device token (stated on the cookies page, web.pages).
DEVICE_COOKIE_DAYS = 365


def remember_device(response, identifier: Identifier) -> None:
    """Give the browser that signed in its device token (see moncompte.accounts.throttling)."""
    response.set_cookie(
        DEVICE_COOKIE_NAME,
        signin_domain.device_token_for(identifier),
        max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
