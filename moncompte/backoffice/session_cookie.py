"""Setting and clearing the agents' session cookie (moncompte.backoffice.middleware reads it)."""

from django.conf import settings

from moncompte.backoffice.middleware import AGENTS_PREFIX


def set_agent_cookie(response, token: str) -> None:
    response.set_cookie(
        settings.MONCOMPTE_AGENT_SESSION_COOKIE,
        token,
        # A browser session: closed with the browser, and bounded by the server's limits anyway.
        max_age=None,
        path=AGENTS_PREFIX,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def clear_agent_cookie(response) -> None:
    response.delete_cookie(settings.MONCOMPTE_AGENT_SESSION_COOKIE, path=AGENTS_PREFIX, samesite="Strict")
