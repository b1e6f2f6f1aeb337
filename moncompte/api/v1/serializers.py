"""What the API's resources (me, files, delegation, sessions) read and answer, as DRF serializers.

Input serializers only parse and bound what the client sends (the services decide); output
serializers say what a page shows, field by field, so that the OpenAPI schema describes every
answer. ``ErrorSerializer`` is the one error shape (moncompte.api.errors).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from moncompte.core.actors import ContactChannel

# The longest password a form accepts (moncompte.web.forms.PasswordField): no one makes the
# hasher work on megabytes.
PASSWORD_MAX_LENGTH = 1024
# The bodies are documented as JSON only (``extend_schema(request={JSON: ...})``): the app sends
# JSON; the form formats the parsers also read are not part of the contract.
JSON = "application/json"


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean, nothing else: DRF's BooleanField also takes 0, 1, "oui", "true"..., which
    the schema does not promise (and an attestation must be a true ``true``)."""

    def to_internal_value(self, data):
        if data is True or data is False:
            return data
        self.fail("invalid", input=data)


# The error shape ----------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Code stable de l'erreur, pour les programmes (ex. « not_found »).")
    message = serializers.CharField(help_text="Message en français, à montrer à la personne.")
    field = serializers.CharField(allow_null=True, help_text="Champ concerné, ou null pour toute la demande.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Pour une demande à corriger : les problèmes de chaque champ.",
    )
    wait_seconds = serializers.IntegerField(
        required=False, help_text="Pour un refus après trop d'essais : secondes à attendre."
    )


# Inputs -------------------------------------------------------------------------------------


def password_field(**kwargs) -> serializers.CharField:
    """The current password typed again (moncompte.accounts.reauth), kept as typed."""
    return serializers.CharField(
        max_length=PASSWORD_MAX_LENGTH,
        trim_whitespace=False,
        write_only=True,
        error_messages={
            "required": "Saisissez votre mot de passe actuel.",
            "blank": "Saisissez votre mot de passe actuel.",
            "null": "Saisissez votre mot de passe actuel.",
        },
        help_text="Votre mot de passe actuel, pour confirmer votre identité.",
        **kwargs,
    )


class PasswordSerializer(serializers.Serializer):
    password = password_field()


# Shared outputs -----------------------------------------------------------------------------


class CafSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(help_text="Nom de la Caf.")


# One of the person's contacts, as the contacts page shows it (moncompte.accounts.services.ContactRow).
class ContactSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="contact.pk")
    kind = serializers.ChoiceField(choices=ContactChannel.choices, source="contact.kind")
    kind_label = serializers.CharField(source="contact.get_kind_display")
    value = serializers.CharField(help_text="Le moyen de contact, tel que les pages le montrent à son titulaire.")
    masked = serializers.CharField(help_text="Le même, masqué (« c•••@e•••.fr », « 06 •• •• •• 44 »).")
    validated = serializers.BooleanField()
    validated_at = serializers.DateTimeField(source="contact.verified_at", allow_null=True)
    removable = serializers.BooleanField(help_text="Faux pour le dernier moyen de contact validé.")
    refusal = serializers.CharField(help_text="Pourquoi il ne peut pas être supprimé (vide s'il le peut).")


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField(help_text="Ce qui a été fait, en français.")


class BodyOnDeleteSchema(AutoSchema):
    """The schema of a DELETE that takes a body (the password typed again): drf-spectacular
    documents a request body for PUT, PATCH and POST only."""

    def _get_request_body(self, direction="request"):
        method = self.method
        if method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = method
