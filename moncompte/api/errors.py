"""How the API answers a refusal: JSON ``{"code", "message", "field"}``, French message, 4xx.

A ``DomainError`` keeps its code, message, field and status (``NotAllowed``: 404, as on the pages:
a refusal never tells that the thing exists). Django REST framework's own errors (no token, bad
JSON, a throttle, validation) get a stable code and a French message too; validation errors list
every field's problems under ``errors``. Never a 500 for bad input.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from moncompte.core.errors import DomainError, NotAllowed, Throttled
from moncompte.core.waits import too_many_attempts
from moncompte.web import errors as web_errors

_MESSAGES: dict[type[exceptions.APIException], tuple[str, str]] = {
    exceptions.NotAuthenticated: ("not_authenticated", "Connectez-vous pour utiliser ce service."),
    exceptions.AuthenticationFailed: (
        "authentication_failed",
        "Votre connexion n'est plus valable : connectez-vous à nouveau.",
    ),
    exceptions.PermissionDenied: ("forbidden", "Vous n'avez pas accès à ce service."),
    exceptions.NotFound: ("not_found", NotAllowed.message),
    exceptions.MethodNotAllowed: ("method_not_allowed", "Cette opération n'est pas possible ici."),
    exceptions.NotAcceptable: ("not_acceptable", "Ce format de réponse n'est pas disponible."),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Ce format de données n'est pas accepté."),
    exceptions.ParseError: ("malformed", "La demande est mal formée."),
}


def error_body(code: str, message: str, field: str | None = None, **extra) -> dict:
    return {"code": code, "message": message, "field": field, **extra}


def _french_errors(detail) -> dict[str, list[str]] | list[str]:
    """DRF's validation detail, as lists of strings per field (nested fields joined by dots)."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            inner = _french_errors(value)
            if isinstance(inner, dict):
                for sub, messages in inner.items():
                    flat[f"{key}.{sub}"] = messages
            else:
                flat[str(key)] = inner
        return flat
    if isinstance(detail, list):
        if detail and all(isinstance(item, dict) for item in detail):
            flat = {}
            for index, item in enumerate(detail):
                for sub, messages in _french_errors(item).items():
                    flat[f"{index}.{sub}"] = messages
            return flat
        return [str(item) for item in detail]
    return [str(detail)]


def domain_error_response(error: DomainError) -> Response:
    extra = {}
    headers = {}
    if isinstance(error, Throttled):
        extra["wait_seconds"] = error.wait_seconds
        headers["Retry-After"] = str(error.wait_seconds)
    errors = getattr(error, "errors", None)
    if errors:
        extra["errors"] = errors
    return Response(error_body(error.code, error.message, error.field, **extra), status=error.status, headers=headers)


def api_exception_handler(exc, context) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: every refusal as one JSON shape."""
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        return Response(
            error_body("throttled", too_many_attempts(wait), wait_seconds=wait),
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
        )
    if isinstance(exc, exceptions.ValidationError):
        errors = _french_errors(exc.detail)
        if isinstance(errors, list):
            errors = {"non_field_errors": errors}
        field = next((name for name in errors if name != "non_field_errors"), None)
        return Response(
            error_body("invalid", "Certaines informations sont à corriger.", field, errors=errors),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, exceptions.APIException):
        code, message = _MESSAGES.get(type(exc), (None, None))
        if code is None:
            for kind, (kind_code, kind_message) in _MESSAGES.items():
                if isinstance(exc, kind):
                    code, message = kind_code, kind_message
                    break
        headers = {}
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return Response(
            error_body(code or "refused", message or DomainError.message), status=exc.status_code, headers=headers
        )
    return None


# The project's error handlers (config/urls.py): JSON under /api/, the site's pages elsewhere ----

API_PREFIX = "/api/"
_HANDLER_ERRORS = {
    400: ("malformed", "La demande est mal formée."),
    403: ("forbidden", "Vous n'avez pas accès à ce service."),
    404: ("not_found", NotAllowed.message),
    500: ("server_error", "Une erreur inattendue s'est produite. Réessayez dans quelques instants."),
}


def _is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _json_error(status_code: int) -> JsonResponse:
    code, message = _HANDLER_ERRORS[status_code]
    # Like the answers of the views (JSONRenderer): UTF-8, accents as they are.
    return JsonResponse(error_body(code, message), status=status_code, json_dumps_params={"ensure_ascii": False})


def not_found(request, exception=None):
    """handler404: an unknown address under /api/ (no view, so no DRF handler) answers JSON."""
    if _is_api(request):
        return _json_error(404)
    return web_errors.not_found(request, exception)


def bad_request(request, exception=None):
    if _is_api(request):
        return _json_error(400)
    return web_errors.bad_request(request, exception)


def forbidden(request, exception=None):
    if _is_api(request):
        return _json_error(403)
    return web_errors.forbidden(request, exception)


def server_error(request):
    """handler500: like the web's, it reads neither the session nor the user."""
    if _is_api(request):
        return _json_error(500)
    return web_errors.server_error(request)
