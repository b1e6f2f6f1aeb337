"""The OpenID Connect client of FranceConnect v2 (Authlib for OAuth 2, joserfc for JOSE).

What it does, in the order of a sign-in:

1. ``authorization_url``: the authorization code flow's first redirect, with ``scope`` (the
   pivot identity, settings.MONCOMPTE_FRANCECONNECT_SCOPES), ``acr_values=eidas1``, and the
   ``state`` and ``nonce`` the channel drew with ``new_secret`` and keeps server-side.
2. ``sign_in_tokens``: the code exchanged at the token endpoint (``client_secret_post``), then
   the id_token verified: its signature against FranceConnect's keys (ES256 or RS256 only, never
   ``none`` nor a symmetric algorithm), ``iss`` (the configured issuer), ``aud`` (our client id,
   and ``azp`` when there are several audiences), ``exp`` and ``iat`` (with a small leeway),
   ``nonce`` (the one stored for this state) and ``acr`` (eidas1 or stronger).
3. ``userinfo``: the claims, answered as a signed JWT (``application/jwt``), verified the same
   way, with ``iss``, ``aud`` and a ``sub`` equal to the id_token's.
4. ``end_session_url``: the logout through FranceConnect's session end, with the id_token kept
   at sign-in as ``id_token_hint``, a new ``state`` and our return address.

The discovery document and the keys (JWKS) are kept in Django's cache (keys ``franceconnect:*``,
MONCOMPTE_FRANCECONNECT_METADATA_SECONDS); a token signed with a key id the cached keys lack makes
the keys be fetched once again (FranceConnect rotated them), then it is refused.

Every failure raises ``FranceConnectFailure`` with a reason code (``id_token_wrong_nonce``,
``userinfo_bad_signature``...) for the journal, never the token nor a claim; FranceConnect
unreachable or too slow raises ``FranceConnectUnavailable``. Nothing here sees a request: the
channel gives the state, nonce and addresses it built.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.urls import add_params_to_uri
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.core.cache import cache
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from moncompte.core.errors import DomainError

logger = logging.getLogger(__name__)

# The only signature algorithms accepted (FranceConnect v2 signs with ES256, or RS256).
ALGORITHMS = ("ES256", "RS256")
# Claims whose wrong value has its own reason code (id_token_wrong_nonce...).
_NAMED_CLAIMS = {"iss", "aud", "azp", "sub", "exp", "iat", "nbf", "nonce", "acr"}
# state and nonce: 32 random bytes, 43 characters (FranceConnect asks for 32 at least).
SECRET_BYTES = 32


class FranceConnectFailure(DomainError):
    """The sign-in with FranceConnect cannot go on: a check failed or FranceConnect answered wrong.

    ``reason`` is a code for the journal and the logs (never a token nor a claim's value).
    """

    code = "franceconnect_failed"
    message = "La connexion avec FranceConnect n'a pas abouti."
    status = 502

    def __init__(self, reason: str, *, status: int | None = None):
        super().__init__()
        self.reason = reason
        if status is not None:
            self.status = status


class FranceConnectUnavailable(FranceConnectFailure):
    """FranceConnect could not be reached, or did not answer in time."""

    status = 503


@dataclass(frozen=True)
class SignInTokens:
    id_token: str  # kept (server-side) for the logout's id_token_hint
    id_claims: dict
    access_token: str

    @property
    def sub(self) -> str:
        return self.id_claims["sub"]


def is_enabled() -> bool:
    """FranceConnect is on when an issuer is configured (settings.MONCOMPTE_FRANCECONNECT_ISSUER)."""
    return bool(settings.MONCOMPTE_FRANCECONNECT_ISSUER)


def new_secret() -> str:
    """A fresh random ``state`` or ``nonce``."""
    return secrets.token_urlsafe(SECRET_BYTES)


def issuer() -> str:
    """The configured issuer: the ``iss`` of every token, and of the callback's parameter."""
    return settings.MONCOMPTE_FRANCECONNECT_ISSUER


def _timeout() -> tuple[float, float]:
    return (settings.MONCOMPTE_FRANCECONNECT_CONNECT_TIMEOUT, settings.MONCOMPTE_FRANCECONNECT_TIMEOUT)


def _cache_key(kind: str) -> str:
    # Per issuer (and client, for the keys of one configuration): a changed setting reads afresh.
    scope = f"{issuer()}|{settings.MONCOMPTE_FRANCECONNECT_CLIENT_ID}".encode()
    return f"franceconnect:{kind}:{hashlib.sha256(scope).hexdigest()[:16]}"


def _oauth(redirect_uri: str | None = None, token: dict | None = None) -> OAuth2Session:
    return OAuth2Session(
        client_id=settings.MONCOMPTE_FRANCECONNECT_CLIENT_ID,
        client_secret=settings.MONCOMPTE_FRANCECONNECT_CLIENT_SECRET,
        scope=" ".join(settings.MONCOMPTE_FRANCECONNECT_SCOPES),
        redirect_uri=redirect_uri,
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method name)
        token=token,
    )


