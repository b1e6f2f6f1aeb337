"""Demande d'aide au logement (APL, ALF, ALS: the Caf decides which from the answers).

Open to new beneficiaries: started from a public page without an account, the account is
created at the identity step (issue 10, point 3). The resources are pre-filled from the tax
administration (revenu fiscal de référence, parts) and the monthly resources (DRM).
"""

from django import forms

from moncompte.core.forms import DatePartsMixin
from moncompte.procedures.declarations import Prefill, ProcedureType, Step
from moncompte.procedures.fields import AddressFields, IdentityConfirmForm, cents_to_euros, euros_field, past_date

ENTRY_DATE = past_date(
    "entered_on",
    "entered",
    "Date d'entrée dans le logement",
    "la date d'entrée dans le logement",
    "L'année d'entrée",
    "date-entree",
)


class HousingForm(DatePartsMixin, forms.Form):
    date_parts = (ENTRY_DATE,)

    status = forms.ChoiceField(
        label="Vous êtes",
        choices=[
            ("locataire", "Locataire"),
            ("colocataire", "Colocataire"),
            ("sous_locataire", "Sous-locataire"),
            ("foyer", "Résident(e) d'un foyer ou d'une résidence"),
            ("accedant", "Propriétaire qui rembourse un prêt pour ce logement"),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Indiquez si vous êtes locataire, colocataire, etc.",
            "invalid_choice": "Choix non valide.",
        },
    )
    kind = forms.ChoiceField(
        label="Type de logement",
        choices=[("appartement", "Appartement"), ("maison", "Maison"), ("chambre", "Chambre")],
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez le type de logement.", "invalid_choice": "Choix non valide."},
    )
    furnished = forms.BooleanField(label="Le logement est loué meublé", required=False)
    entered_day, entered_month, entered_year = ENTRY_DATE.fields()


class RentForm(AddressFields):
    rent = euros_field(
        "Loyer mensuel, hors charges", max_value=20_000, required_message="Saisissez le loyer mensuel, hors charges."
    )
    charges = euros_field(
        "Charges mensuelles",
        required=False,
        help_text="En euros ; laissez vide si elles sont comprises",
        max_value=5_000,
    )
    landlord = forms.CharField(
        label="Nom du propriétaire ou de l'organisme bailleur",
        max_length=200,
        error_messages={"required": "Saisissez le nom du propriétaire ou de l'organisme."},
    )


def _drm_quarter_euros(months) -> str | None:
    """The last three months' salaries, unemployment benefits and pensions, in euros."""
    if not isinstance(months, list) or not months:
        return None
    total = 0
    for month in months:
        total += sum(int(month.get(k) or 0) for k in ("salaires_cents", "indemnites_chomage_cents", "pensions_cents"))
    return cents_to_euros(total)


class ResourcesForm(forms.Form):
    reference_income = euros_field(
        "Revenu fiscal de référence",
        help_text="Sur votre dernier avis d'impôt, en euros",
        max_value=10_000_000,
        required_message="Saisissez votre revenu fiscal de référence.",
    )
    tax_shares = forms.DecimalField(
        label="Nombre de parts fiscales",
        min_value=1,
        max_value=20,
        max_digits=4,
        decimal_places=2,
        help_text="Par exemple 1 ou 2,5",
        error_messages={
            "required": "Saisissez le nombre de parts fiscales.",
            "invalid": "Saisissez un nombre, par exemple 1 ou 2,5.",
            "min_value": "Au moins 1 part.",
            "max_value": "Vérifiez le nombre de parts.",
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    last_quarter_resources = euros_field(
        "Ressources des 3 derniers mois",
        help_text="Salaires, allocations chômage et pensions des 3 derniers mois, en euros",
        max_value=1_000_000,
        required_message="Saisissez le total de vos ressources des 3 derniers mois.",
    )

    def __init__(self, *args, **kwargs):
        data = kwargs.get("data")
        if data is not None and "tax_shares" in data and isinstance(data["tax_shares"], str):
            data = data.copy()
            data["tax_shares"] = data["tax_shares"].replace(",", ".").strip()
            kwargs["data"] = data
        super().__init__(*args, **kwargs)


HOUSING_AID = ProcedureType(
    code="aide-au-logement",
    label="Demande d'aide au logement",
    summary="Pour vous aider à payer votre loyer ou à rembourser le prêt de votre logement.",
    reference_prefix="AL",
    open_to_newcomers=True,
    steps=(
        Step("logement", "Votre logement", HousingForm),
        Step("loyer", "Adresse et loyer", RentForm),
        Step("identite", "Votre identité", IdentityConfirmForm, identity=True),
        Step(
            "ressources",
            "Vos ressources",
            ResourcesForm,
            prefill={
                "reference_income": Prefill("impots", "revenu_fiscal_de_reference", str),
                "tax_shares": Prefill("impots", "nombre_de_parts", str),
                "last_quarter_resources": Prefill("drm", "mois", _drm_quarter_euros),
            },
            intro=(
                "Quand les impôts et le dispositif de ressources mensuelles répondent, leurs informations "
                "sont déjà saisies : vérifiez-les, et corrigez-les si elles sont inexactes."
            ),
        ),
    ),
    next_steps=(
        "Votre Caf étudie votre demande et calcule vos droits. Si une pièce manque, elle vous la "
        "demandera dans Mon Compte, rubrique « Demandes de la Caf »."
    ),
)
