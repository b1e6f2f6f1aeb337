"""The toolkit's validator and server, with our rules (settings OAUTH2_PROVIDER, docs/api.md).

- The authorization code flow and its refresh only; PKCE for every client with S256 only (a
  missing challenge, ``plain`` or a malformed challenge is refused with ``invalid_request``).
- The app's session is its token family (moncompte.api.oidc.sessions): recorded when the code is
  exchanged, touched at each refresh; a refresh token presented again after its rotation revokes
  the family (the toolkit's REFRESH_TOKEN_REUSE_PROTECTION) and ends that session, journaled; a
  revocation ends the family and its session too.
- Nothing is issued to, or accepted from, a deactivated account.
- Claims: moncompte.api.oidc.claims, with ``acr`` in the id_token.

The protocol's error descriptions are in English and plain ASCII (RFC 6749 section 5.2 allows
nothing else in ``error_description``); the people see French pages (moncompte.api.oidc.views).
"""

from __future__ import annotations

import hashlib
import re

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from jwcrypto.common import JWException
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import Server

from moncompte.accounts.tokens import api_session_key
from moncompte.api.defaults import API_SCOPE
from moncompte.api.oidc.claims import SCOPE_OF_CLAIM, claims_of
from moncompte.api.oidc.sessions import (
    api_session_is_open,
    api_session_opened,
    api_session_refreshed,
    api_sessions_ended,
)
from moncompte.audit.actions import JournalAction
from moncompte.core.actors import Actor, Channel
from moncompte.web.actors import client_address

# BASE64URL(SHA-256(code_verifier)) is always 43 characters (RFC 7636 section 4.2).
S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
# The longest nonce a grant keeps (the toolkit's Grant.nonce).
NONCE_MAX_LENGTH = 255
GRANT_TYPES = ("authorization_code", "refresh_token")


def pkce_s256_only(request) -> dict:
    """A post-authorization validator of the authorization endpoint: oauthlib has already refused
    a missing challenge (PKCE_REQUIRED) and read a missing method as "plain"."""
    if request.code_challenge_method != "S256":
        raise errors.UnsupportedCodeChallengeMethodError(
            description="Only the S256 code_challenge_method is supported.", request=request
        )
    if not S256_CHALLENGE.fullmatch(request.code_challenge or ""):
        raise errors.InvalidRequestError(
            description="code_challenge must be the base64url SHA-256 of the code_verifier (43 characters).",
            request=request,
        )
    if request.nonce and len(request.nonce) > NONCE_MAX_LENGTH:
        raise errors.InvalidRequestError(description="nonce is too long.", request=request)
    return {}


class OidcServer(Server):
    """oauthlib's OpenID Connect server, its authorization code grants checking PKCE S256."""

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        # The OpenID grant proxies its validators to an OAuth 2 code grant of its own.
        for grant in (self.auth_grant, self.openid_connect_auth):
            grant.custom_validators.post_auth.append(pkce_s256_only)


