"""The web channel's side of the acting person: turns a request into an ``Actor``.

Only the web channel reads requests; the services and selectors receive what this module builds.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from moncompte.core.actors import Actor, Channel


def client_address(request: HttpRequest) -> str:
    """The client's address, taking the configured number of trusted proxies into account.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For, so
    the client is the entry that many positions from the end; anything before it is whatever the
    client chose to send. Without trusted proxies, or with a header shorter than their number
    (the request did not come through them), the address of the connection is the client's.
    """
    proxies = settings.MONCOMPTE_TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def actor_of(request: HttpRequest) -> Actor:
    """Who acts through this request: the signed-in account (if any), its session and address."""
    user = getattr(request, "user", None)
    account = user if user is not None and user.is_authenticated else None
    session = getattr(request, "session", None)
    return Actor(
        channel=Channel.WEB,
        account=account,
        session_key=session.session_key if session is not None else None,
        client_address=client_address(request),
    )
