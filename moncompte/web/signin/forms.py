"""The sign-in forms (moncompte.web.signin.views)."""

from django import forms

from moncompte.web.forms import AccountIdentifierField, CodeForm, PasswordField


class SigninForm(forms.Form):
    identifier = AccountIdentifierField()
    password = PasswordField(
        label="Mot de passe",
        error_messages={"required": "Saisissez votre mot de passe."},
        autocomplete="current-password",
    )


class UnlockRequestForm(SigninForm):
    """Step 1 of signing in with a code: the same identifiers as the sign-in."""


class UnlockCodeForm(CodeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = "Le code à 6 chiffres reçu par courriel ou par SMS"
