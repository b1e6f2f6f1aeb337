"""The partners' data of a step, for any channel: what pre-fills its fields, what the page says
came from whom and when, and which partners did not answer (issue 10, point 4).

``step_prefill`` asks the partners the step's pre-fills name (moncompte.partners.services,
within the page's time budget; a partner problem never raises), keeps their answers in the
draft (services.partner_data_keep: another device shows the same, and a value the person types
otherwise is recorded as a correction) and journals which partners were shown, never a value.
A partner that does not answer now but answered earlier for this draft is shown with its earlier
answer and date.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.db import transaction

from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.partners.services import Source, partner_data
from moncompte.procedures.models import Procedure
from moncompte.procedures.services import partner_data_keep

logger = logging.getLogger(__name__)

MISSING_UNKNOWN = "{label} est momentanément indisponible."


@dataclass(frozen=True)
class Prefilled:
    initial: dict = field(default_factory=dict)  # field -> the partner's value, as the field's initial value
    shown: list[tuple[str, datetime.datetime | None]] = field(default_factory=list)  # (label, fetched_at)
    missing: list[str] = field(default_factory=list)  # a French sentence per partner that did not answer
    by_field: dict[str, tuple[str, datetime.datetime | None]] = field(default_factory=dict)  # field -> (label, at)


def _code(source) -> str:
    return str(getattr(source, "value", source))


def _moment(value) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        return value
    if not value:
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _ask(actor: Actor, sources: list[str]) -> tuple[dict[str, dict], dict[str, str]]:
    """The partners' answers now (source -> {data, fetched_at, label}) and the missing ones' sentences."""
    try:
        report = partner_data(person=actor.subject, sources=[Source(s) for s in sources])
    except Exception as error:  # noqa: BLE001 - a partner problem never blocks the step
        # The type only: an exception's text may carry what was sent.
        logger.warning("partner data failed (%s): the step opens without it", type(error).__name__)
        return {}, {s: MISSING_UNKNOWN.format(label=_label_of(s)) for s in sources}
    got = {
        _code(source): {
            "data": dict(result.data or {}),
            "fetched_at": result.fetched_at.isoformat() if result.fetched_at else None,
            "label": str(result.label),
        }
        for source, result in report.results.items()
    }
    missing = {_code(source): str(sentence) for source, sentence in report.missing.items()}
    return got, missing


def _label_of(source: str) -> str:
    try:
        return Source(source).label
    except ValueError:  # a source the partners no longer know: the sentence still reads
        return "Un partenaire"


def step_prefill(*, actor: Actor, procedure: Procedure, slug: str) -> Prefilled:
    """The partners' data for step ``slug`` of the draft, as the page shows it."""
    step = procedure.type.step(slug)
    if not step.prefill or not procedure.is_draft or actor.subject is None:
        return Prefilled()
    sources = step.sources
    got, missing = _ask(actor, sources)
    if got:
        partner_data_keep(procedure=procedure, results=got)
    kept = procedure.partner_data or {}
    answers: dict[str, dict] = {}
    sentences: list[str] = []
    for source in sources:
        if source in got:
            answers[source] = got[source]
        elif source in kept:  # answered earlier for this draft: shown with that answer's date
            answers[source] = kept[source]
        else:
            sentences.append(missing.get(source) or MISSING_UNKNOWN.format(label=_label_of(source)))
    initial, by_field = {}, {}
    for name, prefill in step.prefill.items():
        answer = answers.get(prefill.source)
        if answer is None:
            continue
        try:
            value = prefill.value_from(answer.get("data") or {})
        except (TypeError, ValueError, KeyError, AttributeError):  # a malformed answer pre-fills nothing
            value = None
        if value is None:
            continue
        initial[name] = value
        by_field[name] = (answer.get("label") or _label_of(prefill.source), _moment(answer.get("fetched_at")))
    shown = [(a.get("label") or _label_of(s), _moment(a.get("fetched_at"))) for s, a in answers.items()]
    with transaction.atomic():
        journal_record(
            action=JournalAction.PROCEDURE_PARTNER_DATA,
            actor=actor,
            dossier=procedure.dossier,
            detail={
                "procedure": procedure.pk,
                "type": procedure.type_code,
                "step": slug,
                "got": sorted(answers),
                "missing": sorted(set(sources) - set(answers)),
            },
        )
    return Prefilled(initial=initial, shown=shown, missing=sentences, by_field=by_field)
