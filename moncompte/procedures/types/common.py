"""Fields and steps several procedure types share: counts, yes/no answers, resources over the
last three months or of one month (pre-filled from the monthly resources, DRM), the situation
with France Travail (pre-filled from France Travail), the months a change may date from.

The partners' keys (moncompte.partners): "drm" gives ``mois``, a list of months each with
``salaires_cents``, ``indemnites_chomage_cents`` and ``pensions_cents``; "france_travail" gives
``inscrit`` and ``indemnise`` (booleans); "quotient_familial" gives ``quotient_familial`` (euros).
A value the partner does not give, or gives malformed, pre-fills nothing: the person types it.
"""

from __future__ import annotations

import datetime
import decimal

from django import forms
from django.utils import timezone

from moncompte.households.models import SituationChange
from moncompte.procedures.declarations import Prefill, Step, SubmitContext
from moncompte.procedures.fields import cents_to_euros, euros_field
from moncompte.procedures.summary import date_text

# The partners' sources and keys, in one place.
DRM = "drm"
DRM_MONTHS = "mois"
DRM_SALARIES = "salaires_cents"
DRM_UNEMPLOYMENT = "indemnites_chomage_cents"
DRM_PENSIONS = "pensions_cents"
FRANCE_TRAVAIL = "france_travail"
FT_REGISTERED = "inscrit"
FT_COMPENSATED = "indemnise"
QUOTIENT = "quotient_familial"
QUOTIENT_VALUE = "quotient_familial"

YES, NO = "oui", "non"
YES_NO = [(YES, "Oui"), (NO, "Non")]
CHOICE_INVALID = "Choix non valide."

MONTHS_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()


# The heading of the declarations of a change of situation on the list of procedures.
SITUATION_CHANGE = "Changement de situation"


def situation_change(context: SubmitContext, kind: str, effective_on: datetime.date, data: dict) -> dict:
    """A change of situation of ``kind`` on the procedure's file, declared by its submitter, for
    the Caf's agents (in the submission's transaction); what the procedure's result keeps."""
    change = SituationChange.objects.create(
        dossier=context.procedure.dossier,
        kind=kind,
        declared_by=context.actor.subject,
        declared_at=timezone.now(),
        effective_on=effective_on,
        data={**data, "procedure_id": context.procedure.pk},
    )
    return {"situation_change_id": change.pk}


# Fields -----------------------------------------------------------------------------------------


def amount_field(label: str, required_message: str, *, help_text: str = "", max_value: int = 100_000):
    """An amount in euros (moncompte.procedures.fields.euros_field) with its own sentence when empty."""
    field = euros_field(label, help_text=help_text, max_value=max_value)
    field.error_messages = {**field.error_messages, "required": required_message}
    return field


