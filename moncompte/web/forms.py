"""Fields and forms that several features' pages share; each feature's own are in its package."""

import datetime
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from django import forms

from moncompte.identity.identifiers import IdentifierError, parse_identifier
from moncompte.identity.normalise import birth_date_problem


class IdentifierField(forms.CharField):
    """A NIR or provisional identifier, parsed; the error says in French what is wrong."""

    def clean(self, value):
        value = super().clean(value)
        try:
            return parse_identifier(value)
        except IdentifierError as error:
            raise forms.ValidationError(error.message, code="invalid_identifier") from None


class SpacedDigitsMixin:
    """People type spaces in numbers ("123 45 67", "75 011"): the fields named in ``digit_fields``
    lose them before they are validated, and are shown again without them."""

    digit_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            data = self.data.copy()
            for name in self.digit_fields:
                data[name] = "".join(self.data.get(name, "").split())
            self.data = data


class AccountIdentifierField(IdentifierField):
    """The identifier of an account as the person types it to sign in or to reset the password."""

    def __init__(self, **kwargs):
        defaults = {
            "label": "Numéro de sécurité sociale ou identifiant provisoire",
            # The example belongs to nobody: its month, 45, is no possible month (identity.identifiers).
            "help_text": "13 chiffres, suivis ou non de la clé de 2 chiffres. Exemple : 1 23 45 67 890 123 45",
            "max_length": 40,
            "error_messages": {
                "required": "Saisissez votre numéro de sécurité sociale ou votre identifiant provisoire."
            },
            "widget": forms.TextInput(
                attrs={"autocomplete": "username", "spellcheck": "false", "autocapitalize": "none"}
            ),
        }
        super().__init__(**{**defaults, **kwargs})


class NirField(IdentifierField):
    """The NIR a person types to prove who they are, as on their carte Vitale."""

    def __init__(self, **kwargs):
        defaults = {
            "help_text": (
                "13 chiffres, suivis ou non de la clé de 2 chiffres, tel qu'il figure sur votre carte Vitale"
            ),
            "max_length": 40,
            "error_messages": {"required": "Saisissez votre numéro de sécurité sociale."},
            "widget": forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "none"}),
        }
        super().__init__(**{**defaults, **kwargs})


class PasswordField(forms.CharField):
    """A password as typed: kept as is (spaces count), and bounded so that no one makes the hasher
    work on megabytes."""

    def __init__(self, *, autocomplete: str | None = None, **kwargs):
        attrs = {"autocomplete": autocomplete} if autocomplete else {}
        super().__init__(max_length=1024, strip=False, widget=forms.PasswordInput(attrs=attrs), **kwargs)


