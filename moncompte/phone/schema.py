"""The telephony API's own OpenAPI 3 schema, /api/phone/v1/schema/, apart from the REST API's.

Generated from moncompte.phone.routes only (the REST API's schema leaves these operations out:
moncompte.phone.views.PhoneAutoSchema), its paths prefixed with where config/urls.py mounts it,
with its own title, the HTTP Basic client credentials and the error answers of every operation.
"""

from __future__ import annotations

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

from moncompte.phone.views import PHONE_SCHEMA_ATTR

MOUNTED_AT = "/api/phone/v1"  # config/urls.py
_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_METHODS = ("get", "put", "patch", "post", "delete", "head", "options", "trace")
_ERRORS = {
    400: (
        "Demande à corriger (« errors » : les problèmes de chaque champ) ou identification refusée : "
        "« code » dit pourquoi, « message » le dit en français, à lire à l'appelant."
    ),
    401: "Identifiants du client absents ou incorrects, ou client désactivé (en-tête WWW-Authenticate).",
    406: "Format de réponse demandé indisponible (seul application/json est servi).",
    415: "Format de données non accepté (envoyez du JSON).",
    429: (
        "Trop d'essais erronés pour ce dossier, ce numéro ou depuis cette ligne : réessayer après le délai "
        "indiqué (en-tête Retry-After, « wait_seconds »)."
    ),
}
_RETRY_AFTER = {
    "Retry-After": {"schema": {"type": "integer"}, "description": "Secondes à attendre avant de réessayer."}
}


class PhoneSchemaGenerator(SchemaGenerator):
    def create_view(self, callback, method, request=None):
        view = super().create_view(callback, method, request)
        setattr(view, PHONE_SCHEMA_ATTR, True)
        return view


def add_error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS of this schema: the error shape for every status an operation may give."""
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _ERRORS.items():
                answer = responses.setdefault(str(status), {})
                answer["description"] = description
                answer["content"] = {"application/json": {"schema": _ERROR_REF}}
                if status == 429:
                    answer["headers"] = _RETRY_AFTER
    return result


class PhoneSchemaView(SpectacularAPIView):
    """The schema, YAML by default, JSON with ``Accept: application/json``."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    generator_class = PhoneSchemaGenerator
    urlconf = "moncompte.phone.routes"
    custom_settings = {
        "TITLE": "API de la plateforme téléphonique Mon Compte",
        "DESCRIPTION": (
            "L'identification des personnes qui appellent la Caf, pour la plateforme téléphonique : par "
            "numéro allocataire et ancien code confidentiel jusqu'à la date de fin, puis par numéro de "
            "sécurité sociale et code téléphone (obtenu dans Mon Compte ou par SMS). La réponse donne une "
            "référence à transmettre au conseiller qui prend l'appel, la personne identifiée et, pour chacun "
            "de ses dossiers, ce qui peut lui être dit, jamais les données elles-mêmes. Chaque demande porte "
            "les identifiants du client en HTTP Basic. Les erreurs sont en JSON : « code » (stable), "
            "« message » (en français), « field » (le champ concerné ou null)."
        ),
        "VERSION": "1.0.0",
        "SCHEMA_PATH_PREFIX": "",
        "SCHEMA_PATH_PREFIX_INSERT": MOUNTED_AT,
        "POSTPROCESSING_HOOKS": [
            "drf_spectacular.hooks.postprocess_schema_enums",
            "moncompte.phone.schema.add_error_responses",
        ],
    }
