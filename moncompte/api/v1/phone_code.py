"""/api/v1/me/phone-code/: a phone code for the signed-in person (issue 12, docs/telephony.md).

The code identifies the person on the phone with their NIR: shown in the app (the answer holds
it, once), or sent by SMS to the account's validated mobile (the answer then holds none). The
same service as the page /mon-compte/code-telephone/ (moncompte.telephony.services).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from moncompte.api.base import ApiView
from moncompte.api.v1.schema import error_responses
from moncompte.api.v1.serializers import JSON, StrictBooleanField
from moncompte.telephony.models import PhoneCode
from moncompte.telephony.selectors import phone_code_sms_destination
from moncompte.telephony.services import phone_code_issue

TAG = "Moi"


class PhoneCodeRequestSerializer(serializers.Serializer):
    sms = StrictBooleanField(
        required=False,
        default=False,
        help_text="true : envoyer le code par SMS au mobile validé du compte (la réponse ne le contient pas).",
    )


class PhoneCodeSerializer(serializers.Serializer):
    code = serializers.CharField(
        allow_null=True, help_text="Le code à 6 chiffres, à montrer une fois ; null s'il a été envoyé par SMS."
    )
    expires_at = serializers.DateTimeField()
    delivered_by = serializers.ChoiceField(choices=PhoneCode.DeliveredBy.choices)
    message = serializers.CharField()


class PhoneCodeView(ApiView):
    @extend_schema(
        operation_id="me_phone_code_issue",
        summary="Obtenir un code téléphone",
        description=(
            "Avec votre numéro de sécurité sociale, ce code à 6 chiffres vous identifie quand vous appelez la "
            "Caf. Valable 30 minutes, une seule fois ; un nouveau code remplace le précédent. Par SMS, "
            "seulement vers votre mobile validé (sinon « no_verified_mobile »). Quelques codes par heure "
            "au plus (429)."
        ),
        request={JSON: PhoneCodeRequestSerializer},
        responses={201: PhoneCodeSerializer, **error_responses(400)},
        tags=[TAG],
    )
    def post(self, request):
        form = PhoneCodeRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        by_sms = form.validated_data["sms"]
        destination = phone_code_sms_destination(actor=self.actor) if by_sms else None
        phone_code, code = phone_code_issue(actor=self.actor, by_sms=by_sms)
        minutes = settings.MONCOMPTE_PHONE_CODE_MINUTES
        if by_sms:
            message = f"Un code téléphone a été envoyé par SMS au {destination}. Il est valable {minutes} minutes."
        else:
            message = f"Voici votre code téléphone. Il est valable {minutes} minutes et ne sert qu'une fois."
        body = {"code": code, "expires_at": phone_code.expires_at, "delivered_by": phone_code.delivered_by}
        return Response(PhoneCodeSerializer({**body, "message": message}).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("me/phone-code/", PhoneCodeView.as_view(), name="me_phone_code"),
]