def _checksum(token: str) -> str:
    """How the toolkit finds a token it stores as a hash (COMPLIANT_BCP_RFC9700_TOKEN_STORAGE)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _client_address(request) -> str:
    """The client's address from the oauthlib request's headers (the Django request's META), by
    the same trusted-proxy rule as everywhere else."""
    http_request = HttpRequest()
    http_request.META = dict(request.headers or {})
    return client_address(http_request)


def _api_actor(request, account, token_family) -> Actor:
    return Actor(
        channel=Channel.API,
        account=account,
        session_key=api_session_key(token_family),
        client_address=_client_address(request),
    )


class OidcValidator(OAuth2Validator):
    oidc_claim_scope = SCOPE_OF_CLAIM

    # --- Flows ----------------------------------------------------------------------------------

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        if grant_type not in GRANT_TYPES:
            return False
        return super().validate_grant_type(client_id, grant_type, client, request, *args, **kwargs)

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        if response_type != "code":
            return False
        return super().validate_response_type(client_id, response_type, client, request, *args, **kwargs)

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        # The REST API's scope (the person's whole Mon Compte: files, procedures, the Caf's
        # requests) only for our own apps; another Caf service gets the identity it asked for.
        if API_SCOPE in scopes and not client.skip_authorization:
            return False
        return super().validate_scopes(client_id, scopes, client, request, *args, **kwargs)

    def validate_silent_login(self, request):
        # prompt=none: the authorization view runs for a signed-in person only (the toolkit
        # answers login_required to the client otherwise).
        return True

    def validate_silent_authorization(self, request):
        # prompt=none without a consent page: only a first-party client goes through.
        client = getattr(request, "client", None)
        return bool(client is not None and client.skip_authorization)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        return bool(super().validate_code(client_id, code, client, request, *args, **kwargs) and request.user.is_active)

    def validate_bearer_token(self, token, scopes, request):
        if not super().validate_bearer_token(token, scopes, request):
            return False
        # Deactivating an account revokes its tokens; this holds even for one left behind.
        return request.user is not None and request.user.is_active

    # --- Refresh tokens: rotation, reuse, the app's session --------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            self._end_session_of_reused(refresh_token, request)
            return False
        return request.user.is_active

    def _end_session_of_reused(self, refresh_token: str, request) -> None:
        """A refresh token that was revoked came back: the toolkit has just revoked its whole
        family (a stolen token and its rightful holder cannot both go on). If the family's
        session was still open, this was a reuse after a rotation: end it and journal the reuse.
        (An app trying its refresh token after its session was ended, by a logout or a password
        change, is no reuse worth telling the person about.)"""
        if not oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
            return
        presented = (
            get_refresh_token_model()
            .objects.filter(token_checksum=_checksum(refresh_token))
            .select_related("user")
            .order_by(F("revoked").desc(nulls_first=True))
            .first()
        )
        if presented is None or presented.revoked is None or not presented.token_family:
            return
        if not api_session_is_open(token_family=presented.token_family):
            return
        api_sessions_ended(
            actor=_api_actor(request, presented.user, presented.token_family),
            token_families=[presented.token_family],
            reason="refresh_token_reused",
            action=JournalAction.OIDC_REFRESH_REUSED,
        )

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        # Inside the toolkit's transaction of save_bearer_token: the tokens and the session's
        # record are written together or not at all.
        refresh_token = super()._create_refresh_token(request, refresh_token_code, access_token, previous_refresh_token)
        if previous_refresh_token is None:
            api_session_opened(
                actor=_api_actor(request, request.user, refresh_token.token_family),
                application_name=request.client.name,
                user_agent=(request.headers or {}).get("HTTP_USER_AGENT", ""),
            )
        else:
            api_session_refreshed(token_family=refresh_token.token_family)
        return refresh_token

    # --- Revocation (RFC 7009) -------------------------------------------------------------------

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        """Revoking any token of a family ends the app's session: the whole family with it."""
        with transaction.atomic():
            found = self._refresh_token_of(token, request.client)
            super().revoke_token(token, token_type_hint, request, *args, **kwargs)
            if found is not None and found.token_family:
                api_sessions_ended(
                    actor=_api_actor(request, found.user, found.token_family),
                    token_families=[found.token_family],
                    reason="revoked",
                    action=JournalAction.OIDC_REVOKED,
                )

    @staticmethod
    def _refresh_token_of(token: str, client):
        """The refresh token of ``client`` that ``token`` is, or is bound to (an access token)."""
        application_pk = getattr(client, "pk", None)
        if application_pk is None:
            return None
        checksum = _checksum(token)
        refresh_tokens = get_refresh_token_model().objects.select_related("user")
        access = get_access_token_model().objects.filter(token_checksum=checksum, application_id=application_pk).first()
        if access is not None:
            return refresh_tokens.filter(access_token=access).first()
        return (
            refresh_tokens.filter(token_checksum=checksum, application_id=application_pk)
            .order_by(F("revoked").desc(nulls_first=True))
            .first()
        )

    # --- Claims ----------------------------------------------------------------------------------

    def get_claim_dict(self, request):
        return claims_of(request.user)

    def get_discovery_claims(self, request):
        return [*SCOPE_OF_CLAIM, "acr", "auth_time"]

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        claims["acr"] = settings.MONCOMPTE_OIDC_ACR
        return claims, expiration_time

    # --- Hostile id_token_hint (RP-initiated logout) ----------------------------------------------

    def _get_key_for_token(self, token):
        """The toolkit peeks into the unverified token: anything malformed is no token of ours."""
        try:
            return super()._get_key_for_token(token)
        except (JWException, ValueError, TypeError, KeyError, AttributeError):
            return None

    def _get_client_by_audience(self, audience):
        if isinstance(audience, str):
            audience = [audience]
        if not isinstance(audience, list) or not all(isinstance(entry, str) for entry in audience):
            return None
        return super()._get_client_by_audience(audience)
