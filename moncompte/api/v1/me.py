"""/api/v1/me/: the person's identity and contacts, and changing a contact with a one-time code.

The same reads and writes as the pages: the identity of the own-data page
(moncompte.identity.own_data, journaled the same way), the contacts of the contacts page
(moncompte.accounts.services.contacts_of, own_contact, contact_remove), and the contact change of
/mon-compte/coordonnees/valider/: the password typed again (moncompte.accounts.reauth, counted
per account across every form and channel), a code sent to the new address or number
(moncompte.verification.services), the contact recorded once the code is right
(contact_validated, which tells the replaced contact).

The pending code belongs to the API session (the token family), as the page's belongs to the
browser's session: its flow reference is derived from the session, so a code sent to one
sign-in of the app cannot be checked from another. ``POST /me/contacts/`` answers its id;
``POST /me/contacts/{id}/verify/`` checks the code of that pending change.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from moncompte.accounts.reauth import reauthenticate
from moncompte.accounts.services import ContactRow, contact_remove, contact_validated, contacts_of, own_contact
from moncompte.api.base import ApiGenericView, ApiView
from moncompte.api.v1.serializers import (
    JSON,
    BodyOnDeleteSchema,
    ContactSerializer,
    PasswordSerializer,
    password_field,
)
from moncompte.core.actors import ContactChannel
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.identity.geography import birth_country_label, birth_place_label
from moncompte.identity.models import Sex
from moncompte.identity.own_data import own_data, own_data_viewed
from moncompte.verification.contacts import mask_destination
from moncompte.verification.models import Purpose
from moncompte.verification.services import (
    challenge_check,
    challenge_current,
    challenge_issue,
    normalize_destination,
)
from moncompte.web.templatetags.money import contact_value

TAG = "Moi"
# The codes of a contact change (an account in use: the page asks the password too).
PURPOSE = Purpose.CONTACT_CHANGE


class CodeRefused(DomainError):
    """The code typed does not validate the contact (wrong, expired, used, too many tries)."""

    code = "code_refused"


class NoPendingCode(NotAllowed):
    """No pending change with this id in this API session (another session's, an older one)."""

    message = "Aucun code n'est en attente pour ce changement. Demandez un nouveau code."


# Serializers ------------------------------------------------------------------------------


class IdentifierSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="nir, nia, nnp ou provisional.")
    type_label = serializers.CharField()
    masked = serializers.CharField(help_text="L'identifiant masqué, comme sur les pages (jamais en entier).")


class MeSerializer(serializers.Serializer):
    first_names = serializers.CharField()
    birth_name = serializers.CharField()
    usage_name = serializers.CharField(help_text="Vide s'il n'y en a pas.")
    display_name = serializers.CharField()
    birth_date = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    sex_label = serializers.CharField()
    birth_place = serializers.CharField(help_text="Commune de naissance (vide si non renseignée).")
    birth_place_pending = serializers.BooleanField(
        help_text="Vrai si la commune est celle saisie à la création du compte, en attente de vérification."
    )
    birth_country = serializers.CharField()
    identifier = IdentifierSerializer()
    contacts = ContactSerializer(many=True)


class ContactChangeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ContactChannel.choices,
        error_messages={
            "required": "Choisissez comment recevoir votre code.",
            "invalid_choice": "Choisissez « email » ou « phone ».",
        },
    )
    value = serializers.CharField(
        max_length=254,
        error_messages={
            "required": "Saisissez votre adresse électronique ou votre numéro de téléphone mobile.",
            "blank": "Saisissez votre adresse électronique ou votre numéro de téléphone mobile.",
        },
        help_text="L'adresse électronique ou le numéro de téléphone mobile à valider.",
    )
    password = password_field()

    def validate(self, data):
        try:
            data["value"] = normalize_destination(channel=data["kind"], destination=data["value"])
        except ValueError as error:
            raise serializers.ValidationError({"value": [str(error)]}) from None
        return data


class PendingContactSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="À reprendre dans /api/v1/me/contacts/{id}/verify/.")
    kind = serializers.ChoiceField(choices=ContactChannel.choices)
    masked = serializers.CharField(help_text="Où le code a été envoyé, masqué.")
    expires_at = serializers.DateTimeField()
    message = serializers.CharField()


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=20,
        error_messages={"required": "Saisissez le code reçu.", "blank": "Saisissez le code reçu."},
        help_text="Le code à 6 chiffres reçu.",
    )


# What the answers hold --------------------------------------------------------------------


def contact_data(row: ContactRow) -> dict:
    contact = row.contact
    return {
        "contact": contact,
        "value": contact_value(contact),
        "masked": mask_destination(contact.kind, contact.value),
        "validated": contact.verified_at is not None,
        "removable": row.removable,
        "refusal": row.refusal,
    }


def _code_sent_message(kind: str, masked: str) -> str:
    where = f"à l'adresse {masked}" if kind == ContactChannel.EMAIL else f"par SMS au {masked}"
    return f"Un code à 6 chiffres a été envoyé {where}. Il est valable 10 minutes."


# Views ------------------------------------------------------------------------------------