def count_field(label: str, required_message: str, *, max_value: int, help_text: str = "", too_many: str = ""):
    """A whole number from 0 (children, people), typed as text with a numeric keyboard."""
    return forms.IntegerField(
        label=label,
        min_value=0,
        max_value=max_value,
        help_text=help_text,
        error_messages={
            "required": required_message,
            "invalid": "Saisissez un nombre entier, par exemple 2.",
            "min_value": "Le nombre ne peut pas être négatif.",
            "max_value": too_many or "Vérifiez le nombre : il paraît trop élevé.",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


def choice_field(label: str, choices, required_message: str, *, help_text: str = ""):
    return forms.ChoiceField(
        label=label,
        choices=choices,
        help_text=help_text,
        widget=forms.RadioSelect,
        error_messages={"required": required_message, "invalid_choice": CHOICE_INVALID},
    )


def yes_no_field(label: str, required_message: str, *, help_text: str = ""):
    """A yes/no question answered by a radio button, never by an unticked box (an answer is required)."""
    return choice_field(label, YES_NO, required_message, help_text=help_text)


# Partner values as the fields' values ------------------------------------------------------------


def _cents(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        cents = int(value)
    except ValueError:
        return None
    return cents if cents >= 0 else None


def _months(months) -> list[dict] | None:
    if not isinstance(months, list) or not months or not all(isinstance(m, dict) for m in months):
        return None
    if all(isinstance(m.get("mois"), str) for m in months):
        months = sorted(months, key=lambda m: m["mois"])
    return months


def drm_quarter(kind: str):
    """The DRM months' ``kind`` (salaires_cents...) over the last three months, in euros."""

    def convert(months) -> str | None:
        months = _months(months)
        if months is None or not any(kind in m for m in months):
            return None
        values = [_cents(m.get(kind, 0)) for m in months[-3:]]
        if any(v is None for v in values):
            return None
        return cents_to_euros(sum(values))

    return convert


def drm_latest(kind: str):
    """The DRM's most recent month's ``kind``, in euros."""

    def convert(months) -> str | None:
        months = _months(months)
        if months is None or kind not in months[-1]:
            return None
        cents = _cents(months[-1][kind])
        return cents_to_euros(cents) if cents is not None else None

    return convert


def yes_no(value) -> str | None:
    return (YES if value else NO) if isinstance(value, bool) else None


def whole_euros(value) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        amount = decimal.Decimal(str(value))
    except (decimal.InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return int(amount.to_integral_value(rounding=decimal.ROUND_HALF_UP))


# Resources -------------------------------------------------------------------------------------

ZERO_IF_NONE = "En euros ; saisissez 0 si vous n'en avez pas"


class QuarterResourcesForm(forms.Form):
    """What the household received over the last three months, by kind."""

    salaries = amount_field(
        "Salaires des 3 derniers mois",
        "Saisissez les salaires des 3 derniers mois (0 si vous n'en avez pas).",
        help_text="Montants nets perçus, en euros ; saisissez 0 si vous n'en avez pas",
        max_value=200_000,
    )
    self_employed = amount_field(
        "Revenus d'indépendant des 3 derniers mois",
        "Saisissez les revenus d'indépendant des 3 derniers mois (0 si vous n'en avez pas).",
        help_text="Chiffre d'affaires ou bénéfice d'une activité non salariée, en euros ; 0 si vous n'en avez pas",
        max_value=200_000,
    )
    unemployment = amount_field(
        "Allocations chômage des 3 derniers mois",
        "Saisissez les allocations chômage des 3 derniers mois (0 si vous n'en avez pas).",
        help_text=ZERO_IF_NONE,
        max_value=200_000,
    )
    other = amount_field(
        "Autres ressources des 3 derniers mois",
        "Saisissez les autres ressources des 3 derniers mois (0 si vous n'en avez pas).",
        help_text="Pensions, retraites, rentes, pensions alimentaires, en euros ; 0 si vous n'en avez pas",
        max_value=200_000,
    )


QUARTER_PREFILL = {
    "salaries": Prefill(DRM, DRM_MONTHS, drm_quarter(DRM_SALARIES)),
    "unemployment": Prefill(DRM, DRM_MONTHS, drm_quarter(DRM_UNEMPLOYMENT)),
    "other": Prefill(DRM, DRM_MONTHS, drm_quarter(DRM_PENSIONS)),
}

PREFILLED_INTRO = (
    "Quand le dispositif de ressources mensuelles répond, les montants qu'il connaît sont déjà saisis : "
    "vérifiez-les, et corrigez-les s'ils sont inexacts."
)


class FranceTravailForm(forms.Form):
    """The person's situation with France Travail (registered, compensated)."""

    registered = yes_no_field(
        "Êtes-vous inscrit(e) à France Travail ?", "Indiquez si vous êtes inscrit(e) à France Travail."
    )
    compensated = yes_no_field(
        "Percevez-vous une allocation de France Travail ?",
        "Indiquez si vous percevez une allocation de France Travail.",
        help_text="Allocation d'aide au retour à l'emploi (ARE) ou allocation de solidarité spécifique (ASS)",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("compensated") == YES and cleaned.get("registered") == NO:
            self.add_error(
                "compensated",
                "Une allocation de France Travail suppose d'y être inscrit(e) : vérifiez vos deux réponses.",
            )
        return cleaned


FRANCE_TRAVAIL_PREFILL = {
    "registered": Prefill(FRANCE_TRAVAIL, FT_REGISTERED, yes_no),
    "compensated": Prefill(FRANCE_TRAVAIL, FT_COMPENSATED, yes_no),
}

FRANCE_TRAVAIL_INTRO = (
    "Quand France Travail répond, votre situation y est déjà indiquée : vérifiez-la, et corrigez-la si elle "
    "est inexacte."
)

# The two steps the prime d'activité and the RSA share, declared once.
QUARTER_RESOURCES_STEP = Step(
    "ressources", "Vos ressources des 3 derniers mois", QuarterResourcesForm, QUARTER_PREFILL, intro=PREFILLED_INTRO
)
FRANCE_TRAVAIL_STEP = Step(
    "france-travail", "France Travail", FranceTravailForm, FRANCE_TRAVAIL_PREFILL, intro=FRANCE_TRAVAIL_INTRO
)


# Months ----------------------------------------------------------------------------------------


def month_label(value: str) -> str:
    year, month = value.split("-")
    return f"{MONTHS_FR[int(month) - 1]} {year}"


def recent_months(count: int = 12, today: datetime.date | None = None) -> list[tuple[str, str]]:
    """This month and the ``count - 1`` before it, the newest first: ("2026-11", "novembre 2026")."""
    today = today or timezone.localdate()
    year, month = today.year, today.month
    months = []
    for _ in range(count):
        value = f"{year:04d}-{month:02d}"
        months.append((value, month_label(value)))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def first_day(month_value: str) -> datetime.date:
    return datetime.date.fromisoformat(f"{month_value}-01")


def years_before(today: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` years before (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def not_in_future_nor_before(what: str, years: int, too_old: str):
    """A DateParts problem: the date is not in the future, nor more than ``years`` years ago."""

    def problem(value: datetime.date) -> str | None:
        today = timezone.localdate()
        if value > today:
            return f"{what} ne peut pas être dans le futur."
        if value < years_before(today, years):
            return too_old.format(earliest=date_text(years_before(today, years)))
        return None

    return problem
