"""Forms of the account creation of new beneficiaries (/creer-mon-compte/, docs/signup.md).

Every message is a French sentence for the person; every value typed is given back on error,
passwords excepted.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django import forms

from moncompte.accounts.passwords import password_problems
from moncompte.accounts.signup import SignupIdentity, signup_identity_problems
from moncompte.identity.documents import max_size_text
from moncompte.identity.identifiers import Identifier, IdentifierError, parse_identifier
from moncompte.identity.matching import FRANCE
from moncompte.identity.models import DocumentKind, Sex
from moncompte.identity.normalise import birth_date_problem, birth_place_code, display_name
from moncompte.web.forms import NewPasswordForm, SpacedDigitsMixin

# Countries of birth and their INSEE codes (Code officiel géographique, current states and a few
# territories people are often born in). France first, then in alphabetical order.
_COUNTRIES = {
    "99101": "Danemark", "99102": "Islande", "99103": "Norvège", "99104": "Suède", "99105": "Finlande",
    "99106": "Estonie", "99107": "Lettonie", "99108": "Lituanie", "99109": "Allemagne", "99110": "Autriche",
    "99111": "Bulgarie", "99112": "Hongrie", "99113": "Liechtenstein", "99114": "Roumanie", "99116": "Tchéquie",
    "99117": "Slovaquie", "99118": "Bosnie-Herzégovine", "99119": "Croatie", "99120": "Monténégro",
    "99121": "Serbie", "99122": "Pologne", "99123": "Russie", "99125": "Albanie", "99126": "Grèce",
    "99127": "Italie", "99128": "Saint-Marin", "99129": "Vatican", "99130": "Andorre", "99131": "Belgique",
    "99132": "Royaume-Uni", "99134": "Espagne", "99135": "Pays-Bas", "99136": "Irlande", "99137": "Luxembourg",
    "99138": "Monaco", "99139": "Portugal", "99140": "Suisse", "99144": "Malte", "99145": "Slovénie",
    "99148": "Biélorussie", "99151": "Moldavie", "99155": "Ukraine", "99156": "Macédoine du Nord",
    "99157": "Kosovo",
    "99201": "Arabie saoudite", "99203": "Irak", "99204": "Iran", "99205": "Liban", "99206": "Syrie",
    "99207": "Israël", "99208": "Turquie", "99212": "Afghanistan", "99213": "Pakistan", "99214": "Bhoutan",
    "99215": "Népal", "99216": "Chine", "99217": "Japon", "99219": "Thaïlande", "99220": "Philippines",
    "99222": "Jordanie", "99223": "Inde", "99224": "Birmanie", "99225": "Brunei", "99226": "Singapour",
    "99227": "Malaisie", "99229": "Maldives", "99230": "Hong Kong", "99231": "Indonésie", "99232": "Macao",
    "99234": "Cambodge", "99235": "Sri Lanka", "99236": "Taïwan", "99238": "Corée du Nord",
    "99239": "Corée du Sud", "99240": "Koweït", "99241": "Laos", "99242": "Mongolie", "99243": "Vietnam",
    "99246": "Bangladesh", "99247": "Émirats arabes unis", "99248": "Qatar", "99249": "Bahreïn", "99250": "Oman",
    "99251": "Yémen", "99252": "Arménie", "99253": "Azerbaïdjan", "99254": "Chypre", "99255": "Géorgie",
    "99256": "Kazakhstan", "99257": "Kirghizstan", "99258": "Ouzbékistan", "99259": "Tadjikistan",
    "99260": "Turkménistan", "99261": "Palestine", "99262": "Timor oriental",
    "99301": "Égypte", "99302": "Libéria", "99303": "Afrique du Sud", "99304": "Gambie", "99309": "Tanzanie",
    "99310": "Zimbabwe", "99311": "Namibie", "99312": "République démocratique du Congo",
    "99314": "Guinée équatoriale", "99315": "Éthiopie", "99316": "Libye", "99317": "Érythrée",
    "99318": "Somalie", "99321": "Burundi", "99322": "Cameroun", "99323": "Centrafrique", "99324": "Congo",
    "99326": "Côte d'Ivoire", "99327": "Bénin", "99328": "Gabon", "99329": "Ghana", "99330": "Guinée",
    "99331": "Burkina Faso", "99332": "Kenya", "99333": "Madagascar", "99334": "Malawi", "99335": "Mali",
    "99336": "Mauritanie", "99337": "Niger", "99338": "Nigéria", "99339": "Ouganda", "99340": "Rwanda",
    "99341": "Sénégal", "99342": "Sierra Leone", "99343": "Soudan", "99344": "Tchad", "99345": "Togo",
    "99346": "Zambie", "99347": "Botswana", "99348": "Lesotho", "99349": "Soudan du Sud", "99350": "Maroc",
    "99351": "Tunisie", "99352": "Algérie", "99389": "Sahara occidental", "99390": "Maurice",
    "99391": "Eswatini", "99392": "Guinée-Bissau", "99393": "Mozambique", "99394": "Sao Tomé-et-Principe",
    "99395": "Angola", "99396": "Cap-Vert", "99397": "Comores", "99398": "Seychelles", "99399": "Djibouti",
    "99401": "Canada", "99404": "États-Unis", "99405": "Mexique", "99406": "Costa Rica", "99407": "Cuba",
    "99408": "République dominicaine", "99409": "Guatemala", "99410": "Haïti", "99411": "Honduras",
    "99412": "Nicaragua", "99413": "Panama", "99414": "Salvador", "99415": "Argentine", "99416": "Brésil",
    "99417": "Chili", "99418": "Bolivie", "99419": "Colombie", "99420": "Équateur", "99421": "Paraguay",
    "99422": "Pérou", "99423": "Uruguay", "99424": "Venezuela", "99426": "Jamaïque", "99428": "Guyana",
    "99429": "Belize", "99433": "Trinité-et-Tobago", "99434": "Barbade", "99435": "Grenade",
    "99436": "Bahamas", "99437": "Suriname", "99438": "Dominique", "99439": "Sainte-Lucie",
    "99440": "Saint-Vincent-et-les-Grenadines", "99441": "Antigua-et-Barbuda",
    "99442": "Saint-Christophe-et-Niévès",
    "99501": "Australie", "99502": "Nouvelle-Zélande", "99506": "Samoa", "99507": "Nauru", "99508": "Fidji",
    "99509": "Tonga", "99510": "Papouasie-Nouvelle-Guinée", "99511": "Tuvalu", "99512": "Îles Salomon",
    "99513": "Kiribati", "99514": "Vanuatu", "99515": "Îles Marshall", "99516": "Micronésie", "99517": "Palaos",
}  # fmt: skip


def _sort_key(item: tuple[str, str]) -> str:
    decomposed = unicodedata.normalize("NFKD", item[1].casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


COUNTRY_CHOICES = [(FRANCE, "France"), *sorted(_COUNTRIES.items(), key=_sort_key)]
COUNTRY_NAMES = dict(COUNTRY_CHOICES)

_ASCII_DIGITS = re.compile(r"[0-9]+")
_DATE_TOO_LONG = "Vérifiez la date de naissance : le jour et le mois en 2 chiffres, l'année en 4 chiffres."

HAS_NIR = "oui"
NO_NIR = "non"


class IdentityForm(SpacedDigitsMixin, forms.Form):
    """Step 1: who the person is, where they were born, where they live."""

    digit_fields = ("postal_code", "birth_day", "birth_month", "birth_year")

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
    birth_day = forms.CharField(
        label="Jour",
        help_text="Exemple : 14",
        required=False,
        max_length=10,
        error_messages={"max_length": _DATE_TOO_LONG},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "bday-day"}),
    )
    birth_month = forms.CharField(
        label="Mois",
        help_text="Exemple : 12",
        required=False,
        max_length=10,
        error_messages={"max_length": _DATE_TOO_LONG},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "bday-month"}),
    )
    birth_year = forms.CharField(
        label="Année",
        help_text="Exemple : 1984",
        required=False,
        max_length=10,
        error_messages={"max_length": _DATE_TOO_LONG},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "bday-year"}),
    )
    sex = forms.ChoiceField(
        label="Sexe",
        help_text="Tel qu'il figure sur votre acte de naissance",
        choices=Sex.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez votre sexe."},
    )
    birth_country = forms.ChoiceField(
        label="Pays de naissance",
        choices=COUNTRY_CHOICES,
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

    BIRTH_DATE_FIELDS = ("birth_day", "birth_month", "birth_year")

    def _clean_birth_date(self) -> datetime.date | None:
        # NFKC: full-width and other compatibility digits become ASCII ones; anything else that
        # is not an ASCII digit ("-3", "1er", "٣") is refused before any int() is taken, and the
        # lengths are bounded before it too (a 10-digit day overflowed datetime.date: a 500).
        if any(name in self.errors for name in self.BIRTH_DATE_FIELDS):  # too long: said already
            return None
        day, month, year = (
            unicodedata.normalize("NFKC", self.cleaned_data.get(name, "")) for name in self.BIRTH_DATE_FIELDS
        )
        if not (day or month or year):
            self.add_error("birth_day", "Saisissez votre date de naissance : jour, mois et année.")
            return None
        missing = [label for label, value in (("le jour", day), ("le mois", month), ("l'année", year)) if not value]
        if missing:
            field = self.BIRTH_DATE_FIELDS[[day, month, year].index("")]
            self.add_error(field, f"Date de naissance incomplète : saisissez {' et '.join(missing)}.")
            return None
        if not all(_ASCII_DIGITS.fullmatch(value) for value in (day, month, year)):
            self.add_error("birth_day", "La date de naissance ne s'écrit qu'avec des chiffres, par exemple 14 12 1984.")
            return None
        if len(day) > 2 or len(month) > 2:
            self.add_error("birth_day", _DATE_TOO_LONG)
            return None
        if len(year) != 4:
            self.add_error("birth_year", "L'année de naissance s'écrit avec 4 chiffres, par exemple 1984.")
            return None
        try:
            birth_date = datetime.date(int(year), int(month), int(day))
        except ValueError:
            self.add_error("birth_day", "Cette date n'existe pas : vérifiez le jour et le mois.")
            return None
        problem = birth_date_problem(birth_date)
        if problem:
            self.add_error("birth_year", problem)
            return None
        return birth_date

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
        data = super().clean()
        birth_date = self._clean_birth_date()
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

    @property
    def birth_date_errors(self) -> list[str]:
        return [error for name in self.BIRTH_DATE_FIELDS for error in self.errors.get(name, [])]

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
