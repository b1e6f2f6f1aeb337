"""The form of « Identifiant oublié » (moncompte.web.identifier_reminder.views)."""

from django import forms

from moncompte.core.actors import ContactChannel
from moncompte.verification.contacts import normalize_email, parse_mobile

NEITHER = (
    "Saisissez votre adresse électronique (par exemple nom@exemple.fr) "
    "ou votre numéro de téléphone mobile (par exemple 06 12 34 56 78)."
)


class ReminderForm(forms.Form):
    """One field: the email address or the mobile number the person validated in their account.
    ``cleaned_data["contact"]`` is ``(channel, destination)``, as the contact parsers leave it."""

    contact = forms.CharField(
        label="Votre adresse électronique ou votre numéro de téléphone mobile",
        help_text="Celle ou celui que vous avez validé dans votre compte. Exemples : nom@exemple.fr ou 06 12 34 56 78",
        max_length=254,
        error_messages={"required": NEITHER},
        widget=forms.TextInput(attrs={"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"}),
    )

    def clean_contact(self):
        value = self.cleaned_data["contact"]
        try:
            if "@" in value:
                return ContactChannel.EMAIL, normalize_email(value)
            if any(char.isdigit() for char in value):
                return ContactChannel.PHONE, parse_mobile(value)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None
        raise forms.ValidationError(NEITHER, code="invalid")
