"""What the telephony API reads and answers. The inputs are bounded exactly as the schema says
(a string of exactly that many ASCII digits, nothing trimmed): the platform sends what the
caller keyed in. The answers never hold the file's data, only what may be told.

Field names in English, messages in French (docs/decisions.md, decision 33); ``numero`` keeps
the Caf's own word."""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from moncompte.telephony.models import PhoneAuthentication

_LINE_HELP = (
    "Le numéro de la ligne qui appelle, tel que la plateforme le reçoit (« +33612345678 », "
    "« 0612345678 »), ou « masqué », « hidden », « anonymous » (ou vide) pour un numéro masqué : "
    "toutes les lignes masquées comptent ensemble dans le plafond d'essais par ligne."
)


class TextField(serializers.CharField):
    """A JSON string and nothing else (DRF's CharField also takes numbers and booleans)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def digits_field(count: int, *, required: str, shape: str, help_text: str) -> TextField:
    """Exactly ``count`` ASCII digits: the pattern, with the exact length (so that a trailing
    newline, which Python's ``$`` lets through, is refused as the schema says)."""
    return TextField(
        min_length=count,
        max_length=count,
        trim_whitespace=False,
        validators=[RegexValidator(rf"^[0-9]{{{count}}}$", message=shape)],
        error_messages={
            "required": required,
            "blank": required,
            "min_length": shape,
            "max_length": shape,
            "invalid": shape,
        },
        help_text=help_text,
    )


def calling_line_field() -> TextField:
    return TextField(
        max_length=32,
        allow_blank=True,
        error_messages={
            "required": "Indiquez la ligne appelante, ou « masqué ».",
            "max_length": "La ligne appelante compte 32 caractères au plus.",
            "invalid": "Indiquez la ligne appelante sous forme de texte.",
        },
        help_text=_LINE_HELP,
    )


class LegacyAuthenticationSerializer(serializers.Serializer):
    caf = digits_field(
        3,
        required="Indiquez le numéro de la Caf.",
        shape="Le numéro de la Caf compte 3 chiffres.",
        help_text="Le numéro à 3 chiffres de la Caf du dossier (« 751 »).",
    )
    numero = digits_field(
        7,
        required="Indiquez le numéro allocataire.",
        shape="Le numéro allocataire compte 7 chiffres.",
        help_text="Le numéro allocataire, 7 chiffres.",
    )
    code = digits_field(
        8,
        required="Indiquez l'ancien code confidentiel.",
        shape="L'ancien code confidentiel compte 8 chiffres.",
        help_text="L'ancien code confidentiel du dossier, 8 chiffres (accepté jusqu'à la date de fin).",
    )
    calling_line = calling_line_field()


class PhoneCodeAuthenticationSerializer(serializers.Serializer):
    identifier = TextField(
        max_length=40,
        error_messages={
            "required": "Indiquez le numéro de sécurité sociale.",
            "blank": "Indiquez le numéro de sécurité sociale.",
            "max_length": "Le numéro de sécurité sociale compte 15 chiffres au plus.",
            "invalid": "Indiquez le numéro de sécurité sociale sous forme de texte.",
        },
        help_text="Le numéro de sécurité sociale (NIR, NIA ou numéro provisoire), avec ou sans la clé.",
    )
    code = digits_field(
        6,
        required="Indiquez le code téléphone.",
        shape="Le code téléphone compte 6 chiffres.",
        help_text="Le code téléphone à 6 chiffres obtenu dans Mon Compte ou par SMS.",
    )
    calling_line = calling_line_field()


class PersonSerializer(serializers.Serializer):
    first_names = serializers.CharField(help_text="Les prénoms.")
    last_name = serializers.CharField(help_text="Le nom d'usage, ou de naissance.")


class FileDisclosureSerializer(serializers.Serializer):
    caf = serializers.CharField(help_text="Le numéro de la Caf du dossier.")
    numero = serializers.CharField(help_text="Le numéro allocataire du dossier.")
    standing = serializers.CharField(
        help_text="Ce que la personne est pour ce dossier, en toutes lettres (« Responsable du dossier »…)."
    )
    file_information = serializers.BooleanField(
        help_text="Vrai si le conseiller peut lui donner des informations sur le dossier."
    )
    own_information = serializers.BooleanField(
        help_text="Vrai si le conseiller peut lui donner les informations qui la concernent."
    )
    hidden_reason = serializers.CharField(help_text="Pourquoi le reste est caché (vide quand rien ne l'est).")


class PhoneAuthenticationSerializer(serializers.Serializer):
    reference = serializers.CharField(
        help_text=(
            "À donner au conseiller qui prend l'appel (« TEL-XXXX-XXXX ») : valable une fois, jusqu'à expires_at."
        )
    )
    expires_at = serializers.DateTimeField()
    method = serializers.ChoiceField(choices=PhoneAuthentication.Method.choices)
    person = PersonSerializer()
    files = FileDisclosureSerializer(
        many=True, help_text="Chaque dossier de la personne et ce qui peut lui être dit, jamais les données."
    )
