"""Fields the procedure types share: amounts in euros, the identity confirmation, an address."""

import datetime
import decimal

from django import forms
from django.utils import timezone

from moncompte.core.forms import DateParts


def euros_field(
    label: str, *, required: bool = True, help_text: str = "", max_value: int = 1_000_000, required_message: str = ""
):
    """An amount in euros, with or without cents ("650", "650,50"; spaces allowed)."""
    return EurosField(
        label=label,
        required=required,
        help_text=help_text or "En euros, par exemple 650 ou 650,50",
        min_value=0,
        max_value=max_value,
        max_digits=9,
        decimal_places=2,
        error_messages={
            "required": required_message or f"Saisissez le montant : {label[0].lower()}{label[1:]}.",
            "invalid": "Saisissez un montant en euros, par exemple 650 ou 650,50.",
            "min_value": "Le montant ne peut pas être négatif.",
            "max_value": "Vérifiez le montant : il paraît trop élevé.",
            "max_digits": "Vérifiez le montant : il paraît trop élevé.",
            "max_decimal_places": "2 chiffres après la virgule au plus.",
            "max_whole_digits": "Vérifiez le montant : il paraît trop élevé.",
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )


class EurosField(forms.DecimalField):
    def to_python(self, value):
        if isinstance(value, str):
            value = "".join(value.split()).replace("\u202f", "").replace(",", ".").removesuffix("€")
        return super().to_python(value)

    def clean(self, value):
        value = super().clean(value)  # more than 2 decimals refused here, never rounded
        # One spelling of an amount ("650" and "650,00" are the same answer): two decimals.
        return value.quantize(decimal.Decimal("0.01")) if value is not None else value


def cents_to_euros(cents) -> str | None:
    """A partner's amount in cents as the text of a euros field."""
    if cents is None:
        return None
    return str((decimal.Decimal(int(cents)) / 100).quantize(decimal.Decimal("0.01")))


def not_in_future(what: str):
    def problem(value: datetime.date) -> str | None:
        if value > timezone.localdate():
            return f"{what} ne peut pas être dans le futur."
        if value < datetime.date(1900, 1, 1):
            return "Vérifiez l'année."
        return None

    return problem


def past_date(key: str, prefix: str, legend: str, the_date: str, the_year: str, html_id: str, example="01 09 2026"):
    return DateParts(
        key=key,
        prefix=prefix,
        legend=legend,
        the_date=the_date,
        the_year=the_year,
        example=example,
        html_id=html_id,
        problem=not_in_future(the_date[0].upper() + the_date[1:]),
    )


class IdentityConfirmForm(forms.Form):
    """The identity step of a signed-in person: their identity is the account's, confirmed."""

    confirm = forms.BooleanField(
        label="Je confirme que cette demande est faite en mon nom, avec l'identité ci-dessus.",
        error_messages={"required": "Cochez la case pour confirmer votre identité."},
    )


class AddressFields(forms.Form):
    """An address in France (numéro et voie, complément, code postal, commune)."""

    address_line1 = forms.CharField(
        label="Adresse (numéro et voie)",
        max_length=200,
        error_messages={"required": "Saisissez l'adresse (numéro et voie)."},
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label="Complément d'adresse (facultatif)",
        max_length=200,
        required=False,
        help_text="Bâtiment, étage, appartement",
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    postal_code = forms.RegexField(
        label="Code postal",
        regex=r"^\d{5}$",
        max_length=5,
        error_messages={"required": "Saisissez le code postal.", "invalid": "Le code postal comporte 5 chiffres."},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    city = forms.CharField(
        label="Commune",
        max_length=200,
        error_messages={"required": "Saisissez la commune."},
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
