"""A procedure's values as people read them (the summary page, the conflict page, the receipt):
each step's fields with their labels and their values in French."""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass

from django import forms

from moncompte.procedures.fields import EurosField
from moncompte.procedures.models import Procedure


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    value: str


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    rows: list[Row]


_THIN_SPACE = "\u202f"  # between thousands, as French writes 1 234,50 €
_MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()


def date_text(value: datetime.date) -> str:
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {_MONTHS[value.month - 1]} {value.year}"


def display_value(field: forms.Field | None, value) -> str:
    """``value`` (a clean value as kept in a draft: JSON) as the person reads it."""
    if value is None or value == "":
        return "Non renseigné"
    if isinstance(field, forms.BooleanField) or isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(field, forms.ChoiceField):
        labels = {str(k): str(v) for k, v in field.choices}
        if isinstance(value, list):
            return ", ".join(labels.get(str(v), str(v)) for v in value)
        return labels.get(str(value), str(value))
    if isinstance(field, EurosField):
        amount = decimal.Decimal(str(value))
        whole, _, cents = f"{amount:,.2f}".partition(".")
        return whole.replace(",", _THIN_SPACE) + "," + cents + " €"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date_text(datetime.date.fromisoformat(value))
        except ValueError:
            pass
    return str(value)


def _fields_of(form_class) -> dict[str, forms.Field]:
    form = form_class()
    fields = dict(form.fields)
    # A date typed in three parts is kept under its key: labelled by its legend.
    for parts in getattr(form_class, "date_parts", ()):
        fields[parts.key] = forms.DateField(label=parts.legend)
        for name in parts.names:
            fields.pop(name, None)
    return fields


def field_label(form_class, name: str) -> str:
    field = _fields_of(form_class).get(name) if form_class else None
    return str(field.label) if field is not None and field.label else name


def field_display(form_class, name: str, value) -> str:
    field = _fields_of(form_class).get(name) if form_class else None
    return display_value(field, value)


def procedure_summary(procedure: Procedure) -> list[Section]:
    """Every step with a form, its fields in the form's order, with what was saved."""
    sections = []
    values = procedure.clean_values()
    for step in procedure.type.steps:
        if step.form is None:
            continue
        saved = values.get(step.slug, {})
        rows = [
            Row(name, str(field.label or name), display_value(field, saved.get(name)))
            for name, field in _fields_of(step.form).items()
            if not (step.identity and isinstance(field, forms.BooleanField))
        ]
        sections.append(Section(step.slug, step.title, rows))
    return sections
