"""The counter's forms: they parse what the agent typed; the rules are moncompte.counter's."""

from django import forms

from moncompte.core.actors import Channel
from moncompte.counter.models import Proof
from moncompte.identity.models import DocumentKind

CHANNEL_CHOICES = [(Channel.COUNTER.value, "À l'accueil"), (Channel.PHONE.value, "Au téléphone")]


class SearchForm(forms.Form):
    channel = forms.ChoiceField(
        label="La personne est reçue",
        choices=CHANNEL_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez « À l'accueil » ou « Au téléphone »."},
    )
    numero = forms.CharField(
        label="Numéro allocataire",
        help_text="7 chiffres.",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}),
    )
    caf_code = forms.CharField(
        label="Code de la Caf (facultatif)",
        help_text="3 chiffres, seulement pour un dossier d'une autre Caf si votre rôle le permet. Vide : votre Caf.",
        required=False,
        max_length=3,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    identifier = forms.CharField(
        label="Numéro de sécurité sociale",
        help_text="13 chiffres et la clé, avec ou sans espaces.",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    # The file chosen when the NIR's person is on several files (the same search again).
    dossier = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not self.errors and bool(data.get("numero", "").strip()) == bool(data.get("identifier", "").strip()):
            raise forms.ValidationError("Saisissez soit un numéro allocataire, soit un numéro de sécurité sociale.")
        return data


class _IdentifyForm(forms.Form):
    # The member chosen; empty: a person who is not among the file's members.
    person = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    proof = forms.ChoiceField(choices=Proof.choices, widget=forms.HiddenInput)


class DocumentForm(_IdentifyForm):
    """At the counter: the identity document the person shows."""

    document_kind = forms.ChoiceField(
        label="Document d'identité présenté",
        choices=[("", "Choisir le document")] + list(DocumentKind.choices),
        error_messages={"required": "Choisissez le document d'identité présenté."},
    )


class ReferenceForm(_IdentifyForm):
    """On the phone: the reference the telephony platform gave the caller after their authentication."""

    reference = forms.CharField(
        label="Référence de l'authentification téléphonique",
        help_text="Donnée à l'appelant par le serveur vocal, par exemple TEL-ABCD-EFGH.",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Saisissez la référence donnée par la plateforme téléphonique."},
    )


class PhoneCodeForm(_IdentifyForm):
    """On the phone: the caller reads their NIR and the phone code Mon Compte gave them."""

    identifier = forms.CharField(
        label="Numéro de sécurité sociale de l'appelant",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Saisissez le numéro de sécurité sociale que l'appelant vous lit."},
    )
    code = forms.CharField(
        label="Code téléphone",
        help_text="6 chiffres, affiché dans Mon Compte ou reçu par SMS.",
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": "Saisissez le code téléphone que l'appelant vous lit."},
    )


FORMS_BY_PROOF = {
    Proof.IDENTITY_DOCUMENT: DocumentForm,
    Proof.PHONE_AUTHENTICATION: ReferenceForm,
    Proof.PHONE_CODE: PhoneCodeForm,
}
