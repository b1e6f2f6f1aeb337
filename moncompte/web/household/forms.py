"""Forms of the household pages (moncompte.web.household.views)."""

import datetime

from django import forms
from django.utils import timezone

from moncompte.web.forms import DateParts, DatePartsMixin


def _separation_problem(value: datetime.date) -> str | None:
    if value > timezone.localdate():
        return "La date de séparation ne peut pas être dans le futur."
    if value < datetime.date(1900, 1, 1):
        return "Vérifiez l'année de la séparation."
    return None


SEPARATION_DATE = DateParts(
    key="separated_on",
    prefix="separated",
    legend="Date de la séparation",
    the_date="la date de la séparation",
    the_year="L'année de la séparation",
    example="15 03 2026",
    html_id="date-separation",
    problem=_separation_problem,
)


class DelegationForm(forms.Form):
    intent = forms.ChoiceField(choices=[("accorder", "accorder"), ("retirer", "retirer")], widget=forms.HiddenInput)
    password = forms.CharField(
        label="Votre mot de passe",
        help_text="Pour votre sécurité, confirmez votre identité.",
        max_length=1024,
        strip=False,
        error_messages={"required": "Saisissez votre mot de passe."},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SeparationForm(DatePartsMixin, forms.Form):
    date_parts = (SEPARATION_DATE,)

    separated_day, separated_month, separated_year = SEPARATION_DATE.fields()
    leaving = forms.ChoiceField(
        label="Qui quitte le logement ?",
        choices=[("moi", "Moi"), ("conjoint", "Mon conjoint ou ma conjointe")],
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez qui quitte le logement.", "invalid_choice": "Choix non valide."},
    )
    address_line1 = forms.CharField(
        label="Nouvelle adresse (numéro et voie)",
        max_length=200,
        error_messages={"required": "Saisissez l'adresse (numéro et voie)."},
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label="Complément d'adresse (facultatif)",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    postal_code = forms.RegexField(
        label="Code postal",
        regex=r"^\d{5}$",
        max_length=5,
        error_messages={"required": "Saisissez le code postal.", "invalid": "Le code postal comporte 5 chiffres."},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    city = forms.CharField(
        label="Commune",
        max_length=200,
        error_messages={"required": "Saisissez la commune."},
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    confirm = forms.BooleanField(
        label="Je confirme cette déclaration. L'ancien conjoint ou l'ancienne conjointe n'aura plus accès au dossier.",
        error_messages={"required": "Cochez la case pour confirmer la déclaration."},
    )

    def __init__(self, *args, leaving_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if leaving_choices:
            self.fields["leaving"].choices = leaving_choices

    def new_address(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("address_line1", "address_line2", "postal_code", "city")}
