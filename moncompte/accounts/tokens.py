"""The API's sessions: one family of OAuth tokens per sign-in of an app.

Our OpenID provider (django-oauth-toolkit) issues an access token and a refresh token at the
sign-in, then a new pair at each refresh; every pair of one sign-in shares a ``token_family``.
That family is the API's session: its ``AccountSession`` has the key ``oauth:<family>``, so "my
connected devices" lists the app beside the browsers, and ending the session (by the person, a
password change or reset, a deactivation: moncompte.accounts.sessions) revokes the whole family.
"""

import uuid

from oauth2_provider.models import clear_expired, get_access_token_model, get_refresh_token_model

API_SESSION_PREFIX = "oauth:"


def api_session_key(token_family: uuid.UUID | str) -> str:
    return f"{API_SESSION_PREFIX}{token_family}"


def token_family_of(session_key: str) -> uuid.UUID | None:
    if not session_key.startswith(API_SESSION_PREFIX):
        return None
    try:
        return uuid.UUID(session_key.removeprefix(API_SESSION_PREFIX))
    except ValueError:
        return None


def api_tokens_revoke(session_keys: list[str]) -> None:
    """Revoke every token of these API sessions: their refresh tokens become unusable and their
    access tokens are deleted, so the next API call with them is refused."""
    refresh_tokens = get_refresh_token_model()
    for key in session_keys:
        family = token_family_of(key)
        if family is not None:
            refresh_tokens.revoke_family(family)


def api_tokens_purge_expired() -> int:
    """Delete the tokens past their life (django-oauth-toolkit's ``clear_expired``: expired access
    tokens, refresh tokens revoked or unused for REFRESH_TOKEN_EXPIRE_SECONDS, old grants and
    id_tokens), run by ``purge_expired``; the number of access tokens gone."""
    before = get_access_token_model().objects.count()
    clear_expired()
    return before - get_access_token_model().objects.count()
