"""The base of every API view: token authentication, the usable-account rule, per-token rate
limits, pagination, and the acting person.

An endpoint is a subclass of ``ApiView`` (or ``ApiGenericView``) that reads ``self.actor`` and
calls the same services and selectors as the pages; it never decides who may see what
(moncompte.access does, through those services).
"""

from __future__ import annotations

from django.utils.functional import cached_property
from rest_framework import generics
from rest_framework.views import APIView

from moncompte.api.actors import actor_of_api

# The classes REST_FRAMEWORK's defaults name live apart (see that module); re-exported here.
from moncompte.api.defaults import (  # noqa: F401
    ContactRequired,
    Pagination,
    TokenAuthentication,
    TokenRateThrottle,
    UsableAccount,
    WriteRateThrottle,
)
from moncompte.core.actors import Actor


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
