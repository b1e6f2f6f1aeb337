"""The separation decision form: who keeps the file, a new file for the one who leaves."""

from django import forms

from moncompte.households.separations import KEEPERS


class SeparationDecisionForm(forms.Form):
    keeper = forms.ChoiceField(
        label="Qui garde le dossier ?",
        choices=list(KEEPERS.items()),
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez qui garde le dossier."},
    )
    new_file_for_leaver = forms.BooleanField(
        label="Ouvrir un nouveau dossier au nom de la personne qui quitte le dossier", required=False
    )
