"""The partners whose data pre-fill the procedures, and the shape of each one's answer.

Each answer is checked strictly before anyone reads it (types, ranges, dates): an answer that
does not match is a failure of the partner ("malformed"), never an exception further on, and
never a half-read value in a form.
"""

from __future__ import annotations

import datetime
import decimal
import re
from enum import StrEnum


class Source(StrEnum):
    IMPOTS = "impots"
    FRANCE_TRAVAIL = "france_travail"
    DRM = "drm"
    QUOTIENT_FAMILIAL = "quotient_familial"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def path(self) -> str:
        """The lookup's path on the partner's base URL (a POST of {"nir": ...}: never in a URL)."""
        return _PATHS[self]


# The names the pages show ("Pré-rempli : <label>, le ..."; "<label> n'a pas répondu à temps.").
_LABELS = {
    Source.IMPOTS: "Direction générale des Finances publiques (impôts)",
    Source.FRANCE_TRAVAIL: "France Travail",
    Source.DRM: "Dispositif de ressources mensuelles (DRM)",
    Source.QUOTIENT_FAMILIAL: "Caf — quotient familial",
}
_PATHS = {
    Source.IMPOTS: "/impots/v1/revenus",
    Source.FRANCE_TRAVAIL: "/france-travail/v1/statut",
    Source.DRM: "/drm/v1/ressources",
    Source.QUOTIENT_FAMILIAL: "/qf/v1/quotient",
}


class Malformed(ValueError):
    """The partner's answer does not have the agreed shape (the message names the field, no value)."""


_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_SITUATIONS = {"celibataire", "marie", "pacse", "divorce", "veuf", "separe"}
_CATEGORIES = {"A", "B", "C", "D", "E"}


def _int(data: dict, key: str, low: int, high: int) -> int:
    value = data.get(key)
    if type(value) is not int or not low <= value <= high:
        raise Malformed(key)
    return value


def _bool(data: dict, key: str) -> bool:
    value = data.get(key)
    if type(value) is not bool:
        raise Malformed(key)
    return value


def _month(value, key: str) -> str:
    if not isinstance(value, str) or not _MONTH.match(value):
        raise Malformed(key)
    return value


def _impots(data: dict) -> dict:
    shares = data.get("nombre_de_parts")
    try:
        parts = decimal.Decimal(shares) if isinstance(shares, str) else None
    except decimal.InvalidOperation:
        parts = None
    if (
        parts is None
        or not parts.is_finite()
        or not decimal.Decimal(1) <= parts <= 20
        or parts % decimal.Decimal("0.25")
    ):
        raise Malformed("nombre_de_parts")
    situation = data.get("situation_familiale")
    if situation not in _SITUATIONS:
        raise Malformed("situation_familiale")
    this_year = datetime.date.today().year
    return {
        "revenu_fiscal_de_reference": _int(data, "revenu_fiscal_de_reference", 0, 100_000_000),
        "nombre_de_parts": str(parts),
        "situation_familiale": situation,
        "annee_des_revenus": _int(data, "annee_des_revenus", this_year - 3, this_year),
    }


def _france_travail(data: dict) -> dict:
    registered = _bool(data, "inscrit")
    compensated = _bool(data, "indemnise")
    category = data.get("categorie")
    since = data.get("date_inscription")
    if registered:
        if category not in _CATEGORIES:
            raise Malformed("categorie")
        try:
            since_date = datetime.date.fromisoformat(since) if isinstance(since, str) else None
        except ValueError:
            since_date = None
        if since_date is None or since_date > datetime.date.today():
            raise Malformed("date_inscription")
    elif compensated:
        raise Malformed("indemnise")
    return {
        "inscrit": registered,
        "categorie": category if registered else None,
        "date_inscription": since if registered else None,
        "indemnise": compensated,
        "allocation_journaliere_cents": _int(data, "allocation_journaliere_cents", 0, 100_000) if compensated else 0,
    }


def _drm(data: dict) -> dict:
    months = data.get("mois")
    if not isinstance(months, list) or not 1 <= len(months) <= 12:
        raise Malformed("mois")
    checked = []
    for month in months:
        if not isinstance(month, dict):
            raise Malformed("mois")
        checked.append(
            {
                "mois": _month(month.get("mois"), "mois"),
                "salaires_cents": _int(month, "salaires_cents", 0, 100_000_000),
                "indemnites_chomage_cents": _int(month, "indemnites_chomage_cents", 0, 100_000_000),
                "pensions_cents": _int(month, "pensions_cents", 0, 100_000_000),
            }
        )
    if len({m["mois"] for m in checked}) != len(checked):
        raise Malformed("mois")
    return {"mois": sorted(checked, key=lambda m: m["mois"], reverse=True)}


def _quotient(data: dict) -> dict:
    return {
        "quotient_familial": _int(data, "quotient_familial", 0, 100_000),
        "mois": _month(data.get("mois"), "mois"),
    }


_CHECKS = {
    Source.IMPOTS: _impots,
    Source.FRANCE_TRAVAIL: _france_travail,
    Source.DRM: _drm,
    Source.QUOTIENT_FAMILIAL: _quotient,
}


def checked_answer(source: Source, data) -> dict:
    """The answer of ``source`` as the service reads it; Malformed if its shape is not the agreed one."""
    if not isinstance(data, dict):
        raise Malformed("body")
    return _CHECKS[source](data)
