"""The telephony API's endpoints: the caller's identification, by old code or by phone code.

Thin: each view reads its body, builds the actor (channel ``phone``, the platform's address),
calls moncompte.telephony and writes the answer; the caps, the end date and what may be told
are the domain's. The answer gives the reference the caller's agent redeems, the person and,
for each of their files, what may be told (never the data itself)."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from moncompte.api.v1.serializers import JSON, ErrorSerializer
from moncompte.core.actors import Actor, Channel
from moncompte.phone.authentication import TelephonyClientAuthentication, TelephonyClientOnly
from moncompte.phone.errors import phone_exception_handler
from moncompte.phone.serializers import (
    LegacyAuthenticationSerializer,
    PhoneAuthenticationSerializer,
    PhoneCodeAuthenticationSerializer,
)
from moncompte.telephony.models import PhoneAuthentication
from moncompte.telephony.selectors import phone_disclosure
from moncompte.telephony.services import phone_authenticate_code, phone_authenticate_legacy
from moncompte.web.actors import client_address

TAG = "Identification des appelants"
PHONE_SCHEMA_ATTR = "moncompte_phone_schema"


class PhoneAutoSchema(AutoSchema):
    """Only in the telephony API's own schema (/api/phone/v1/schema/): the REST API's schema
    (/api/v1/schema/, the whole URL configuration) leaves these operations out."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        if not getattr(self.view, PHONE_SCHEMA_ATTR, False):
            return None
        return super().get_operation(path, path_regex, path_prefix, method, registry)


class PhoneApiView(APIView):
    authentication_classes = [TelephonyClientAuthentication]
    permission_classes = [TelephonyClientOnly]
    # The caps are the domain's (moncompte.telephony), in the database: no cache-based rate.
    throttle_classes: list = []
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    schema = PhoneAutoSchema()

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        # Client credentials, not the site's sign-in.
        view.login_required = False
        return view

    def get_exception_handler(self):
        return phone_exception_handler

    @property
    def actor(self) -> Actor:
        return Actor.visitor(channel=Channel.PHONE, client_address=client_address(self.request))


def authentication_body(authentication: PhoneAuthentication) -> dict:
    """The answer, as PhoneAuthenticationSerializer documents it: built as plain JSON values
    (the serializer's fields, copied for every instance, cost more than the rest of the view)."""
    person = authentication.person
    return {
        "reference": authentication.reference,
        "expires_at": _DATETIME.to_representation(authentication.expires_at),
        "method": str(authentication.method),
        "person": {"first_names": person.first_names, "last_name": person.usage_name or person.birth_name},
        "files": [
            {
                "caf": row.caf_code,
                "numero": row.numero,
                "standing": row.standing_label,
                "file_information": row.file_information,
                "own_information": row.own_information,
                "hidden_reason": row.hidden_reason,
            }
            for row in phone_disclosure(person)
        ],
    }


_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 429: ErrorSerializer}
# Stateless: formats a time as the serializers do (the API's format and time zone).
_DATETIME = serializers.DateTimeField()


class LegacyAuthenticationView(PhoneApiView):
    @extend_schema(
        operation_id="authentication_legacy_code",
        summary="Identifier un appelant par son numéro allocataire et son ancien code",
        description=(
            "Jusqu'à la date de fin (réglage MONCOMPTE_LEGACY_CODE_PHONE_UNTIL), que la première connexion "
            "sur le site ait été faite ou non. Ensuite, refus « legacy_code_ended » : le message dit comment "
            "obtenir un code téléphone. La personne identifiée est la personne responsable du dossier. "
            "Refus : « wrong_credentials » (dossier inconnu ou code erroné, la même réponse), « capped » "
            "(trop d'essais pour ce dossier ou depuis cette ligne : 429 et Retry-After), "
            "« legacy_code_retired », « unknown_caf »."
        ),
        request={JSON: LegacyAuthenticationSerializer},
        responses={201: PhoneAuthenticationSerializer, **_ERRORS},
        tags=[TAG],
    )
    def post(self, request):
        form = LegacyAuthenticationSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        authentication = phone_authenticate_legacy(
            actor=self.actor,
            caf_code=data["caf"],
            numero=data["numero"],
            code=data["code"],
            calling_line=data["calling_line"],
            client=request.auth,
        )
        return Response(authentication_body(authentication), status=status.HTTP_201_CREATED)


class PhoneCodeAuthenticationView(PhoneApiView):
    @extend_schema(
        operation_id="authentication_phone_code",
        summary="Identifier un appelant par son numéro de sécurité sociale et son code téléphone",
        description=(
            "Le code téléphone (6 chiffres) est obtenu dans Mon Compte ou par SMS ; valable 30 minutes, une "
            "seule fois, remplacé par le suivant. Refus : « wrong_credentials » (numéro inconnu, code erroné, "
            "expiré ou déjà utilisé : la même réponse), « capped » (429 et Retry-After), « invalid_identifier »."
        ),
        request={JSON: PhoneCodeAuthenticationSerializer},
        responses={201: PhoneAuthenticationSerializer, **_ERRORS},
        tags=[TAG],
    )
    def post(self, request):
        form = PhoneCodeAuthenticationSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        authentication = phone_authenticate_code(
            actor=self.actor,
            identifier=data["identifier"],
            code=data["code"],
            calling_line=data["calling_line"],
            client=request.auth,
        )
        return Response(authentication_body(authentication), status=status.HTTP_201_CREATED)
