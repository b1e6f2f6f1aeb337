"""Déclarer un changement de ressources: the month the change happened (this month or one of the
11 before) and the new monthly amounts by kind, pre-filled from the latest month the monthly
resources (DRM) know. The submission puts a SituationChange RESOURCES on the file.
"""

from django import forms

from moncompte.households.models import SituationChange
from moncompte.procedures.declarations import Prefill, ProcedureType, Step, SubmitContext
from moncompte.procedures.types.common import (
    DRM,
    DRM_MONTHS,
    DRM_PENSIONS,
    DRM_SALARIES,
    DRM_UNEMPLOYMENT,
    SITUATION_CHANGE,
    amount_field,
    choice_field,
    drm_latest,
    first_day,
    recent_months,
    situation_change,
)


class ChangeMonthForm(forms.Form):
    month = choice_field(
        "Depuis quel mois vos ressources ont-elles changé ?",
        recent_months,  # this month and the 11 before, read when the form is built
        "Indiquez le mois du changement.",
        help_text="Si le changement date de plus d'un an, contactez votre Caf",
    )


class MonthlyResourcesForm(forms.Form):
    salaries = amount_field(
        "Salaires par mois",
        "Saisissez vos salaires par mois (0 si vous n'en avez plus).",
        help_text="Montant net mensuel, en euros ; saisissez 0 si vous n'en avez pas",
    )
    self_employed = amount_field(
        "Revenus d'indépendant par mois",
        "Saisissez vos revenus d'indépendant par mois (0 si vous n'en avez pas).",
        help_text="En euros ; saisissez 0 si vous n'en avez pas",
    )
    unemployment = amount_field(
        "Allocations chômage par mois",
        "Saisissez vos allocations chômage par mois (0 si vous n'en avez pas).",
        help_text="En euros ; saisissez 0 si vous n'en avez pas",
    )
    other = amount_field(
        "Autres ressources par mois",
        "Saisissez vos autres ressources par mois (0 si vous n'en avez pas).",
        help_text="Pensions, retraites, rentes, pensions alimentaires, en euros ; 0 si vous n'en avez pas",
    )


AMOUNT_FIELDS = ("salaries", "self_employed", "unemployment", "other")


def _resources_submit(context: SubmitContext) -> dict:
    month = context.value("date", "month")
    return situation_change(
        context,
        SituationChange.Kind.RESOURCES,
        first_day(month),
        {"month": month, "monthly_amounts": {name: context.value("montants", name) for name in AMOUNT_FIELDS}},
    )


RESOURCES_CHANGE = ProcedureType(
    code="changement-ressources",
    label="Déclarer un changement de ressources",
    summary="Vos ressources ont changé (nouvel emploi, fin de contrat, chômage, retraite) : déclarez-le.",
    reference_prefix="CR",
    group=SITUATION_CHANGE,
    steps=(
        Step("date", "Le mois du changement", ChangeMonthForm),
        Step(
            "montants",
            "Vos nouvelles ressources mensuelles",
            MonthlyResourcesForm,
            {
                "salaries": Prefill(DRM, DRM_MONTHS, drm_latest(DRM_SALARIES)),
                "unemployment": Prefill(DRM, DRM_MONTHS, drm_latest(DRM_UNEMPLOYMENT)),
                "other": Prefill(DRM, DRM_MONTHS, drm_latest(DRM_PENSIONS)),
            },
            intro=(
                "Quand le dispositif de ressources mensuelles répond, les montants du dernier mois qu'il connaît "
                "sont déjà saisis : remplacez-les par vos nouvelles ressources."
            ),
        ),
    ),
    submit=_resources_submit,
    next_steps=(
        "Votre Caf recalcule vos droits à partir du mois du changement. Si vous avez reçu trop ou pas assez, "
        "elle vous écrira pour vous l'expliquer."
    ),
)
