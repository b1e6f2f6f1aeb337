"""The classes REST_FRAMEWORK's defaults name: the bearer token, the usable-account rule, the
per-token rates and the pagination (moncompte.api.base re-exports them for the views).

Apart from moncompte.api.base on purpose: Django REST framework imports the classes of these
settings while its own ``rest_framework.views`` and ``generics`` are being imported (their class
attributes and rest_framework.schemas read them), so this module must import neither.
"""

from __future__ import annotations

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import permissions
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.throttling import SimpleRateThrottle

from moncompte.accounts.services import account_usable
from moncompte.core.errors import DomainError

# The scope of the REST API: the person's Mon Compte (files, procedures, the Caf's requests, their
# sessions). Only first-party clients may be granted it (moncompte.api.oidc.validators); a token
# without it (another Caf service that asked for the identity only) reads nothing of the API.
API_SCOPE = "moncompte"


class InsufficientScope(DomainError):
    code = "insufficient_scope"
    message = "Cette application n'a pas accès à votre espace Mon Compte."
    status = 403


class ContactRequired(DomainError):
    code = "contact_required"
    message = (
        "Validez d'abord une adresse électronique ou un numéro de téléphone mobile sur le site "
        "Mon Compte pour utiliser l'application."
    )
    status = 403


class TokenAuthentication(OAuth2Authentication):
    """A bearer access token issued by our provider, in the ``Authorization`` header only (RFC 6750
    section 2.1): never the session cookie (no CSRF to fear), never a token in the query string
    (it would land in logs) or in the body.

    The check reads the Django request, not DRF's: nothing of the body is parsed before the
    token is known (a form posted to a JSON endpoint answers 401 to a stranger, not 415)."""

    www_authenticate_realm = "api"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header[:7].lower() == "bearer ":
            return None
        return super().authenticate(getattr(request, "_request", request))


class UsableAccount(permissions.BasePermission):
    """The pages' rule, the same function: an account is usable once a contact is validated
    (moncompte.accounts.services.account_usable), and only while it is active; and the token was
    granted the API's scope."""

    def has_permission(self, request, view) -> bool:
        account = request.user
        if account is None or not account.is_authenticated or not account.is_active:
            return False
        if not request.auth.allow_scopes([API_SCOPE]):
            raise InsufficientScope()
        if not account_usable(account):
            raise ContactRequired()
        return True


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per token (its API session; the address before sign-in), rate
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]. Counted in the cache: without Redis the
    limit is not applied, the service still answers (docs/operations.md)."""

    scope = "token"

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        ident = f"t{token.pk}" if token is not None and getattr(token, "pk", None) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class WriteRateThrottle(TokenRateThrottle):
    """A stricter rate for the writes (saving a step, sending a file, changing a contact)."""

    scope = "token_write"

    def allow_request(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class Pagination(PageNumberPagination):
    """``?page=N`` (from 1) and ``?taille=N`` (1 to 100): a page that does not exist answers 404,
    a size out of bounds 400, as the schema says (nothing silently replaced by a default)."""

    page_size = 20
    page_size_query_param = "taille"
    max_page_size = 100
    page_query_param = "page"
    last_page_strings = ()

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = int(raw) if raw.isascii() and raw.isdigit() else 0
        if not 1 <= size <= self.max_page_size:
            message = f"Indiquez un nombre entier de 1 à {self.max_page_size}."
            raise ValidationError({self.page_size_query_param: [message]})
        return size

    def get_page_number(self, request, paginator):
        # Given, even empty: checked by the paginator (not a page: 404); absent: the first.
        return request.query_params.get(self.page_query_param, 1)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
