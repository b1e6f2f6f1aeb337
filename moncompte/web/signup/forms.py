"""Forms of the account creation of new beneficiaries (/creer-mon-compte/, docs/signup.md).

Every message is a French sentence for the person; every value typed is given back on error,
passwords excepted.
"""

from __future__ import annotations

from django import forms

from moncompte.accounts.passwords import password_problems
from moncompte.accounts.signup import SignupIdentity, signup_identity_problems
from moncompte.identity.documents import max_size_text
from moncompte.identity.geography import country_choices
from moncompte.identity.identifiers import Identifier, IdentifierError, parse_identifier
from moncompte.identity.matching import FRANCE
from moncompte.identity.models import DocumentKind, Sex
from moncompte.identity.normalise import birth_place_code, display_name
from moncompte.web.forms import BIRTH_DATE, DatePartsMixin, NewPasswordForm, SpacedDigitsMixin

HAS_NIR = "oui"
NO_NIR = "non"


class IdentityForm(DatePartsMixin, SpacedDigitsMixin, forms.Form):
    """Step 1: who the person is, where they were born, where they live."""

    digit_fields = ("postal_code",)
    date_parts = (BIRTH_DATE,)

    has_nir = forms.ChoiceField(
        label="Avez-vous un numéro de sécurité sociale ?",
        choices=[
            (HAS_NIR, "J'ai un numéro de sécurité sociale"),
            (NO_NIR, "Je n'ai pas de numéro de sécurité sociale"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez si vous avez un numéro de sécurité sociale."},
    )
    identifier = forms.CharField(
        label="Numéro de sécurité sociale",
        help_text="13 chiffres, suivis ou non de la clé de 2 chiffres, tel qu'il figure sur votre carte Vitale",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
    )
    first_names = forms.CharField(
        label="Prénoms",
        help_text="Tous vos prénoms, dans l'ordre de votre acte de naissance, séparés par un espace",
        max_length=200,
        error_messages={"required": "Saisissez vos prénoms."},
        widget=forms.TextInput(attrs={"autocomplete": "given-name", "spellcheck": "false"}),
    )
    birth_name = forms.CharField(
        label="Nom de naissance",
        help_text="Le nom inscrit sur votre acte de naissance",
        max_length=200,
        error_messages={"required": "Saisissez votre nom de naissance."},
        widget=forms.TextInput(attrs={"autocomplete": "family-name", "spellcheck": "false"}),
    )
    usage_name = forms.CharField(
        label="Nom d'usage (facultatif)",
        help_text="Par exemple le nom de votre époux ou épouse, si vous l'utilisez",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    birth_day, birth_month, birth_year = BIRTH_DATE.fields()
    sex = forms.ChoiceField(
        label="Sexe",
        help_text="Tel qu'il figure sur votre acte de naissance",
        choices=Sex.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez votre sexe."},
    )
    birth_country = forms.ChoiceField(
        label="Pays de naissance",
        # Every country of the COG (moncompte.identity.geography), read on first use.
        choices=country_choices,
        initial=FRANCE,
        error_messages={
            "required": "Choisissez votre pays de naissance.",
            "invalid_choice": "Choisissez votre pays de naissance dans la liste.",
        },
    )
    birth_place = forms.CharField(
        label="Commune de naissance",
        help_text="Son nom et son département, par exemple « Lyon (69) », ou son code INSEE (5 caractères)",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    address_line1 = forms.CharField(
        label="Adresse",
        help_text="Numéro et nom de la voie, par exemple « 12 rue des Lilas »",
        max_length=200,
        error_messages={"required": "Saisissez votre adresse."},
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    address_line2 = forms.CharField(
        label="Complément d'adresse (facultatif)",
        help_text="Bâtiment, étage, chez…",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    postal_code = forms.RegexField(
        label="Code postal",
        help_text="5 chiffres",
        regex=r"^\d{5}$",
        max_length=10,
        error_messages={
            "required": "Saisissez votre code postal.",
            "invalid": "Le code postal compte 5 chiffres, par exemple 75011.",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    city = forms.CharField(
        label="Commune",
        max_length=200,
        error_messages={"required": "Saisissez votre commune."},
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )

    def _clean_identifier(self) -> Identifier | None:
        if self.cleaned_data.get("has_nir") != HAS_NIR:
            return None
        raw = self.cleaned_data.get("identifier", "")
        if not raw:
            self.add_error(
                "identifier",
                "Saisissez votre numéro de sécurité sociale, ou choisissez « Je n'ai pas de numéro de sécurité "
                "sociale ».",
            )
            return None
        try:
            return parse_identifier(raw)
        except IdentifierError as error:
            self.add_error("identifier", error.message)
            return None

    def clean(self):
        data = super().clean()  # the birth date too (DatePartsMixin)
        birth_date = data.get("birth_date")
        identifier = self._clean_identifier()
        country = data.get("birth_country") or FRANCE
        place = display_name(data.get("birth_place", ""))
        if country == FRANCE and not place:
            self.add_error("birth_place", "Saisissez votre commune de naissance.")
        if self.errors or birth_date is None:
            return data
        place_code = birth_place_code(place) if country == FRANCE else ""
        identity = SignupIdentity(
            first_names=display_name(data["first_names"]),
            birth_name=display_name(data["birth_name"]),
            usage_name=display_name(data.get("usage_name", "")),
            birth_date=birth_date,
            sex=data["sex"],
            birth_place_code=place_code,
            birth_place_label=place,
            birth_country_code=country,
            address_line1=" ".join(data["address_line1"].split()),
            address_line2=" ".join(data.get("address_line2", "").split()),
            postal_code=data["postal_code"],
            city=" ".join(data["city"].split()),
        )
        field_of = {
            "identifier": "identifier",
            "sex": "sex",
            "birth_date": "birth_year",
            "birth_place": "birth_place",
            "birth_country": "birth_country",
        }
        for field, message in signup_identity_problems(identity, identifier):
            self.add_error(field_of.get(field, None), message)
        if not self.errors:
            data["identity"] = identity
            data["parsed_identifier"] = identifier
        return data

    @classmethod
    def initial_from(cls, identity: SignupIdentity, identifier: Identifier | None) -> dict:
        """Initial values to show a declaration again (the "modify" link)."""
        return {
            "has_nir": HAS_NIR if identifier is not None else NO_NIR,
            "identifier": identifier.display() if identifier is not None else "",
            "first_names": identity.first_names,
            "birth_name": identity.birth_name,
            "usage_name": identity.usage_name,
            "birth_day": f"{identity.birth_date.day:02d}",
            "birth_month": f"{identity.birth_date.month:02d}",
            "birth_year": f"{identity.birth_date.year:04d}",
            "sex": identity.sex,
            "birth_country": identity.birth_country_code,
            "birth_place": identity.birth_place_label,
            "address_line1": identity.address_line1,
            "address_line2": identity.address_line2,
            "postal_code": identity.postal_code,
            "city": identity.city,
        }


class SignupPasswordForm(NewPasswordForm):
    """Step 3: the password, checked against the declared identity (names, birth date, NIR)."""

    def __init__(self, *args, identity: SignupIdentity, identifier: Identifier | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].label = "Mot de passe"
        self.identity = identity
        self.identifier = identifier

    def password_problems(self, password: str):
        return password_problems(
            password,
            identifier=self.identifier,
            first_names=self.identity.first_names,
            birth_name=self.identity.birth_name,
            usage_name=self.identity.usage_name,
            birth_date=self.identity.birth_date,
        )


class DocumentForm(forms.Form):
    """The identity document: its kind and its file (checked by moncompte.identity.documents)."""

    kind = forms.ChoiceField(
        label="Type de document",
        choices=DocumentKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choisissez le type de document.",
            "invalid_choice": "Choisissez le type de document.",
        },
    )
    document = forms.FileField(
        label="Votre justificatif",
        required=False,
        allow_empty_file=True,
        max_length=255,
        error_messages={"max_length": "Le nom du fichier est trop long : renommez-le avant de l'envoyer."},
    )

    @property
    def document_help(self) -> str:
        return f"Formats acceptés : PDF, JPEG ou PNG. Taille maximale : {max_size_text()}."
