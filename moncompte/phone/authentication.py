"""Who may call the telephony API: a ``TelephonyClient`` with HTTP Basic ``client_id:secret``.

Nothing else authenticates here: a usager's bearer token, a web session or an agent's cookie
are not read, and the request answers 401 (``WWW-Authenticate: Basic``). The header is read
from the Django request before any body is parsed.
"""

from __future__ import annotations

import base64
import binascii

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication

from moncompte.telephony.models import TelephonyClient
from moncompte.telephony.services import telephony_client_authenticate

REALM = "telephonie"
# Longer than any client id and secret of ours: not worth decoding.
_MAX_HEADER = 512


class TelephonyClientAuthentication(BaseAuthentication):
    """``request.auth`` is the client; ``request.user`` stays anonymous (a client is no person)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        if len(value) > _MAX_HEADER:
            raise exceptions.AuthenticationFailed()
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise exceptions.AuthenticationFailed() from None
        client_id, separator, secret = decoded.partition(":")
        if not separator or not client_id or not secret:
            raise exceptions.AuthenticationFailed()
        client = telephony_client_authenticate(client_id=client_id, secret=secret)
        if client is None:
            raise exceptions.AuthenticationFailed()
        return AnonymousUser(), client

    def authenticate_header(self, request) -> str:
        return f'Basic realm="{REALM}", charset="UTF-8"'


class TelephonyClientOnly(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, TelephonyClient)


class TelephonyClientScheme(OpenApiAuthenticationExtension):
    """The client credentials in the telephony API's schema."""

    target_class = "moncompte.phone.authentication.TelephonyClientAuthentication"
    name = "basic"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": (
                "Identifiant et secret du client de la plateforme téléphonique (commande "
                "« manage.py phone_client_create »), en HTTP Basic."
            ),
        }
