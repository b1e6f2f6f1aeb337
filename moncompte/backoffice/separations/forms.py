"""The separation decision form: who keeps the file, a new file for the one who leaves, the
children who go with them."""

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
    children_leaving = forms.TypedMultipleChoiceField(
        label="Enfants qui partent avec la personne qui quitte le dossier (dans son nouveau dossier)",
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Cet enfant n'est plus rattaché au dossier : rechargez la page."},
    )

    def __init__(self, *args, children=(), **kwargs):
        """``children``: the file's current children (``SeparationCase.children``)."""
        super().__init__(*args, **kwargs)
        self.fields["children_leaving"].choices = [
            (str(child.pk), f"{child.display_name}, né(e) le {child.birth_date:%d/%m/%Y}") for child in children
        ]
