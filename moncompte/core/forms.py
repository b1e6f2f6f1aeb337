"""A date typed as three inputs (day, month, year): the one date input of every form, the web
pages' and the procedures' (moncompte.procedures declares its steps' fields with it). Plain
Django form fields, no request: any channel may bind them."""

import datetime
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from django import forms

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
