"""The sign-in form (moncompte.web.signin.views)."""

from django import forms

from moncompte.web.forms import AccountIdentifierField, PasswordField


class SigninForm(forms.Form):
    identifier = AccountIdentifierField()
    password = PasswordField(
        label="Mot de passe",
        error_messages={"required": "Saisissez votre mot de passe."},
        autocomplete="current-password",
    )
