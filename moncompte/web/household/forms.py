"""Forms of the household pages (moncompte.web.household.views)."""

import datetime

from django import forms
from django.utils import timezone


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


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


class SeparationForm(forms.Form):
    separated_on = forms.DateField(
        label="Date de la séparation",
        help_text="Au format jj/mm/aaaa, par exemple 15/03/2026.",
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=DateInput(),
        error_messages={"required": "Saisissez la date de la séparation.", "invalid": "Saisissez une date valide."},
    )
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

    def clean_separated_on(self) -> datetime.date:
        value = self.cleaned_data["separated_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("La date de séparation ne peut pas être dans le futur.")
        if value < datetime.date(1900, 1, 1):
            raise forms.ValidationError("Saisissez une date valide.")
        return value

    def new_address(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("address_line1", "address_line2", "postal_code", "city")}
