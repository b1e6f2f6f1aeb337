"""Forms of the password reset and of the password change (moncompte.web.recovery.views)."""

from django import forms

from moncompte.web.forms import AccountIdentifierField, CodeForm, NewPasswordForm, PasswordField


class ResetIdentifierForm(forms.Form):
    identifier = AccountIdentifierField()


class ResetCodeForm(CodeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = "Le code à 6 chiffres reçu par courriel ou par SMS"


class ResetPasswordForm(NewPasswordForm):
    """The new password, checked against the policy for the person (``person=``)."""


class PasswordChangeForm(NewPasswordForm):
    """Current password, new password (policy for ``person=``) and its confirmation."""

    current_password = PasswordField(
        label="Mot de passe actuel",
        error_messages={"required": "Saisissez votre mot de passe actuel."},
        autocomplete="current-password",
    )

    field_order = ["current_password", "password", "password_confirm"]
