"""The Caf's requests in the console: the list's filter, finding the file, the request itself."""

from django import forms

from moncompte.caf_requests.agents import FILTERS
from moncompte.caf_requests.models import CafRequest
from moncompte.caf_requests.services import MAX_TEXT, MAX_TITLE
from moncompte.core.forms import DateParts, DatePartsMixin

HOUSEHOLD = "foyer"

DUE_DATE = DateParts(
    key="due_on",
    prefix="due",
    legend="À rendre avant le",
    the_date="la date limite de réponse",
    the_year="L'année de la date limite",
    example="31 12 2026",
    html_id="date-limite",
    required="Saisissez la date limite de réponse : jour, mois et année.",
)


class FilterForm(forms.Form):
    state = forms.ChoiceField(label="Demandes", choices=list(FILTERS.items()), required=False)


class FindFileForm(forms.Form):
    numero = forms.CharField(
        label="Numéro allocataire",
        help_text="7 chiffres, un dossier de votre Caf",
        max_length=20,
        error_messages={"required": "Saisissez le numéro allocataire du dossier."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class CafRequestCreateForm(DatePartsMixin, forms.Form):
    date_parts = (DUE_DATE,)

    dossier = forms.IntegerField(widget=forms.HiddenInput)
    addressed_to = forms.ChoiceField(
        label="Adressée",
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez à qui la demande est adressée."},
    )
    kind = forms.ChoiceField(
        label="Type de demande",
        choices=CafRequest.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le type de demande : document ou information."},
    )
    title = forms.CharField(
        label="Objet",
        help_text=f"{MAX_TITLE} caractères au plus ; il figure dans le message envoyé aux personnes",
        max_length=MAX_TITLE,
        error_messages={"required": "Saisissez l'objet de la demande."},
    )
    body = forms.CharField(
        label="Demande",
        help_text=f"Ce que la Caf demande et pourquoi ; {MAX_TEXT} caractères au plus",
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Saisissez le texte de la demande."},
    )
    due_day, due_month, due_year = DUE_DATE.fields()

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["addressed_to"].choices = [(HOUSEHOLD, "Au foyer (les personnes qui gèrent le dossier)")] + [
            (str(m.person_id), f"Personnellement à {m.person.display_name} ({m.get_role_display().lower()})")
            for m in members
        ]

    def addressed_to_person_id(self) -> int | None:
        value = self.cleaned_data["addressed_to"]
        return None if value == HOUSEHOLD else int(value)