class NewPasswordForm(forms.Form):
    password = PasswordField(label="Nouveau mot de passe", error_messages={"required": "Choisissez un mot de passe."})
    password_confirm = PasswordField(
        label="Confirmez le mot de passe",
        error_messages={"required": "Saisissez à nouveau le mot de passe."},
        autocomplete="new-password",
    )

    def __init__(self, *args, person=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person

    def password_problems(self, password: str):
        """What the policy says of this password for this person (subclasses know them otherwise)."""
        from moncompte.accounts.passwords import password_problems

        return password_problems(password, person=self.person)

    def clean_password(self):
        password = self.cleaned_data["password"]
        problems = self.password_problems(password)
        if problems:
            raise forms.ValidationError([p.message for p in problems])
        return password

    def clean(self):
        data = super().clean()
        if data.get("password") and self.data.get("password_confirm") != self.data.get("password"):
            self.add_error("password_confirm", "Les deux mots de passe ne sont pas identiques.")
        return data


class ContactChoiceForm(forms.Form):
    """Which contact to validate: an email address or a mobile number."""

    missing_email = "Saisissez votre adresse électronique."
    missing_phone = "Saisissez votre numéro de téléphone mobile."

    channel = forms.ChoiceField(
        label="Comment souhaitez-vous recevoir votre code ?",
        choices=[("email", "Par courriel"), ("phone", "Par SMS sur mon téléphone mobile")],
        initial="email",
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez comment recevoir votre code."},
    )
    email = forms.CharField(
        label="Adresse électronique",
        help_text="Format attendu : nom@domaine.fr",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label="Numéro de téléphone mobile",
        help_text="Exemples : 06 12 34 56 78, 0690 12 34 56 ou +262 692 12 34 56",
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    def clean(self):
        from moncompte.verification.contacts import normalize_email, parse_mobile

        data = super().clean()
        channel = data.get("channel")
        if channel == "email":
            if not data.get("email"):
                self.add_error("email", self.missing_email)
            else:
                try:
                    data["destination"] = normalize_email(data["email"])
                except ValueError as error:
                    self.add_error("email", str(error))
        elif channel == "phone":
            if not data.get("phone"):
                self.add_error("phone", self.missing_phone)
            else:
                try:
                    data["destination"] = parse_mobile(data["phone"])
                except ValueError as error:
                    self.add_error("phone", str(error))
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code reçu",
        help_text="6 chiffres",
        max_length=20,
        error_messages={"required": "Saisissez le code reçu."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


_ASCII_DIGITS = re.compile(r"[0-9]+")
_PARTS = ("day", "month", "year")


@dataclass(frozen=True)
class DateParts:
    """A date typed as three inputs, day, month and year (the DSFR date pattern), never as
    ``type="date"``: the browser's date field follows its locale (mm/dd/yyyy seen, issue 9).

    The fields are ``<prefix>_day``, ``<prefix>_month`` and ``<prefix>_year``, declared in the form by
    ``birth_day, birth_month, birth_year = BIRTH_DATE.fields()``; ``DatePartsMixin`` reads them and
    puts the date in ``cleaned_data[key]``. The template is web/_date_parts.html."""

    key: str
    prefix: str
    legend: str  # "Date de naissance"
    the_date: str  # in a sentence: "la date de naissance"
    the_year: str  # at the start of a sentence: "L'année de naissance"
    example: str  # day, month and year: "14 12 1984"
    html_id: str  # of the fieldset's legend, hint and error: "date-naissance"
    birth: bool = False  # the browser may fill in the person's own birth date (autocomplete bday-*)
    problem: Callable[[datetime.date], str | None] | None = None  # why an existing date cannot be right
    hint: str = ""
    required: str = ""  # when nothing is typed; by default "Saisissez <the_date> : jour, mois et année."

    @property
    def names(self) -> tuple[str, str, str]:
        return tuple(f"{self.prefix}_{part}" for part in _PARTS)

    @property
    def hint_text(self) -> str:
        return self.hint or f"Jour, mois et année, par exemple {self.example}"

    @property
    def too_long(self) -> str:
        return f"Vérifiez {self.the_date} : le jour et le mois en 2 chiffres, l'année en 4 chiffres."

    def fields(self) -> tuple[forms.CharField, forms.CharField, forms.CharField]:
        examples = self.example.split()
        made = []
        for part, label, example in zip(_PARTS, ("Jour", "Mois", "Année"), examples, strict=True):
            attrs = {"inputmode": "numeric"}
            if self.birth:
                attrs["autocomplete"] = f"bday-{part}"
            field = forms.CharField(
                label=label,
                help_text=f"Exemple : {example}",
                required=False,
                # Bounded before any int() is taken: a 10-digit day overflowed datetime.date (a 500).
                max_length=10,
                error_messages={"max_length": self.too_long},
                widget=forms.TextInput(attrs=attrs),
            )
            field.summary_label = self.legend  # the error summary names the date, not "Jour"
            made.append(field)
        return tuple(made)

    def read(self, form: forms.Form) -> datetime.date | None:
        """The date from the form's three cleaned parts, or None with a French error on a part."""
        day_name, _, year_name = self.names
        if any(name in form.errors for name in self.names):  # too long: said already
            return None
        # NFKC: full-width and other compatibility digits become ASCII ones; anything else that
        # is not an ASCII digit ("-3", "1er", "٣") is refused before any int() is taken.
        day, month, year = (
            unicodedata.normalize("NFKC", form.cleaned_data.get(name) or "").strip() for name in self.names
        )
        if not (day or month or year):
            form.add_error(day_name, self.required or f"Saisissez {self.the_date} : jour, mois et année.")
            return None
        missing = [label for label, value in (("le jour", day), ("le mois", month), ("l'année", year)) if not value]
        if missing:
            form.add_error(
                self.names[[day, month, year].index("")],
                f"{self.legend} incomplète : saisissez {' et '.join(missing)}.",
            )
            return None
        if not all(_ASCII_DIGITS.fullmatch(value) for value in (day, month, year)):
            form.add_error(
                day_name,
                f"{self.the_date[0].upper()}{self.the_date[1:]} ne s'écrit qu'avec des chiffres, "
                f"par exemple {self.example}.",
            )
            return None
        if len(day) > 2 or len(month) > 2:
            form.add_error(day_name, self.too_long)
            return None
        if len(year) != 4:
            form.add_error(
                year_name, f"{self.the_year} s'écrit avec 4 chiffres, par exemple {self.example.split()[-1]}."
            )
            return None
        try:
            value = datetime.date(int(year), int(month), int(day))
        except ValueError:
            form.add_error(day_name, "Cette date n'existe pas : vérifiez le jour et le mois.")
            return None
        problem = self.problem(value) if self.problem else None
        if problem:
            form.add_error(year_name, problem)
            return None
        return value


@dataclass(frozen=True)
class BoundDateParts:
    """What web/_date_parts.html shows of one date of a form."""

    parts: DateParts  # its legend, hint_text and html_id
    fields: list  # its three bound fields, day, month and year
    errors: list[str]


BIRTH_DATE = DateParts(
    key="birth_date",
    prefix="birth",
    legend="Date de naissance",
    the_date="la date de naissance",
    the_year="L'année de naissance",
    example="14 12 1984",
    html_id="date-naissance",
    birth=True,
    problem=birth_date_problem,
    required="Saisissez votre date de naissance : jour, mois et année.",
)


class DatePartsMixin:
    """Reads the dates typed in three parts (``date_parts``, DateParts) into ``cleaned_data``;
    their spaces go before they are validated ("1 4"), as in SpacedDigitsMixin."""

    date_parts: tuple[DateParts, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            data = self.data.copy()
            for parts in self.date_parts:
                for name in parts.names:
                    value = self.data.get(name)
                    if isinstance(value, str):
                        data[name] = "".join(value.split())
            self.data = data

    def clean(self):
        cleaned = super().clean()
        for parts in self.date_parts:
            value = parts.read(self)
            if value is not None:
                cleaned[parts.key] = value
        return cleaned

    @property
    def date_groups(self) -> dict[str, BoundDateParts]:
        """Each date by its key, for the template: ``form.date_groups.birth_date``."""
        groups = {}
        for parts in self.date_parts:
            errors = [error for name in parts.names for error in self.errors.get(name, [])]
            groups[parts.key] = BoundDateParts(parts, [self[name] for name in parts.names], errors)
        return groups
