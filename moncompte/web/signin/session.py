"""The web session of a signed-in person: open it, keep its limits, close it.

Every web flow that ends signed in (sign-in, first connection, account creation, invitation)
calls ``open_web_session``; the domain records the session (moncompte.accounts.sessions).
"""

import time

from django.conf import settings
from django.contrib.auth import login, logout
from django.db import transaction
from django.http import HttpRequest

from moncompte.accounts import signin as signin_domain
from moncompte.accounts.models import Account
from moncompte.accounts.sessions import session_closed, session_open
from moncompte.accounts.throttling import DEVICE_COOKIE_NAME
from moncompte.audit.actions import JournalAction
from moncompte.core.actors import Actor
from moncompte.identity.identifiers import Identifier
from moncompte.web.actors import actor_of

SESSION_AUTH_AT = "moncompte_auth_at"
SESSION_SEEN_AT = "moncompte_seen_at"

_BACKEND = "moncompte.accounts.backends.AccountBackend"


def open_web_session(request: HttpRequest, account: Account, action: JournalAction | str) -> Actor:
    """Sign ``account`` in on this request: a new session key, its limits, its record, the
    journal entry ``action``. Returns the signed-in actor.

    The session itself is written once, by SessionMiddleware, when the response leaves.
    """
    with transaction.atomic():
        # login() renews the session key: a key planted before sign-in is worthless after it.
        login(request, account, backend=_BACKEND)
        now = time.time()
        request.session[SESSION_AUTH_AT] = now
        request.session[SESSION_SEEN_AT] = now
        actor = actor_of(request)
        session_open(actor=actor, user_agent=request.META.get("HTTP_USER_AGENT", ""), action=JournalAction(action))
    return actor


def close_web_session(request: HttpRequest, *, reason: str) -> None:
    """Discard this request's session (timeout, a session ended from the list) and its record."""
    session_closed(session_key=request.session.session_key, reason=reason)
    logout(request)


def sign_out(request: HttpRequest) -> None:
    signin_domain.signout(actor=actor_of(request))
    logout(request)


def device_token(request: HttpRequest) -> str | None:
    return request.COOKIES.get(DEVICE_COOKIE_NAME)


def remember_device(response, identifier: Identifier) -> None:
    """Give the browser that signed in its device token (see moncompte.accounts.throttling)."""
    response.set_cookie(
        DEVICE_COOKIE_NAME,
        signin_domain.device_token_for(identifier),
        max_age=365 * 24 * 3600,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
