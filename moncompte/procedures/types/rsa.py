"""Demande de revenu de solidarité active (RSA): for the household, from its composition, its
housing (a person without a stable home gives their domiciliation), the last three months'
resources (pre-filled from the monthly resources, DRM), the situation with France Travail
(pre-filled from France Travail) and the acceptance of the rights and duties of the RSA.
"""

from django import forms

from moncompte.identity.normalise import display_name
from moncompte.procedures.declarations import ProcedureType, Step
from moncompte.procedures.types.common import (
    FRANCE_TRAVAIL_STEP,
    QUARTER_RESOURCES_STEP,
    choice_field,
    count_field,
)

NO_STABLE_HOME = "sans_domicile"


class RsaHouseholdForm(forms.Form):
    living = choice_field(
        "Vous vivez",
        [("seul", "Seul(e)"), ("couple", "En couple (marié(e), pacsé(e) ou en concubinage)")],
        "Indiquez si vous vivez seul(e) ou en couple.",
    )
    children = count_field(
        "Nombre d'enfants à charge",
        "Saisissez le nombre d'enfants à charge (0 si vous n'en avez pas).",
        max_value=20,
        help_text="Les enfants de moins de 25 ans qui vivent avec vous ; 0 si vous n'en avez pas",
        too_many="Vérifiez le nombre d'enfants : 20 au plus.",
    )


class RsaHousingForm(forms.Form):
    housing = choice_field(
        "Votre logement",
        [
            ("heberge", "Hébergé(e) gratuitement (chez un proche, par exemple)"),
            ("locataire", "Locataire"),
            ("proprietaire", "Propriétaire"),
            (NO_STABLE_HOME, "Sans domicile stable"),
        ],
        "Indiquez votre situation de logement.",
    )
    domiciliation = forms.CharField(
        label="Organisme de domiciliation",
        required=False,
        max_length=200,
        help_text=(
            "Si vous êtes sans domicile stable : le centre communal d'action sociale (CCAS) ou l'association "
            "agréée qui reçoit votre courrier"
        ),
    )

    def clean(self):
        cleaned = super().clean()
        domiciliation = display_name(cleaned.get("domiciliation", ""))
        if cleaned.get("housing") == NO_STABLE_HOME:
            if not domiciliation:
                self.add_error(
                    "domiciliation",
                    "Sans domicile stable, indiquez l'organisme de domiciliation qui reçoit votre courrier.",
                )
        else:
            domiciliation = ""  # a domiciliation only for a person without a stable home
        cleaned["domiciliation"] = domiciliation
        return cleaned


class RsaCommitmentForm(forms.Form):
    accept = forms.BooleanField(
        label=(
            "J'ai pris connaissance de mes droits et devoirs de bénéficiaire du RSA et je m'engage à les respecter."
        ),
        error_messages={"required": "Cochez la case pour accepter les droits et devoirs du RSA."},
    )


RSA = ProcedureType(
    code="rsa",
    label="Demande de revenu de solidarité active (RSA)",
    summary="Pour disposer d'un revenu minimum et être accompagné(e) vers l'emploi ou l'insertion.",
    reference_prefix="RSA",
    steps=(
        Step("situation", "Votre situation familiale", RsaHouseholdForm),
        Step("logement", "Votre logement", RsaHousingForm),
        QUARTER_RESOURCES_STEP,
        FRANCE_TRAVAIL_STEP,
        Step(
            "engagement",
            "Vos droits et devoirs",
            RsaCommitmentForm,
            intro=(
                "Le RSA ouvre droit à un accompagnement social et professionnel adapté à vos besoins, avec un "
                "référent unique. En contrepartie, vous vous engagez à rechercher un emploi ou à suivre les "
                "démarches d'insertion définies avec votre référent, et à déclarer vos ressources tous les 3 mois."
            ),
        ),
    ),
    next_steps=(
        "Votre Caf étudie votre demande et calcule vos droits. Le département vous orientera ensuite vers un "
        "référent, qui vous accompagnera. Vous déclarerez vos ressources tous les 3 mois dans Mon Compte."
    ),
)
