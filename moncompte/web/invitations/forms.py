"""Forms of the invitations of household members (moncompte.web.invitations.views)."""

import dataclasses

from django import forms

from moncompte.core.actors import ContactChannel
from moncompte.households.invitations import MALFORMED_CODE, invitation_code_canonical
from moncompte.web.forms import BIRTH_DATE, ContactChoiceForm, DatePartsMixin, NirField


class InvitationSendForm(ContactChoiceForm):
    """How to send the invitation to one member: email or SMS. Prefixed by the member's row."""

    missing_email = "Saisissez l'adresse électronique de la personne invitée."
    missing_phone = "Saisissez le numéro de téléphone mobile de la personne invitée."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        channel, email, phone = self.fields["channel"], self.fields["email"], self.fields["phone"]
        channel.label = "Envoyer l'invitation"
        channel.choices = [(ContactChannel.EMAIL, "Par courriel"), (ContactChannel.PHONE, "Par SMS")]
        channel.error_messages = {
            "required": "Choisissez comment envoyer l'invitation.",
            "invalid_choice": "Choix invalide.",
        }
        email.label = "Adresse électronique de la personne invitée"
        phone.label = "Numéro de téléphone mobile de la personne invitée"
        # Someone else's address: the browser must not offer the inviter's own.
        email.widget.attrs["autocomplete"] = "off"
        phone.widget.attrs["autocomplete"] = "off"


class InvitationCodeField(forms.CharField):
    """The invitation code as typed or filled in from the link's fragment (web/invitation-code.js);
    cleaned to its canonical form, or refused by its shape (nothing counted, nothing looked up)."""

    def __init__(self, **kwargs):
        defaults = {
            "label": "Code d'invitation",
            "help_text": (
                "16 lettres et chiffres, dans le message d'invitation reçu par courriel ou par SMS. "
                "Si vous avez ouvert le lien du message, il est déjà rempli."
            ),
            "max_length": 200,  # the whole link may be pasted
            "error_messages": {"required": "Saisissez le code d'invitation reçu par courriel ou par SMS."},
            "widget": forms.TextInput(
                attrs={
                    "autocomplete": "off",
                    "spellcheck": "false",
                    "autocapitalize": "characters",
                    "data-invitation-code": "",
                }
            ),
        }
        super().__init__(**{**defaults, **kwargs})

    def clean(self, value):
        value = super().clean(value)
        canonical = invitation_code_canonical(value)
        if canonical is None:
            raise forms.ValidationError(MALFORMED_CODE, code="malformed")
        return canonical


# The invited member's own birth date, as on the sign-up (often a young person's: the example says so).
INVITED_BIRTH_DATE = dataclasses.replace(BIRTH_DATE, legend="Votre date de naissance", example="14 12 2008")


class InvitationIdentityForm(DatePartsMixin, forms.Form):
    """Whoever has the invitation code proves they are the invited member: the code, their NIR
    and their birth date, in one POST (the code is never in a URL)."""

    date_parts = (INVITED_BIRTH_DATE,)

    code = InvitationCodeField()
    identifier = NirField(label="Votre numéro de sécurité sociale")
    birth_day, birth_month, birth_year = INVITED_BIRTH_DATE.fields()
