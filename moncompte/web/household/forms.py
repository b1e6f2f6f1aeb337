"""Forms of the household pages (moncompte.web.household.views)."""

from django import forms

# The separation's fields and date rule are the separation procedure's (one definition): this
# page's one-page form is composed of its step forms.
from moncompte.procedures.types.separation import (
    SEPARATION_DATE,  # noqa: F401  (the page's date, as the template and tests name it)
    SeparationAddressForm,
    SeparationConfirmForm,
    SeparationDateForm,
    SeparationLeavingForm,
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


# Django collects the fields of the bases from the last one: date, who leaves, address, confirmation.
class SeparationForm(SeparationConfirmForm, SeparationAddressForm, SeparationLeavingForm, SeparationDateForm):
    def __init__(self, *args, leaving_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        if leaving_choices:
            self.fields["leaving"].choices = leaving_choices
