"""The API channel's side of the acting person: a request with a bearer token becomes an ``Actor``.

The token was issued by our OpenID provider (moncompte.api.oidc) to one sign-in of an app; its
token family is the API session (moncompte.accounts.tokens), so the journal and "my connected
devices" see the app's session as they see a browser's.
"""

from __future__ import annotations

from moncompte.accounts.tokens import api_session_key
from moncompte.core.actors import Actor, Channel
from moncompte.web.actors import client_address


def token_session_key(token) -> str | None:
    """The API session of an access token: its refresh token's family (None for a token issued
    without a refresh token, which no flow of ours does)."""
    refresh_token = getattr(token, "refresh_token", None)
    family = getattr(refresh_token, "token_family", None)
    return api_session_key(family) if family else None


def actor_of_api(request) -> Actor:
    """Who acts through this API request: the token's account and session, and the client's
    address (the same trusted-proxy rule as the pages)."""
    user = getattr(request, "user", None)
    account = user if user is not None and user.is_authenticated else None
    token = getattr(request, "auth", None)
    return Actor(
        channel=Channel.API,
        account=account,
        session_key=token_session_key(token) if account is not None else None,
        client_address=client_address(request),
    )
