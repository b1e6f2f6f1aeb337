"""Forms of the identity checks' queue: the refusal's reason, the re-keying's two identifiers."""

from __future__ import annotations

from django import forms

from moncompte.accounts.signup import REJECTION_REASON_MAX_LENGTH, REJECTION_REASONS
from moncompte.identity.identifiers import IdentifierError, parse_identifier

OTHER_REASON = "other"
_REASON_LABELS = dict(REJECTION_REASONS)


class RejectForm(forms.Form):
    reason = forms.ChoiceField(
        label="Motif du refus",
        help_text="Il est envoyé à la personne, avec ce qu'elle peut faire : envoyer un nouveau justificatif "
        "depuis son compte ou venir à l'accueil avec sa pièce d'identité.",
        choices=REJECTION_REASONS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le motif du refus."},
    )
    details = forms.CharField(
        label="Précisions pour la personne (facultatif, obligatoire pour « Autre motif »)",
        help_text="N'y écrivez ni numéro de sécurité sociale ni information sur une autre personne.",
        required=False,
        max_length=REJECTION_REASON_MAX_LENGTH - 200,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": "Les précisions ne peuvent pas dépasser %(limit_value)d caractères."},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == OTHER_REASON and not (cleaned.get("details") or "").strip():
            self.add_error("details", "Avec « Autre motif », écrivez le motif du refus pour la personne.")
        return cleaned

    def reason_text(self) -> str:
        """The reason sent to the person: the chosen one, then the agent's words."""
        reason, details = self.cleaned_data["reason"], self.cleaned_data["details"].strip()
        if reason == OTHER_REASON:
            return details
        return f"{_REASON_LABELS[reason]}. {details}" if details else _REASON_LABELS[reason]


class _IdentifierField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"})
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return parse_identifier(value)
        except IdentifierError as error:
            raise forms.ValidationError(error.message, code=error.code) from None


class RekeyForm(forms.Form):
    current = _IdentifierField(
        label="Identifiant provisoire actuel",
        help_text="L'identifiant provisoire Mon Compte (P-XXXXX-XXXXX) ou le numéro provisoire commençant par 7 ou 8",
        error_messages={"required": "Saisissez l'identifiant provisoire actuel de la personne."},
    )
    new = _IdentifierField(
        label="Numéro de sécurité sociale attribué",
        help_text="13 chiffres et la clé de 2 chiffres, tels qu'ils figurent sur le document d'attribution",
        error_messages={"required": "Saisissez le numéro de sécurité sociale attribué."},
    )
