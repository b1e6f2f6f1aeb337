"""The shapes of /api/v1/procedures/ (moncompte.api.v1.procedures): one input and one output
serializer per endpoint, and the refusals each endpoint documents.

The output serializers only describe (and render) what the views build from the engine's
answers (moncompte.procedures); they hold no rule. The refusals are the one error shape
(moncompte.api.v1.serializers.ErrorSerializer); ``ProcedureErrorSerializer`` adds the members a
refusal of the engine carries, and ``error_responses`` documents a view's refusals.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from moncompte.api.v1.serializers import ErrorSerializer, StrictBooleanField

# Errors ---------------------------------------------------------------------------------------


class ConflictFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    theirs = serializers.JSONField(allow_null=True, help_text="La valeur enregistrée depuis l'autre appareil.")
    mine = serializers.JSONField(allow_null=True, help_text="La valeur envoyée par cette demande.")
    theirs_display = serializers.CharField()
    mine_display = serializers.CharField()


class ProcedureErrorSerializer(ErrorSerializer):
    """A refusal of the engine: an earlier step to fill first or missing at submission (``step``),
    or a save from an older version (``current_version`` and the fields in ``conflicts``)."""

    step = serializers.CharField(required=False, help_text="L'étape à remplir d'abord.")
    missing = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Les étapes qui ne sont pas encore remplies."
    )
    current_version = serializers.IntegerField(required=False, help_text="La version enregistrée maintenant.")
    conflicts = ConflictFieldSerializer(many=True, required=False)
    saved_by = serializers.CharField(required=False, allow_blank=True)
    saved_at = serializers.DateTimeField(required=False, allow_null=True)


_DESCRIPTIONS = {
    400: "Demande à corriger (codes « invalid », « malformed »… ; `errors` par champ).",
    401: "Pas de jeton, ou un jeton qui n'est plus valable (« not_authenticated », « authentication_failed »).",
    403: "Compte sans adresse électronique ni téléphone validé (« contact_required »).",
    404: "Introuvable, ou pas accessible à cette personne (« not_found ») : les deux se répondent de même.",
    409: "En conflit avec l'état enregistré (« conflict », « read_only », « not_reached »).",
    413: "Demande trop volumineuse.",
    415: "Format de données non accepté (« unsupported_media_type »).",
    429: "Trop de demandes : réessayez après `wait_seconds` (« throttled »).",
}


def error_responses(*statuses: int, serializer=ErrorSerializer, **overrides) -> dict:
    """The documented refusals of a view: ``{status: OpenApiResponse(ErrorSerializer)}``, with
    another serializer for some (``s409=ProcedureErrorSerializer``)."""
    responses = {}
    for status in statuses:
        chosen = overrides.get(f"s{status}", serializer)
        responses[status] = OpenApiResponse(chosen, description=_DESCRIPTIONS.get(status, ""))
    return responses


# Whom a procedure is for: its household, its author alone, or a newcomer outside any file.
CONCERNING = ["household", "author", "newcomer"]


# The types ------------------------------------------------------------------------------------


class StepRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()


class ProcedureTypeSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    summary = serializers.CharField()
    group = serializers.CharField(allow_blank=True, help_text="La rubrique de la liste (« Changement de situation »).")
    concerning = serializers.ChoiceField(
        choices=CONCERNING, help_text="« household » : la démarche du foyer ; « author » : la vôtre seule."
    )
    steps = StepRefSerializer(many=True)
    draft = serializers.IntegerField(
        allow_null=True, help_text="La démarche en cours de ce type, à reprendre au lieu d'en commencer une."
    )


# A procedure ----------------------------------------------------------------------------------

_STATES = ["draft", "submitted"]


class CurrentStepSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    position = serializers.IntegerField(help_text="À partir de 1.")
    total = serializers.IntegerField()


class ProcedureSerializer(serializers.Serializer):
    """A procedure as the list shows it."""

    id = serializers.IntegerField()
    type = serializers.CharField()
    label = serializers.CharField()
    state = serializers.ChoiceField(choices=_STATES)
    state_label = serializers.CharField()
    concerning = serializers.ChoiceField(
        choices=CONCERNING,
        help_text="« household » : du foyer ; « author » : la vôtre seule ; « newcomer » : hors de tout dossier.",
    )
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="Jusqu'à quand le brouillon est gardé.")
    current_step = CurrentStepSerializer(allow_null=True, help_text="Où reprendre un brouillon.")
    complete = serializers.BooleanField(help_text="Toutes les étapes sont remplies : la demande peut être envoyée.")
    reference = serializers.CharField(allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    submitted_by = serializers.CharField(allow_null=True, help_text="« vous », ou le nom de la personne.")


class StepStateSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    position = serializers.IntegerField()
    done = serializers.BooleanField(help_text="L'étape est remplie.")


class CorrectionSerializer(serializers.Serializer):
    source = serializers.CharField(help_text="Le partenaire qui avait transmis la valeur.")
    partner_value = serializers.CharField(help_text="La valeur transmise, telle qu'on la lit.")
    by = serializers.CharField(allow_null=True, help_text="« vous », ou le nom de qui l'a corrigée.")


class SummaryRowSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField(help_text="La valeur telle que le récapitulatif l'écrit.")
    correction = CorrectionSerializer(allow_null=True)


class SummarySectionSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    rows = SummaryRowSerializer(many=True)


class HistoryEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    what = serializers.CharField()
    step = serializers.CharField(allow_blank=True)
    by = serializers.CharField(help_text="« vous », ou le nom de la personne.")


class ProcedureDetailSerializer(ProcedureSerializer):
    """A procedure: its steps and their state, the values saved as the summary shows them."""

    read_only = serializers.BooleanField(help_text="Envoyée : elle ne peut plus être modifiée.")
    steps = StepStateSerializer(many=True)
    missing = serializers.ListField(child=serializers.CharField(), help_text="Les étapes à remplir encore.")
    sections = SummarySectionSerializer(many=True)
    next_steps = serializers.CharField()
    history = HistoryEventSerializer(many=True)


class ProcedureStartedSerializer(ProcedureDetailSerializer):
    resumed = serializers.BooleanField(help_text="Une démarche de ce type était déjà commencée : elle est reprise.")


class StartInputSerializer(serializers.Serializer):
    type = serializers.CharField(
        max_length=40,
        help_text="Le code du type (« aide-au-logement »…), parmi /api/v1/procedures/types/.",
        error_messages={
            "required": "Indiquez le type de démarche.",
            "blank": "Indiquez le type de démarche.",
            "max_length": "Ce type de démarche n'existe pas.",
            "invalid": "Indiquez le type de démarche.",
            "null": "Indiquez le type de démarche.",
        },
    )


# A step ---------------------------------------------------------------------------------------

FIELD_TYPES = ["text", "choice", "multiple_choice", "boolean", "integer", "decimal", "amount", "date"]


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class PrefilledSerializer(serializers.Serializer):
    value = serializers.JSONField(help_text="La valeur transmise, proposée pour ce champ.")
    source = serializers.CharField(help_text="Qui l'a transmise.")
    fetched_at = serializers.DateTimeField(allow_null=True)


class FieldCorrectionSerializer(serializers.Serializer):
    source = serializers.CharField()
    partner_value = serializers.CharField()


class FieldSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="La clé de `values`.")
    label = serializers.CharField()
    type = serializers.ChoiceField(
        choices=FIELD_TYPES, help_text="« date » : AAAA-MM-JJ ; « amount » : euros, « 650 » ou « 650,50 »."
    )
    required = serializers.BooleanField()
    help = serializers.CharField(allow_blank=True)
    max_length = serializers.IntegerField(allow_null=True)
    choices = ChoiceSerializer(many=True, allow_null=True)
    prefilled = PrefilledSerializer(allow_null=True, help_text="La donnée d'un partenaire qui pré-remplit ce champ.")
    correction = FieldCorrectionSerializer(
        allow_null=True, help_text="La valeur d'un partenaire que la personne a corrigée."
    )


class PartnerShownSerializer(serializers.Serializer):
    source = serializers.CharField()
    fetched_at = serializers.DateTimeField(allow_null=True)


class StepSerializer(serializers.Serializer):
    procedure = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()
    intro = serializers.CharField(allow_blank=True)
    position = serializers.IntegerField()
    total = serializers.IntegerField()
    previous_step = serializers.CharField(allow_null=True)
    next_step = serializers.CharField(allow_null=True)
    version = serializers.IntegerField(help_text="À renvoyer avec l'enregistrement de l'étape.")
    read_only = serializers.BooleanField()
    saved = serializers.BooleanField(help_text="L'étape est déjà enregistrée.")
    fields = FieldSerializer(many=True)
    values = serializers.DictField(
        child=serializers.JSONField(allow_null=True), help_text="Les valeurs enregistrées, par champ."
    )
    partners_shown = PartnerShownSerializer(many=True)
    partners_missing = serializers.ListField(
        child=serializers.CharField(), help_text="Une phrase par partenaire qui n'a pas répondu."
    )


_VERSION_MESSAGES = {
    "required": "Indiquez la version de la démarche sur laquelle vous vous appuyez.",
    "invalid": "La version est un nombre entier.",
    "null": "Indiquez la version de la démarche sur laquelle vous vous appuyez.",
    "min_value": "La version est un nombre positif.",
    "max_value": "Cette version n'existe pas.",
    "max_string_length": "Cette version n'existe pas.",
}


def _version_field():
    return serializers.IntegerField(
        min_value=0,
        max_value=2_147_483_647,
        help_text="La version de la démarche lue avant (champ `version`).",
        error_messages=_VERSION_MESSAGES,
    )


class StepSaveInputSerializer(serializers.Serializer):
    version = _version_field()
    values = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        help_text="Les valeurs de l'étape, par nom de champ (voir `fields`).",
        error_messages={
            "required": "Indiquez les valeurs de l'étape.",
            "not_a_dict": "Les valeurs de l'étape s'écrivent comme un objet : nom du champ et valeur.",
            "null": "Indiquez les valeurs de l'étape.",
            "empty": "Indiquez les valeurs de l'étape.",
        },
    )
    resolved = StrictBooleanField(
        required=False,
        default=False,
        help_text="Les valeurs sont celles choisies après un conflit (réponse 409 « conflict »).",
        error_messages={"invalid": "Indiquez vrai ou faux."},
    )


class StepSavedSerializer(serializers.Serializer):
    procedure = serializers.IntegerField()
    step = serializers.CharField()
    version = serializers.IntegerField(help_text="La nouvelle version de la démarche.")
    next_step = serializers.CharField(allow_null=True, help_text="null : c'était la dernière étape.")
    merged = serializers.BooleanField(help_text="Enregistrée depuis une version plus ancienne, sans conflit.")
    corrected = serializers.ListField(
        child=serializers.CharField(), help_text="Les champs saisis autrement que la valeur d'un partenaire."
    )
    complete = serializers.BooleanField()


class SubmitInputSerializer(serializers.Serializer):
    version = _version_field()
    attested = StrictBooleanField(
        help_text="La personne certifie sur l'honneur l'exactitude des informations.",
        error_messages={
            "required": "Indiquez si vous certifiez l'exactitude des informations.",
            "invalid": "Indiquez vrai ou faux.",
            "null": "Indiquez si vous certifiez l'exactitude des informations.",
        },
    )


class CancelledSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField(help_text="« cancelled ».")
    message = serializers.CharField()
