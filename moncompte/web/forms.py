from django import forms

from moncompte.identity.identifiers import IdentifierError, parse_identifier


class SigninForm(forms.Form):
    identifier = forms.CharField(
        label="Numéro de sécurité sociale ou identifiant provisoire",
        help_text="13 chiffres, suivis ou non de la clé de 2 chiffres. Exemple : 2 85 05 75 115 042 95",
        max_length=40,
        error_messages={"required": "Saisissez votre numéro de sécurité sociale ou votre identifiant provisoire."},
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label="Mot de passe",
        max_length=1024,
        strip=False,
        error_messages={"required": "Saisissez votre mot de passe."},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_identifier(self):
        try:
            return parse_identifier(self.cleaned_data["identifier"])
        except IdentifierError as error:
            raise forms.ValidationError(error.message, code="invalid_identifier") from None
