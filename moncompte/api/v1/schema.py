"""The API's OpenAPI 3 schema (/api/v1/schema/) and its documentation page (/api/v1/docs/).

drf-spectacular builds the schema from the views' serializers and ``extend_schema``; this module
adds what is the same for every endpoint:

- the security schemes: a bearer access token of our OpenID provider, and, when the provider's
  URLs are there, the OAuth 2 authorization code flow that issues it;
- the error answers (``add_error_responses``, a postprocessing hook): every operation documents
  the one error shape (moncompte.api.errors) for 401, 403, 404, 406 and 429, for 400 when it takes
  query parameters, for 400 and 415 when it takes a body, besides the statuses its view declares
  (``error_responses``).

Both views are reachable without a token. The documentation page is Swagger UI served from
drf-spectacular-sidecar's static files, the split view (its script is a file of its own, no
inline script nor style), so that it works under the site's Content-Security-Policy.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import NoReverseMatch, path, reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from moncompte.api.v1.serializers import ErrorSerializer

ERROR_COMPONENT = "Error"  # the component drf-spectacular names after ErrorSerializer
_ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
_METHODS = ("get", "put", "patch", "post", "delete", "head", "options", "trace")

# The answers every operation may give, and those of an operation that takes a body.
_COMMON_ERRORS = {
    401: "Jeton absent, expiré ou révoqué : connectez-vous à nouveau (en-tête WWW-Authenticate).",
    403: "Compte pas encore utilisable (code « contact_required ») ou accès refusé.",
    404: "Introuvable, ou vous n'y avez pas accès (un refus ne dit jamais que la chose existe).",
    406: "Format de réponse demandé indisponible (seul application/json est servi).",
    429: "Trop de demandes ou d'essais : réessayez après le délai indiqué (en-tête Retry-After).",
}
_BODY_ERRORS = {
    400: "Demande à corriger : le message dit quoi, « errors » liste les problèmes de chaque champ.",
    415: "Format de données non accepté (envoyez du JSON).",
}
_RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Secondes à attendre avant de réessayer."}
}


def error_responses(*statuses: int) -> dict:
    """``extend_schema(responses={200: ..., **error_responses(400, 409)})``: the error shape for
    these statuses (the hook adds the common ones to every operation)."""
    return {status: ErrorSerializer for status in statuses}


def _error_response(status: int, description: str) -> dict:
    answer = {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}
    if status == 429:
        answer["headers"] = _RETRY_AFTER
    return answer


def add_error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS: the error answers of every operation of the API (see the docstring)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    if ERROR_COMPONENT not in schemas:
        return result  # no operation refers to the error shape: nothing of the API in this schema
    for route, operations in result.get("paths", {}).items():
        if not route.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            statuses = dict(_COMMON_ERRORS)
            if any(parameter.get("in") == "query" for parameter in operation.get("parameters", [])):
                statuses[400] = _BODY_ERRORS[400]  # a query parameter out of bounds (?taille=0)
            if "requestBody" in operation:
                statuses.update(_BODY_ERRORS)
            for status, description in statuses.items():
                existing = responses.get(str(status))
                if existing is None:
                    responses[str(status)] = _error_response(status, description)
                elif status == 429:
                    existing.setdefault("headers", _RETRY_AFTER)
    return result


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """moncompte.api.defaults.TokenAuthentication in the schema: a bearer access token, which our
    OpenID provider issues through the authorization code flow with PKCE."""

    target_class = "moncompte.api.defaults.TokenAuthentication"

    @staticmethod
    def _provider_urls() -> tuple[str, str] | None:
        try:
            return reverse("oauth2_provider:authorize"), reverse("oauth2_provider:token")
        except NoReverseMatch:
            return None

    @property
    def name(self):
        return ["bearer", "oauth2"] if self._provider_urls() else "bearer"

    def get_security_requirement(self, auto_schema):
        requirements = [{"bearer": []}]
        if self._provider_urls():
            requirements.append({"oauth2": []})
        return requirements

    def get_security_definition(self, auto_schema):
        bearer = {
            "type": "http",
            "scheme": "bearer",
            "description": "Jeton d'accès délivré par le fournisseur d'identité de Mon Compte.",
        }
        urls = self._provider_urls()
        if urls is None:
            return bearer
        from oauth2_provider.scopes import get_scopes_backend

        authorize, token = urls
        oauth2 = {
            "type": "oauth2",
            "description": "Code d'autorisation avec PKCE (S256) ; les clients publics n'ont pas de secret.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": authorize,
                    "tokenUrl": token,
                    "refreshUrl": token,
                    "scopes": dict(get_scopes_backend().get_all_scopes()),
                }
            },
        }
        return [bearer, oauth2]


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema, YAML by default, JSON with ``Accept: application/json``."""

    authentication_classes = []
    permission_classes = [AllowAny]


class DocsView(SpectacularSwaggerSplitView):
    authentication_classes = []
    permission_classes = [AllowAny]
    url_name = "api_v1:schema"
    template_name = "api/docs.html"
    title = "Documentation de l'API Mon Compte"


urlpatterns = [
    # Reachable without a token nor a web session: the API's contract is public.
    path("schema/", login_not_required(SchemaView.as_view()), name="schema"),
    path("docs/", login_not_required(DocsView.as_view()), name="docs"),
]