def _unreachable(error: requests.RequestException, what: str) -> FranceConnectFailure:
    # The class only: a message may quote the URL, and an URL may hold a code.
    logger.warning("FranceConnect %s: %s", what, type(error).__name__)
    if isinstance(error, (requests.ConnectionError, requests.Timeout)):
        return FranceConnectUnavailable(f"{what}_unreachable")
    return FranceConnectFailure(f"{what}_http_error")


def _get_json(url: str, what: str) -> dict:
    try:
        with _oauth() as session:
            # No token to send: discovery and keys are public.
            response = session.get(url, withhold_token=True, timeout=_timeout(), headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
    except requests.RequestException as error:
        raise _unreachable(error, what) from None
    except ValueError:
        raise FranceConnectFailure(f"{what}_malformed") from None
    if not isinstance(document, dict):
        raise FranceConnectFailure(f"{what}_malformed")
    return document


def metadata() -> dict:
    """FranceConnect's discovery document (cached), checked to be the configured issuer's."""
    key = _cache_key("metadata")
    document = cache.get(key)
    if isinstance(document, dict):
        return document
    document = _get_json(f"{issuer()}/.well-known/openid-configuration", "discovery")
    if document.get("issuer") != issuer():
        raise FranceConnectFailure("discovery_wrong_issuer")
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        if not isinstance(document.get(endpoint), str) or not document[endpoint].startswith(("https://", "http://")):
            raise FranceConnectFailure("discovery_malformed")
    cache.set(key, document, settings.MONCOMPTE_FRANCECONNECT_METADATA_SECONDS)
    return document


def _key_set(*, refresh: bool) -> KeySet:
    key = _cache_key("jwks")
    document = None if refresh else cache.get(key)
    if not isinstance(document, dict):
        document = _get_json(metadata()["jwks_uri"], "jwks")
        refresh = True
    try:
        keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError):
        raise FranceConnectFailure("jwks_malformed") from None
    if refresh:
        cache.set(key, document, settings.MONCOMPTE_FRANCECONNECT_METADATA_SECONDS)
    return keys


def _signing_key(kid: object):
    """The key ``kid`` names: from the cached keys, else from keys fetched again once."""
    for refresh in (False, True):
        try:
            return _key_set(refresh=refresh).get_by_kid(kid if isinstance(kid, str) else None)
        except InvalidKeyIdError:
            continue
    raise FranceConnectFailure("unknown_key")


def _verified_claims(token: object, what: str) -> dict:
    """The claims of a JWT signed by FranceConnect (signature only: the caller checks the claims)."""
    if not isinstance(token, str) or not token:
        raise FranceConnectFailure(f"{what}_missing")
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise FranceConnectFailure(f"{what}_malformed") from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise FranceConnectFailure(f"{what}_algorithm_refused")
    try:
        key = _signing_key(header.get("kid"))
    except FranceConnectFailure as failure:
        if failure.reason == "unknown_key":
            raise FranceConnectFailure(f"{what}_unknown_key") from None
        raise
    try:
        return jwt.decode(token, key, algorithms=[algorithm]).claims
    except BadSignatureError:
        raise FranceConnectFailure(f"{what}_bad_signature") from None
    except (JoseError, ValueError, TypeError):
        raise FranceConnectFailure(f"{what}_malformed") from None


