"""How the telephony API answers a refusal: the API's JSON shape ``{code, message, field}``
(moncompte.api.errors), with ``Retry-After`` and ``wait_seconds`` for every capped try and the
platform's own 401 (HTTP Basic, French message)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.response import Response

from moncompte.api.errors import api_exception_handler, error_body
from moncompte.core.errors import DomainError
from moncompte.phone.authentication import REALM

NOT_AUTHENTICATED = (
    "Identifiants du client de la plateforme téléphonique absents ou incorrects (HTTP Basic : identifiant "
    "du client et secret)."
)


def phone_exception_handler(exc, context) -> Response | None:
    if isinstance(exc, DomainError):
        extra, headers = {}, {}
        wait = getattr(exc, "wait_seconds", 0) or 0
        if wait:
            extra["wait_seconds"] = wait
            headers["Retry-After"] = str(wait)
        if exc.field:
            extra["errors"] = {exc.field: [exc.message]}
        return Response(error_body(exc.code, exc.message, exc.field, **extra), status=exc.status, headers=headers)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        code = "not_authenticated" if isinstance(exc, exceptions.NotAuthenticated) else "authentication_failed"
        return Response(
            error_body(code, NOT_AUTHENTICATED),
            status=401,
            headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
        )
    return api_exception_handler(exc, context)
