"""Forms of the invitations of household members (moncompte.web.invitations.views)."""

import datetime

from django import forms

from moncompte.core.actors import ContactChannel
from moncompte.households.invitations import MALFORMED_CODE, invitation_code_canonical
from moncompte.identity.normalise import birth_date_problem
from moncompte.web.forms import ContactChoiceForm, NirField


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


class DateInput(forms.DateInput):
    """The DSFR date field: a native date picker, typed by hand where the browser has none."""

    input_type = "date"


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


class InvitationIdentityForm(forms.Form):
    """Whoever has the invitation code proves they are the invited member: the code, their NIR
    and their birth date, in one POST (the code is never in a URL)."""

    code = InvitationCodeField()
    identifier = NirField(label="Votre numéro de sécurité sociale")
    birth_date = forms.DateField(
        label="Votre date de naissance",
        help_text="Au format jj/mm/aaaa, par exemple 14/12/2008",
        input_formats=["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d %m %Y"],
        error_messages={
            "required": "Saisissez votre date de naissance.",
            "invalid": "Cette date n'est pas valide. Saisissez-la au format jj/mm/aaaa, par exemple 14/12/2008.",
        },
        widget=DateInput(attrs={"autocomplete": "bday"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # A date typed by hand (12/04/2008) is written back as the date field reads it.
            raw = (self.data.get("birth_date") or "").strip()
            for pattern in self.fields["birth_date"].input_formats:
                try:
                    parsed = datetime.datetime.strptime(raw, pattern).date()
                except ValueError:
                    continue
                data = self.data.copy()
                data["birth_date"] = parsed.isoformat()
                self.data = data
                break

    def clean_birth_date(self):
        birth_date = self.cleaned_data["birth_date"]
        problem = birth_date_problem(birth_date)
        if problem:
            raise forms.ValidationError(problem)
        return birth_date
