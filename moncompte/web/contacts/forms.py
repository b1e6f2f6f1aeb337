"""Forms of the contact validation (moncompte.web.contacts.views); the choice and the code are
shared with the other flows (moncompte.web.forms)."""

from django import forms

from moncompte.web.forms import PasswordField


class CurrentPasswordForm(forms.Form):
    current_password = PasswordField(
        label="Votre mot de passe actuel",
        help_text="Pour votre sécurité, confirmez votre identité avant de changer vos coordonnées.",
        error_messages={"required": "Saisissez votre mot de passe actuel."},
        autocomplete="current-password",
    )
