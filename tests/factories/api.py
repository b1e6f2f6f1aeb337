"""The API's tokens, as our OpenID provider issues them: an application, and for an account an
access token with its refresh token in one token family, the family's API session recorded."""

import datetime
import secrets
import uuid

from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model, get_refresh_token_model

from moncompte.accounts.models import Account, AccountSession
from moncompte.accounts.tokens import api_session_key
from moncompte.core.actors import Channel


def api_application(*, name: str = "Caf – Mon Compte (tests)", client_id: str = "moncompte-mobile-tests"):
    """A first-party public client (the mobile app): code flow with PKCE, no consent screen."""
    model = get_application_model()
    application, _ = model.objects.get_or_create(
        client_id=client_id,
        defaults={
            "name": name,
            "client_type": model.CLIENT_PUBLIC,
            "authorization_grant_type": model.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": "http://127.0.0.1/callback",
            "skip_authorization": True,
            "algorithm": model.RS256_ALGORITHM,
            "client_secret": "",
        },
    )
    return application


def api_token_for(
    account: Account, *, application=None, scope: str = "openid profile moncompte", seconds: int = 300
) -> str:
    """A live access token of ``account`` (returned as its raw value, for ``Authorization:
    Bearer``), with a refresh token of a new family and that family's API session."""
    application = application or api_application()
    raw = secrets.token_urlsafe(32)
    access = get_access_token_model().objects.create(
        user=account,
        application=application,
        token=raw,
        scope=scope,
        expires=timezone.now() + datetime.timedelta(seconds=seconds),
    )
    family = uuid.uuid4()
    get_refresh_token_model().objects.create(
        user=account, application=application, token=secrets.token_urlsafe(32), access_token=access, token_family=family
    )
    AccountSession.objects.create(
        account=account,
        session_key=api_session_key(family),
        channel=Channel.API,
        device=application.name[:200],
        last_seen_at=timezone.now(),
    )
    return raw


def bearer(token: str) -> dict:
    """The header of an API request with ``token``, for Django's and DRF's test clients."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