class MeView(ApiView):
    @extend_schema(
        operation_id="me_read",
        summary="Mon identité et mes coordonnées",
        description="Comme la page « Mes données » : l'identifiant est masqué. La consultation est journalisée.",
        responses={200: MeSerializer},
        tags=[TAG],
    )
    def get(self, request):
        data = own_data(actor=self.actor)
        own_data_viewed(actor=self.actor)
        person = data.person
        identifier = person.identifier
        body = {
            "first_names": person.first_names,
            "birth_name": person.birth_name,
            "usage_name": person.usage_name,
            "display_name": person.display_name,
            "birth_date": person.birth_date,
            "sex": person.sex,
            "sex_label": person.get_sex_display(),
            "birth_place": birth_place_label(person.birth_place_code) or data.declared_birth_place,
            "birth_place_pending": not person.birth_place_code and bool(data.declared_birth_place),
            "birth_country": birth_country_label(person.birth_country_code),
            "identifier": {
                "type": person.identifier_type,
                "type_label": person.get_identifier_type_display(),
                "masked": identifier.masked(),
            },
            "contacts": [contact_data(row) for row in contacts_of(actor=self.actor)],
        }
        return Response(MeSerializer(body).data)


class ContactsView(ApiGenericView):
    serializer_class = ContactSerializer

    @extend_schema(
        operation_id="me_contacts_list",
        summary="Mes coordonnées",
        responses={200: ContactSerializer(many=True)},
        tags=[TAG],
    )
    def get(self, request):
        rows = [contact_data(row) for row in contacts_of(actor=self.actor)]
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    @extend_schema(
        operation_id="me_contacts_change",
        summary="Ajouter ou changer un moyen de contact",
        description=(
            "Votre mot de passe est vérifié, puis un code est envoyé à la nouvelle adresse ou au nouveau "
            "numéro. Saisissez-le avec /api/v1/me/contacts/{id}/verify/ : le moyen de contact du même type "
            "est alors remplacé, et l'ancien en est prévenu. Redemander un code pour le même destinataire "
            "n'est possible qu'après un délai."
        ),
        request={JSON: ContactChangeSerializer},
        responses={202: PendingContactSerializer},
        tags=[TAG],
    )
    def post(self, request):
        form = ContactChangeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        kind, value = form.validated_data["kind"], form.validated_data["value"]
        reauthenticate(actor=self.actor, password=form.validated_data["password"], purpose="contact_change")
        challenge = challenge_issue(
            purpose=PURPOSE, channel=kind, destination=value, flow_ref=flow_ref_of(self), account=self.actor.account
        )
        masked = mask_destination(kind, value)
        body = {
            "id": challenge.pk,
            "kind": kind,
            "masked": masked,
            "expires_at": challenge.expires_at,
            "message": _code_sent_message(kind, masked),
        }
        return Response(PendingContactSerializer(body).data, status=status.HTTP_202_ACCEPTED)


def flow_ref_of(view) -> str:
    """The pending code's flow reference of this API session (at most 64 characters, never one
    of the web's random references, which hold no colon)."""
    session_key = view.actor.session_key
    if session_key:
        return f"api:{session_key}"
    return f"api-token:{view.request.auth.pk}"


class ContactVerifyView(ApiView):
    @extend_schema(
        operation_id="me_contacts_verify",
        summary="Valider un moyen de contact avec le code reçu",
        request={JSON: CodeSerializer},
        responses={201: ContactSerializer},
        tags=[TAG],
    )
    def post(self, request, pending_id: int):
        form = CodeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        flow_ref = flow_ref_of(self)
        account = self.actor.account
        challenge = challenge_current(flow_ref=flow_ref, purpose=PURPOSE)
        if challenge is None or challenge.pk != pending_id or challenge.account_id != account.pk:
            raise NoPendingCode()
        result = challenge_check(flow_ref=flow_ref, purpose=PURPOSE, code=form.validated_data["code"])
        if not result.ok:
            raise CodeRefused(result.message, code=f"code_{result.outcome}", field="code")
        contact = contact_validated(
            actor=self.actor, account=account, kind=challenge.channel, value=challenge.destination
        )
        row = own_contact(actor=self.actor, contact_id=contact.pk)
        return Response(ContactSerializer(contact_data(row)).data, status=status.HTTP_201_CREATED)


class ContactView(ApiView):
    schema = BodyOnDeleteSchema()

    @extend_schema(
        operation_id="me_contacts_remove",
        summary="Supprimer un moyen de contact",
        description=(
            "Votre mot de passe est demandé. Le dernier moyen de contact validé ne peut pas être supprimé "
            "(code « last_contact ») ; un moyen de contact validé supprimé en est prévenu."
        ),
        request={JSON: PasswordSerializer},
        responses={204: OpenApiResponse(description="Supprimé.")},
        tags=[TAG],
    )
    def delete(self, request, contact_id: int):
        own_contact(actor=self.actor, contact_id=contact_id)  # anyone else's id: 404 before anything
        form = PasswordSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        contact_remove(actor=self.actor, contact_id=contact_id, password=form.validated_data["password"])
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("me/contacts/", ContactsView.as_view(), name="me_contacts"),
    path("me/contacts/<int:contact_id>/", ContactView.as_view(), name="me_contact"),
    path("me/contacts/<int:pending_id>/verify/", ContactVerifyView.as_view(), name="me_contact_verify"),
]
