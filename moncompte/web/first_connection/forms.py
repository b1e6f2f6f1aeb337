"""Forms of the first connection (moncompte.web.first_connection.views)."""

from django import forms

from moncompte.web.forms import NirField, SpacedDigitsMixin


class LegacyCodeForm(SpacedDigitsMixin, forms.Form):
    digit_fields = ("numero", "code")

    place = forms.CharField(
        label="Département ou code postal de votre domicile",
        help_text="Pour trouver votre Caf. Exemples : 75, 2A, 974 ou 75011",
        max_length=10,
        error_messages={"required": "Indiquez votre département ou votre code postal."},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "spellcheck": "false"}),
    )
    numero = forms.RegexField(
        label="Numéro allocataire",
        help_text="7 chiffres, sur vos courriers de la Caf",
        regex=r"^\d{7}$",
        max_length=20,
        error_messages={
            "required": "Saisissez votre numéro allocataire.",
            "invalid": "Le numéro allocataire compte 7 chiffres.",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    code = forms.RegexField(
        label="Code confidentiel actuel",
        help_text="Le code à 8 chiffres que vous utilisiez jusqu'ici",
        regex=r"^\d{8}$",
        max_length=20,
        strip=True,
        error_messages={
            "required": "Saisissez votre code confidentiel à 8 chiffres.",
            "invalid": "Le code confidentiel compte 8 chiffres.",
        },
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_numero(self):
        return self.cleaned_data["numero"].strip()


class NirForm(forms.Form):
    identifier = NirField(label="Numéro de sécurité sociale")
