"""Déclarer une naissance: the child's first names, birth name and sex, their birth date (not in
the future, nor more than a year ago: an older child's arrival goes to the Caf) and birthplace.
The submission puts a SituationChange BIRTH on the file.
"""

import datetime

from django import forms

from moncompte.core.forms import DateParts, DatePartsMixin
from moncompte.households.models import SituationChange
from moncompte.identity.normalise import display_name, family_name
from moncompte.procedures.declarations import ProcedureType, Step, SubmitContext
from moncompte.procedures.types.common import (
    SITUATION_CHANGE,
    choice_field,
    not_in_future_nor_before,
    situation_change,
)

BIRTH = DateParts(
    key="birth_date",
    prefix="birth",
    legend="Date de naissance de l'enfant",
    the_date="la date de naissance de l'enfant",
    the_year="L'année de naissance",
    example="14 10 2026",
    html_id="date-naissance-enfant",
    problem=not_in_future_nor_before(
        "La date de naissance",
        1,
        "Pour un enfant né avant le {earliest}, contactez votre Caf pour déclarer son arrivée dans votre foyer.",
    ),
)


def _name(value: str, no_letter: str, digits: str) -> str:
    """A name as typed, composed; refused without a letter or with a digit."""
    if not any(c.isalpha() for c in value):
        raise forms.ValidationError(no_letter)
    if any(c.isdigit() for c in value):
        raise forms.ValidationError(digits)
    return value


class ChildForm(forms.Form):
    first_names = forms.CharField(
        label="Prénoms de l'enfant",
        help_text="Tous ses prénoms, dans l'ordre de l'acte de naissance, séparés par un espace",
        max_length=200,
        error_messages={"required": "Saisissez les prénoms de l'enfant."},
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    birth_name = forms.CharField(
        label="Nom de naissance de l'enfant",
        help_text="Le nom inscrit sur son acte de naissance",
        max_length=200,
        error_messages={"required": "Saisissez le nom de naissance de l'enfant."},
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    sex = choice_field(
        "Sexe de l'enfant",
        [("F", "Fille"), ("M", "Garçon")],
        "Indiquez le sexe de l'enfant.",
        help_text="Tel qu'il figure sur l'acte de naissance",
    )

    def clean_first_names(self):
        return _name(
            display_name(self.cleaned_data["first_names"]),
            "Les prénoms de l'enfant doivent comporter des lettres.",
            "Les prénoms de l'enfant ne peuvent pas comporter de chiffres.",
        )

    def clean_birth_name(self):
        return _name(
            family_name(self.cleaned_data["birth_name"]),
            "Le nom de naissance de l'enfant doit comporter des lettres.",
            "Le nom de naissance de l'enfant ne peut pas comporter de chiffres.",
        )


class BirthForm(DatePartsMixin, forms.Form):
    date_parts = (BIRTH,)

    birth_day, birth_month, birth_year = BIRTH.fields()
    birth_place = forms.CharField(
        label="Commune de naissance",
        help_text="Son nom et son département, par exemple « Lyon (69) » ; à l'étranger, la ville et le pays",
        max_length=200,
        error_messages={"required": "Saisissez la commune de naissance de l'enfant."},
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )

    def clean_birth_place(self):
        place = display_name(self.cleaned_data["birth_place"])
        if not any(c.isalpha() for c in place):
            raise forms.ValidationError("Saisissez le nom de la commune de naissance, par exemple « Lyon (69) ».")
        return place


CHILD_FIELDS = ("first_names", "birth_name", "sex")


def _birth_submit(context: SubmitContext) -> dict:
    return situation_change(
        context,
        SituationChange.Kind.BIRTH,
        datetime.date.fromisoformat(context.value("naissance", "birth_date")),
        {
            "child": {name: context.value("enfant", name) for name in CHILD_FIELDS},
            "birth_place": context.value("naissance", "birth_place"),
        },
    )


BIRTH_DECLARATION = ProcedureType(
    code="declaration-naissance",
    label="Déclarer une naissance",
    summary="Un enfant est né dans votre foyer : déclarez sa naissance pour qu'il soit ajouté à votre dossier.",
    reference_prefix="DN",
    group=SITUATION_CHANGE,
    steps=(
        Step("enfant", "Votre enfant", ChildForm),
        Step("naissance", "Sa naissance", BirthForm),
    ),
    submit=_birth_submit,
    next_steps=(
        "Votre Caf ajoute l'enfant à votre dossier et étudie vos droits (prestation d'accueil du jeune enfant, "
        "allocations familiales). Si elle a besoin de l'acte de naissance, elle vous le demandera dans Mon Compte, "
        "rubrique « Demandes de la Caf »."
    ),
)
