"""The rectification decision form: the answer, and the corrected data when the agent corrects.

It parses only; the checks on the values (names, dates, places, agreement with the NIR) are the
domain's (moncompte.identity.rectifications)."""

from django import forms

from moncompte.core.forms import DateParts, DatePartsMixin
from moncompte.identity.models import RectificationRequest, Sex
from moncompte.identity.normalise import birth_date_problem
from moncompte.identity.rectifications import ANSWER_MAX_LENGTH, CORRECTABLE

DECISION_ANSWER = "answer"
DECISION_REJECT = "reject"

BIRTH_DATE = DateParts(
    key="birth_date",
    prefix="birth",
    legend="Date de naissance",
    the_date="la date de naissance",
    the_year="L'année de naissance",
    example="14 12 1984",
    html_id="date-naissance",
    problem=birth_date_problem,
)


class StateFilterForm(forms.Form):
    state = forms.ChoiceField(label="État", required=False)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = choices


class RectificationDecisionForm(DatePartsMixin, forms.Form):
    date_parts = (BIRTH_DATE,)

    decision = forms.ChoiceField(
        label="Décision",
        choices=[
            (DECISION_ANSWER, "Traiter la demande (avec ou sans correction des données)"),
            (DECISION_REJECT, "Refuser la demande"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez de traiter ou de refuser la demande."},
    )
    answer = forms.CharField(
        label="Réponse à la personne",
        help_text=f"La personne lit ce texte dans Mon Compte. {ANSWER_MAX_LENGTH} caractères au plus, sans "
        "numéro de sécurité sociale.",
        max_length=ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Écrivez la réponse qui sera montrée à la personne."},
    )
    apply_correction = forms.BooleanField(
        label="Corriger les données de la personne avec les valeurs ci-dessous", required=False
    )
    first_names = forms.CharField(label=CORRECTABLE["first_names"], max_length=200, required=False)
    birth_name = forms.CharField(label=CORRECTABLE["birth_name"], max_length=200, required=False)
    usage_name = forms.CharField(label=CORRECTABLE["usage_name"], max_length=200, required=False)
    birth_day, birth_month, birth_year = BIRTH_DATE.fields()
    sex = forms.ChoiceField(label=CORRECTABLE["sex"], choices=Sex.choices, widget=forms.RadioSelect, required=False)
    birth_country_code = forms.CharField(
        label=CORRECTABLE["birth_country_code"],
        help_text="5 chiffres, 99100 pour la France",
        max_length=5,
        required=False,
    )
    birth_place_code = forms.CharField(
        label=CORRECTABLE["birth_place_code"],
        help_text="Pour une naissance en France : 5 caractères, par exemple 69123 ; vide sinon",
        max_length=5,
        required=False,
    )

    def clean(self):
        # The birth date is read only when the data is corrected: a refusal needs none.
        cleaned = forms.Form.clean(self)
        if self.correcting(cleaned):
            value = BIRTH_DATE.read(self)
            if value is not None:
                cleaned["birth_date"] = value
        return cleaned

    @staticmethod
    def correcting(cleaned) -> bool:
        return cleaned.get("decision") == DECISION_ANSWER and bool(cleaned.get("apply_correction"))

    def correction(self) -> dict | None:
        """The corrected values for rectification_answer, or None when nothing is corrected."""
        if not self.correcting(self.cleaned_data):
            return None
        names = ("first_names", "birth_name", "usage_name", "birth_date", "sex", "birth_country_code")
        values = {name: self.cleaned_data.get(name) for name in names}
        values["birth_place_code"] = self.cleaned_data.get("birth_place_code", "")
        if not values["sex"]:
            values.pop("sex")
        return values


def initial_for(request: RectificationRequest) -> dict:
    """The form as it opens: the person's data as held now, to correct in place."""
    person = request.person
    return {
        "first_names": person.first_names,
        "birth_name": person.birth_name,
        "usage_name": person.usage_name,
        "birth_day": f"{person.birth_date.day:02d}",
        "birth_month": f"{person.birth_date.month:02d}",
        "birth_year": f"{person.birth_date.year}",
        "sex": person.sex,
        "birth_country_code": person.birth_country_code,
        "birth_place_code": person.birth_place_code,
    }
