"""Names and birth data written one way: for the forms, the import and the matching.

- ``name_key`` is the form names are **compared** in (moncompte.identity.matching, and any
  channel that matches a declared identity): upper case, accents stripped, ligatures spelled out,
  hyphens, apostrophes, dots and commas turned into spaces, runs of spaces folded
  ("Léa-Marie d'Arc" -> "LEA MARIE D ARC"); letters of any alphabet are kept.
  ``first_name_key`` is the key of the first of the first names only (civil registers and
  FranceConnect do not always hold all of them).
- ``display_name`` and ``family_name`` are the forms names are **stored** in: as typed, with the
  white space folded (first names), and in capitals (birth and usage names), as the Caf's files
  write them.
- ``birth_date_problem`` and ``parse_birth_date`` hold the one bound on birth dates: not in the
  future, not before ``MIN_BIRTH_DATE`` (the oldest date the legacy files hold: a form must accept
  every person the import accepted).
- ``birth_place_code``: an INSEE commune code in its canonical form.

Pure Python (no Django import), so that any layer can use it.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

__all__ = [
    "BIRTH_DATE_IN_FUTURE",
    "BIRTH_DATE_TOO_OLD",
    "MIN_BIRTH_DATE",
    "birth_date_problem",
    "birth_place_code",
    "display_name",
    "family_name",
    "first_name_key",
    "name_key",
    "parse_birth_date",
]

MIN_BIRTH_DATE = datetime.date(1890, 1, 1)
BIRTH_DATE_IN_FUTURE = "La date de naissance ne peut pas être dans le futur."
BIRTH_DATE_TOO_OLD = "Vérifiez l'année de naissance."

# Letters that Unicode decomposition leaves whole.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O", "đ": "d"})
# Anything that is not a letter or a digit separates words: hyphens, apostrophes, dots, commas...
_SEPARATORS = re.compile(r"[\W_]+")
# A French commune code (INSEE): 5 digits, or 2A/2B followed by 3 digits for Corsica.
_COMMUNE_CODE = re.compile(r"(?:\d{5}|2[AB]\d{3})")


def name_key(value: str | None) -> str:
    """The comparison key of a name: "Léa-Marie d'Arc" -> "LEA MARIE D ARC"."""
    text = unicodedata.normalize("NFKD", (value or "").translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_LIGATURES)
    text = _SEPARATORS.sub(" ", text.upper())
    return " ".join(text.split())


def first_name_key(first_names: str | None) -> str:
    """The key of the first of the first names ("Léa-Marie Jeanne" -> "LEA")."""
    words = name_key(first_names).split()
    return words[0] if words else ""


def display_name(value: str | None) -> str:
    """A name as stored and shown: as typed, composed (NFC), white space folded."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())


def family_name(value: str | None) -> str:
    """A birth or usage name as stored: ``display_name`` in capitals ("d'Arc" -> "D'ARC")."""
    return display_name(value).upper()


def birth_date_problem(value: datetime.date, *, today: datetime.date | None = None) -> str | None:
    """The French sentence saying why a birth date cannot be right, None if it can."""
    if value > (today or datetime.date.today()):
        return BIRTH_DATE_IN_FUTURE
    if value < MIN_BIRTH_DATE:
        return BIRTH_DATE_TOO_OLD
    return None


def parse_birth_date(text: str | None, *, today: datetime.date | None = None) -> datetime.date | None:
    """A birth date written ``AAAA-MM-JJ`` or ``JJ/MM/AAAA`` (the files' formats), within the
    bounds; None for anything else (another shape, an impossible date, out of bounds)."""
    text = (text or "").strip()
    try:
        if len(text) == 10 and text[2] == "/" and text[5] == "/":
            day, month, year = text.split("/")
            if not (day.isdigit() and month.isdigit() and year.isdigit()):
                return None
            value = datetime.date(int(year), int(month), int(day))
        elif len(text) == 10 and text[4] == "-" and text[7] == "-" and text.replace("-", "").isdigit():
            value = datetime.date.fromisoformat(text)
        else:
            return None
    except ValueError:
        return None
    return None if birth_date_problem(value, today=today) else value


def birth_place_code(value: str | None) -> str:
    """An INSEE commune code in its canonical form ("2a004" -> "2A004"), or "" if it is not one."""
    code = "".join((value or "").split()).upper()
    return code if _COMMUNE_CODE.fullmatch(code) else ""
