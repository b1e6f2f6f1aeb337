"""Demande de prime d'activité: for the household of a person who works (or has just lost their
job), from their professional situation, the household, the last three months' resources
(pre-filled from the monthly resources, DRM), the situation with France Travail (pre-filled
from France Travail) and the family quotient (pre-filled from the Caf, shown and correctable).
"""

from django import forms

from moncompte.core.forms import DatePartsMixin
from moncompte.procedures.declarations import Prefill, ProcedureType, Step
from moncompte.procedures.fields import past_date
from moncompte.procedures.types.common import (
    FRANCE_TRAVAIL_STEP,
    QUARTER_RESOURCES_STEP,
    QUOTIENT,
    QUOTIENT_VALUE,
    choice_field,
    count_field,
    whole_euros,
)

SINCE = past_date(
    "since",
    "since",
    "Date de début de cette situation",
    "la date de début de cette situation",
    "L'année de début de cette situation",
    "date-debut-situation",
)


class ActivityForm(DatePartsMixin, forms.Form):
    date_parts = (SINCE,)

    activity = choice_field(
        "Votre situation professionnelle",
        [
            ("salariee", "Activité salariée"),
            ("independante", "Activité indépendante"),
            ("recherche", "En recherche d'emploi"),
        ],
        "Indiquez votre situation professionnelle.",
    )
    since_day, since_month, since_year = SINCE.fields()


class ActivityHouseholdForm(forms.Form):
    children = count_field(
        "Nombre d'enfants à charge",
        "Saisissez le nombre d'enfants à charge (0 si vous n'en avez pas).",
        max_value=20,
        help_text="Les enfants de moins de 25 ans qui vivent avec vous ; 0 si vous n'en avez pas",
        too_many="Vérifiez le nombre d'enfants : 20 au plus.",
    )
    partner = choice_field(
        "Votre conjoint ou conjointe exerce-t-il ou elle une activité ?",
        [
            ("oui", "Oui, il ou elle travaille"),
            ("non", "Non, il ou elle ne travaille pas"),
            ("seul", "Je vis seul(e)"),
        ],
        "Indiquez si votre conjoint ou conjointe exerce une activité, ou si vous vivez seul(e).",
    )


class FamilyQuotientForm(forms.Form):
    family_quotient = forms.IntegerField(
        label="Votre quotient familial",
        required=False,
        min_value=0,
        max_value=10_000,
        help_text=(
            "En euros, calculé par votre Caf ; corrigez-le s'il ne correspond pas à votre dernière attestation, "
            "ou laissez vide si vous ne le connaissez pas"
        ),
        error_messages={
            "invalid": "Saisissez le quotient familial en euros, sans centimes, par exemple 650.",
            "min_value": "Le quotient familial ne peut pas être négatif.",
            "max_value": "Vérifiez le quotient familial : il paraît trop élevé.",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


ACTIVITY_BONUS = ProcedureType(
    code="prime-d-activite",
    label="Demande de prime d'activité",
    summary="Pour compléter les revenus des personnes qui travaillent et dont les ressources sont modestes.",
    reference_prefix="PA",
    steps=(
        Step("situation", "Votre situation professionnelle", ActivityForm),
        Step("foyer", "Votre foyer", ActivityHouseholdForm),
        QUARTER_RESOURCES_STEP,
        FRANCE_TRAVAIL_STEP,
        Step(
            "quotient-familial",
            "Votre quotient familial",
            FamilyQuotientForm,
            {"family_quotient": Prefill(QUOTIENT, QUOTIENT_VALUE, whole_euros)},
            intro=(
                "Le quotient familial est calculé par votre Caf à partir des ressources et de la composition du "
                "foyer. Il est indiqué pour information : la Caf le calcule de nouveau pour votre demande."
            ),
        ),
    ),
    next_steps=(
        "Votre Caf étudie votre demande et calcule votre prime d'activité. Vous déclarerez ensuite vos ressources "
        "tous les 3 mois dans Mon Compte pour qu'elle soit recalculée."
    ),
)
