"""The forms of the agents' sign-in, second factor, activation and recovery codes."""

from django import forms

from moncompte.accounts.passwords import password_problems
from moncompte.web.forms import NewPasswordForm, PasswordField


def _email_field() -> forms.CharField:
    return forms.CharField(
        label="Adresse électronique professionnelle",
        max_length=254,
        error_messages={"required": "Saisissez votre adresse électronique professionnelle."},
        widget=forms.EmailInput(attrs={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"}),
    )


class SigninForm(forms.Form):
    email = _email_field()
    password = PasswordField(
        label="Mot de passe",
        autocomplete="current-password",
        error_messages={"required": "Saisissez votre mot de passe."},
    )


class TotpCodeForm(forms.Form):
    code = forms.CharField(
        label="Code à 6 chiffres",
        help_text="Le code affiché par votre application d'authentification",
        max_length=20,
        error_messages={"required": "Saisissez le code affiché par votre application d'authentification."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "spellcheck": "false"}),
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split())


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label="Code de secours",
        help_text="10 caractères, par exemple ABCDE-FGHJK",
        max_length=40,
        error_messages={"required": "Saisissez un de vos codes de secours."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )


class ActivationCodeForm(forms.Form):
    email = _email_field()
    code = forms.CharField(
        label="Code d'activation",
        help_text="12 caractères, remis par l'administrateur des agents de votre Caf, par exemple ABCD-EFGH-JKMN",
        max_length=40,
        error_messages={"required": "Saisissez votre code d'activation."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )


class AgentPasswordForm(NewPasswordForm):
    """The usagers' new-password form, checked against the agent's own names."""

    def __init__(self, *args, agent=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.agent = agent

    def password_problems(self, password: str):
        return password_problems(password, first_names=self.agent.first_names, birth_name=self.agent.last_name)


class PasswordAgainForm(forms.Form):
    password = PasswordField(
        label="Votre mot de passe",
        autocomplete="current-password",
        error_messages={"required": "Saisissez votre mot de passe."},
    )


class AgentPasswordChangeForm(AgentPasswordForm):
    """The current password, then the new one twice (the activation's policy)."""

    current_password = PasswordField(
        label="Mot de passe actuel",
        autocomplete="current-password",
        error_messages={"required": "Saisissez votre mot de passe actuel."},
    )

    field_order = ["current_password", "password", "password_confirm"]
