"""How a procedure type is declared, once, in code (moncompte/procedures/types/).

A type says its steps (each a Django form: the fields and their server-side validation), who
may start and continue it (an action of the one policy, on the household or for its author
only), which partner data pre-fills which field, and what its submission produces. The engine
(moncompte.procedures.services) does the rest the same way for every type and every channel:
drafts and their versions, partner data, the identity step, submission, reference, receipt.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django import forms

from moncompte.access.policy import Action

if TYPE_CHECKING:
    from moncompte.core.actors import Actor
    from moncompte.procedures.models import Procedure


@dataclass(frozen=True)
class Prefill:
    """A field pre-filled from a partner's answer: ``source`` (moncompte.partners.services.Source
    value) and ``key`` in its data; ``convert`` turns the partner's value into the field's
    (cents to euros, a code to a choice), None when the partner's data does not give it."""

    source: str
    key: str
    convert: Callable[[Any], Any] | None = None

    def value_from(self, data: dict) -> Any:
        value = data.get(self.key)
        if value is None:
            return None
        return self.convert(value) if self.convert else value


@dataclass(frozen=True)
class Step:
    slug: str  # in the step's URL: lowercase, hyphens
    title: str
    form: type[forms.Form] | None = None  # None: a step with nothing to type (the identity step)
    prefill: dict[str, Prefill] = field(default_factory=dict)
    # The step where the request needs to know who makes it: a visitor creates their account here
    # (issue 10, point 3); a signed-in person confirms their identity. Every later step needs an account.
    identity: bool = False
    intro: str = ""  # a sentence above the fields

    @property
    def sources(self) -> list[str]:
        return sorted({p.source for p in self.prefill.values()})


@dataclass(frozen=True)
class SubmitContext:
    """What a type's ``submit`` receives: it runs inside the submission's transaction."""

    actor: Actor
    procedure: Procedure
    values: dict[str, dict]  # step slug -> the step's clean values (JSON form: dates as ISO text)

    def value(self, step: str, name: str, default=None):
        return self.values.get(step, {}).get(name, default)


@dataclass(frozen=True)
class ProcedureType:
    code: str  # in URLs and the database: lowercase, hyphens, never renamed
    label: str  # "Demande d'aide au logement"
    summary: str  # one sentence on the list of procedures
    reference_prefix: str  # two or three capitals: "AL-2026-7K3M9Q2X"
    steps: tuple[Step, ...]
    # The policy's action: HOUSEHOLD_PROCEDURE for the file's procedures, INDIVIDUAL_REQUEST (or
    # DECLARE_SEPARATION) for its author's.
    action: Action = Action.HOUSEHOLD_PROCEDURE
    household: bool = True
    # The action under which an individual procedure's author still sees it once submitted (a
    # separation: the spouse who left still sees their own declaration).
    see_action: Action | None = None
    # May be started by a person of no current file, even before they have an account (the
    # housing aid of a new beneficiary: the account is created inside the request).
    open_to_newcomers: bool = False
    # What the submission produces besides the submitted request (a change of situation, a
    # separation); returns what to keep of it (ids), JSON. Runs in the submission's transaction.
    submit: Callable[[SubmitContext], dict] | None = None
    # What the receipt and the summary say happens next.
    next_steps: str = "Votre Caf étudie votre demande. Elle vous écrira si une pièce manque."
    # The heading the list of procedures shows the type under ("Changement de situation"); "" for
    # none. The types of one group are shown together, in the order of ALL_TYPES.
    group: str = ""

    def __post_init__(self):
        slugs = [s.slug for s in self.steps]
        if len(set(slugs)) != len(slugs):
            raise ValueError(f"{self.code}: two steps share a slug.")
        if sum(1 for s in self.steps if s.identity) > 1:
            raise ValueError(f"{self.code}: one identity step at most.")
        if self.open_to_newcomers and not any(s.identity for s in self.steps):
            raise ValueError(f"{self.code}: a type open to newcomers needs an identity step.")

    @property
    def visibility_action(self) -> Action:
        return self.see_action or self.action

    def step(self, slug: str) -> Step:
        for step in self.steps:
            if step.slug == slug:
                return step
        raise KeyError(slug)

    def index(self, slug: str) -> int:
        """The step's position, from 0."""
        return [s.slug for s in self.steps].index(slug)

    def next_slug(self, slug: str) -> str | None:
        position = self.index(slug)
        return self.steps[position + 1].slug if position + 1 < len(self.steps) else None

    def needs_account(self, slug: str) -> bool:
        """At or after the identity step (a type without one: from the first step)."""
        identity = next((i for i, s in enumerate(self.steps) if s.identity), None)
        return identity is None or self.index(slug) >= identity

    @property
    def sources(self) -> list[str]:
        return sorted({source for step in self.steps for source in step.sources})


# Clean values, as kept in a draft: JSON only ------------------------------------------------


def json_value(value):
    """A form's clean value as JSON: dates as ISO text, decimals as text, choices as their value."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_value(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def raw_of(form: forms.Form, data) -> dict:
    """What was typed for the form's fields (every key a field or its widget reads: a date in
    three parts gives three keys), to bind the same form again on resume and at submission."""
    prefixes = [form.add_prefix(name) for name in form.fields]
    raw = {}
    for key in data:
        if any(key == p or key.startswith(p + "_") for p in prefixes):
            values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
            raw[key] = values if len(values) != 1 else values[0]
    return raw


def raw_keys(form_class: type[forms.Form], name: str) -> list[str]:
    """The keys typed for the value ``name`` of a step's clean values: a date kept under its key
    was typed in three parts (``<prefix>_day``, ``_month``, ``_year``), any other field is its own."""
    for parts in getattr(form_class, "date_parts", ()):
        if name == parts.key:
            return list(parts.names)
    return [name]


def bind(form_class: type[forms.Form], raw: dict, **kwargs) -> forms.Form:
    """The step's form bound to stored raw values (lists kept as lists)."""
    return form_class(data=_Raw(raw), **kwargs)


class _Raw(dict):
    """A dict that answers getlist() like a QueryDict (multiple choices, checkboxes)."""

    def getlist(self, key, default=None):
        if key not in self:
            return default if default is not None else []
        value = self[key]
        return list(value) if isinstance(value, list) else [value]

    def copy(self):
        return _Raw(self)

    def get(self, key, default=None):
        value = super().get(key, default)
        if isinstance(value, list):
            return value[-1] if value else default
        return value
