"""The shapes of /api/v1/caf-requests/ (moncompte.api.v1.caf_requests): the Caf's requests, their
history of answers, and the answer sent with its files. They describe and render what the views
build from moncompte.caf_requests; they hold no rule (the checks of an answer are the service's).
The error shape is moncompte.api.v1.serializers.ErrorSerializer."""

from __future__ import annotations

from rest_framework import serializers

from moncompte.caf_requests.services import MAX_TEXT, MESSAGE_TEXT_TOO_LONG


class AddresseeSerializer(serializers.Serializer):
    who = serializers.ChoiceField(
        choices=["household", "you", "member"],
        help_text="« household » : au foyer ; « you » : à vous personnellement ; « member » : à un autre membre.",
    )
    name = serializers.CharField(allow_null=True, help_text="Le nom du membre (« member » seulement).")


class CafRequestSerializer(serializers.Serializer):
    """A request of the Caf as the list shows it."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["document", "information"])
    kind_label = serializers.CharField()
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=["waiting", "answered", "closed"])
    state_label = serializers.CharField()
    late = serializers.BooleanField(help_text="La date limite est passée : on peut encore répondre.")
    open = serializers.BooleanField(help_text="La demande accepte encore des réponses (elle n'est pas close).")
    addressed_to = AddresseeSerializer()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(help_text="Qui, à la Caf, fait la demande.")
    due_on = serializers.DateField()
    answered_at = serializers.DateTimeField(allow_null=True, help_text="La dernière réponse.")


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    content_type = serializers.ChoiceField(choices=["application/pdf", "image/jpeg", "image/png"])
    size = serializers.IntegerField()
    url = serializers.CharField(help_text="Où le télécharger (avec le même jeton).")


class AnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(help_text="« vous », ou le nom de la personne qui a répondu.")
    by_you = serializers.BooleanField()
    text = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    files = AttachmentSerializer(many=True)


class CafRequestDetailSerializer(CafRequestSerializer):
    body = serializers.CharField(help_text="Le texte de la demande.")
    file_number = serializers.CharField(help_text="Le numéro du dossier.")
    caf = serializers.CharField()
    answers = AnswerSerializer(many=True, help_text="L'historique des réponses, la plus ancienne d'abord.")


class AnswerInputSerializer(serializers.Serializer):
    """multipart/form-data: ``text`` and/or up to 5 ``files`` (PDF, JPEG or PNG)."""

    text = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_TEXT,
        help_text=f"{MAX_TEXT} caractères au plus.",
        error_messages={"max_length": MESSAGE_TEXT_TOO_LONG, "invalid": "Écrivez votre réponse comme un texte."},
    )
    files = serializers.ListField(
        child=serializers.FileField(
            allow_empty_file=True,  # refused by the service, with the file's name
            max_length=255,
            use_url=False,
            error_messages={
                "max_length": "Le nom d'un fichier est trop long : renommez-le avant de l'envoyer.",
                "invalid": "Envoyez chaque document comme un fichier.",
                "no_name": "Le nom d'un fichier manque : renommez-le avant de l'envoyer.",
                "required": "Envoyez chaque document comme un fichier.",
            },
        ),
        required=False,
        help_text="PDF, JPEG ou PNG, 5 fichiers au plus.",
    )


class AnsweredSerializer(serializers.Serializer):
    request = CafRequestSerializer()
    answer = AnswerSerializer()
