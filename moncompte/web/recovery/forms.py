"""Forms of the password reset and of the password change (moncompte.web.recovery_views)."""

from django import forms

from moncompte.web.forms import CodeForm, IdentifierField, NewPasswordForm


class ResetIdentifierForm(forms.Form):
    identifier = IdentifierField(
        label="Numéro de sécurité sociale ou identifiant provisoire",
        help_text="13 chiffres, suivis ou non de la clé de 2 chiffres. Exemple : 2 85 05 75 115 042 95",
        max_length=40,
        error_messages={"required": "Saisissez votre numéro de sécurité sociale ou votre identifiant provisoire."},
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"}),
    )


class ResetCodeForm(CodeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = "Le code à 6 chiffres reçu par courriel ou par SMS"


class ResetPasswordForm(NewPasswordForm):
    """The new password, checked against the policy for the person (``person=``)."""


class PasswordChangeForm(NewPasswordForm):
    """Current password, new password (policy for ``person=``) and its confirmation."""

    current_password = forms.CharField(
        label="Mot de passe actuel",
        max_length=1024,
        strip=False,
        error_messages={"required": "Saisissez votre mot de passe actuel."},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    field_order = ["current_password", "password", "password_confirm"]