def _check_claims(claims: dict, what: str, **options) -> None:
    registry = jwt.JWTClaimsRegistry(leeway=settings.MONCOMPTE_FRANCECONNECT_LEEWAY_SECONDS, **options)
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise FranceConnectFailure(f"{what}_expired") from None
    except MissingClaimError:
        raise FranceConnectFailure(f"{what}_missing_claim") from None
    except InvalidClaimError as error:
        claim = error.claim if error.claim in _NAMED_CLAIMS else "claim"
        raise FranceConnectFailure(f"{what}_wrong_{claim}") from None


def authorization_url(*, redirect_uri: str, state: str, nonce: str) -> str:
    """Where to send the browser to sign in with FranceConnect."""
    url, _ = _oauth(redirect_uri).create_authorization_url(
        metadata()["authorization_endpoint"],
        state=state,
        nonce=nonce,
        acr_values=settings.MONCOMPTE_FRANCECONNECT_ACR,
    )
    return url


def verify_id_token(id_token: object, *, nonce: str) -> dict:
    """The claims of an id_token, every check of the module docstring passed."""
    claims = _verified_claims(id_token, "id_token")
    client_id = settings.MONCOMPTE_FRANCECONNECT_CLIENT_ID
    _check_claims(
        claims,
        "id_token",
        iss={"essential": True, "value": issuer()},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
        acr={"essential": True, "values": list(settings.MONCOMPTE_FRANCECONNECT_ACR_ACCEPTED)},
    )
    audiences = claims["aud"]
    if isinstance(audiences, list) and len(audiences) > 1 and claims.get("azp") != client_id:
        raise FranceConnectFailure("id_token_wrong_azp")
    return claims


def sign_in_tokens(*, code: str, redirect_uri: str, nonce: str) -> SignInTokens:
    """Exchange the callback's code, and verify the id_token it brings."""
    try:
        with _oauth(redirect_uri) as session:
            token = session.fetch_token(
                metadata()["token_endpoint"], grant_type="authorization_code", code=code, timeout=_timeout()
            )
    except requests.RequestException as error:
        raise _unreachable(error, "token") from None
    except AuthlibBaseError:
        # FranceConnect refused the code (expired, already used, not ours): its error only.
        raise FranceConnectFailure("token_refused") from None
    except ValueError:
        raise FranceConnectFailure("token_malformed") from None
    access_token = token.get("access_token")
    if not isinstance(access_token, str) or not access_token:
        raise FranceConnectFailure("token_malformed")
    id_token = token.get("id_token")
    claims = verify_id_token(id_token, nonce=nonce)
    return SignInTokens(id_token=id_token, id_claims=claims, access_token=access_token)


def userinfo(tokens: SignInTokens) -> dict:
    """The pivot identity's claims: a JWT signed by FranceConnect, for the id_token's ``sub``."""
    bearer = {"access_token": tokens.access_token, "token_type": "Bearer"}
    try:
        with _oauth(token=bearer) as session:
            response = session.get(
                metadata()["userinfo_endpoint"], timeout=_timeout(), headers={"Accept": "application/jwt"}
            )
            response.raise_for_status()
    except requests.RequestException as error:
        raise _unreachable(error, "userinfo") from None
    if response.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/jwt":
        raise FranceConnectFailure("userinfo_not_signed")
    claims = _verified_claims(response.text.strip(), "userinfo")
    _check_claims(
        claims,
        "userinfo",
        iss={"essential": True, "value": issuer()},
        aud={"essential": True, "value": settings.MONCOMPTE_FRANCECONNECT_CLIENT_ID},
        sub={"essential": True, "value": tokens.sub},
    )
    return claims


def end_session_url(*, id_token_hint: str, state: str, post_logout_redirect_uri: str) -> str:
    """Where to send the browser so that FranceConnect ends its session too, then comes back."""
    endpoint = metadata().get("end_session_endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        raise FranceConnectFailure("discovery_no_end_session")
    return add_params_to_uri(
        endpoint,
        [("id_token_hint", id_token_hint), ("state", state), ("post_logout_redirect_uri", post_logout_redirect_uri)],
    )
