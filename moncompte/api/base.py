"""The base of every API view: token authentication, the usable-account rule, per-token rate
limits, pagination, and the acting person.

An endpoint is a subclass of ``ApiView`` (or ``ApiGenericView``) that reads ``self.actor`` and
calls the same services and selectors as the pages; it never decides who may see what
(moncompte.access does, through those services).
"""

from __future__ import annotations

from django.utils.functional import cached_property
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import generics, permissions
from rest_framework.pagination import PageNumberPagination
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from moncompte.accounts.services import account_usable
from moncompte.api.actors import actor_of_api
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError


class ContactRequired(DomainError):
    code = "contact_required"
    message = (
        "Validez d'abord une adresse électronique ou un numéro de téléphone mobile sur le site "
        "Mon Compte pour utiliser l'application."
    )
    status = 403


class TokenAuthentication(OAuth2Authentication):
    """A bearer access token issued by our provider (never the session cookie: no CSRF to fear)."""

    www_authenticate_realm = "api"


class UsableAccount(permissions.BasePermission):
    """The pages' rule, the same function: an account is usable once a contact is validated
    (moncompte.accounts.services.account_usable), and only while it is active."""

    def has_permission(self, request, view) -> bool:
        account = request.user
        if account is None or not account.is_authenticated or not account.is_active:
            return False
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
    page_size = 20
    page_size_query_param = "taille"
    max_page_size = 100
    page_query_param = "page"


class _ApiMixin:
    authentication_classes = [TokenAuthentication]
    permission_classes = [UsableAccount]
    throttle_classes = [TokenRateThrottle, WriteRateThrottle]

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        # The API authenticates by token; the pages' sign-in redirect does not apply to it.
        view.login_required = False
        return view

    @cached_property
    def actor(self) -> Actor:
        return actor_of_api(self.request)


class ApiView(_ApiMixin, APIView):
    pass


class ApiGenericView(_ApiMixin, generics.GenericAPIView):
    pagination_class = Pagination
