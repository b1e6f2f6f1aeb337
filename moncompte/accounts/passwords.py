"""The password policy of Mon Compte: the one place that says whether a password may be set.

Every place where a person chooses a password (first connection, change, reset) asks this module,
through ``password_problems`` / ``validate_password_for`` or through Django's
``AUTH_PASSWORD_VALIDATORS`` (``MonComptePasswordValidator``). The rules, after NIST SP 800-63B
and the product ("composé de chiffres et de lettres"):

- at least ``settings.MONCOMPTE_PASSWORD_MIN_LENGTH`` characters (12 by default), at most 128;
  spaces are allowed and count, pasting is allowed;
- at least one letter and one digit (any alphabet: "é" is a letter, "٣" a digit);
- not a common password: Django's list of 20,000 plus a French list
  (``data/common-passwords-fr.txt``, built by ``data/build_french_passwords.py``), compared in
  lower case and without accents, as typed, without its spaces, and stripped of the digits and
  symbols people add at both ends ("Azerty2021!" is "azerty"), also read back from leetspeak
  ("P@ssw0rd" is "password"); a repetition of at most 4 characters ("x1x1x1x1x1x1") is common too;
- not containing the person's identifier (the 13 first characters of the NIR, so the 15 with the
  key as well, spaces, dots and dashes ignored, or the provisional identifier);
- not containing any of the person's first names, birth name or usage name of 3 letters or more
  (accents and case ignored, even inside a word);
- not containing the birth date in its usual forms: DDMMYYYY, DDMMYY, YYYYMMDD, DD/MM/YYYY,
  DD-MM-YYYY, DD.MM.YYYY, YYYY-MM-DD (also with spaces or underscores, and without leading
  zeros when separators are present), or the day and month (DDMM, DD/MM...) together with the
  year anywhere else. The year alone is allowed: refusing it would refuse too many passwords.

No other composition rule. Messages are French sentences for the person; they never quote the
person's identifier, names or birth date. The blocklist is loaded once per process, lazily, into
an immutable frozenset: it is configuration, not request data.
"""

from __future__ import annotations

import datetime
import functools
import gzip
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import django.contrib.auth
from django.conf import settings
from django.core.exceptions import ValidationError

from moncompte.identity.identifiers import Identifier, IdentifierError, IdentifierKind, parse_identifier

__all__ = [
    "DEFAULT_MIN_LENGTH",
    "MAX_LENGTH",
    "MonComptePasswordValidator",
    "PasswordProblem",
    "common_passwords",
    "is_common",
    "password_min_length",
    "password_problems",
    "password_rules_for_display",
    "validate_password_for",
]

DEFAULT_MIN_LENGTH = 12
MAX_LENGTH = 128
# Names shorter than this are not looked for: "Li" or "Ng" would refuse half of all passwords.
MIN_NAME_LENGTH = 3
# What is left once digits and symbols are stripped from both ends is looked up only from this
# length on: "a" or "om" left over from "48:29!71;03a" would be false alarms.
MIN_CORE_LENGTH = 4
# A password that repeats a unit of at most this many characters is as weak as the unit.
MAX_REPEATED_UNIT = 4
# Beyond this length only the length, letter and digit rules are checked: the answer is "too long"
# anyway, and a megabyte posted on purpose must not cost anything.
_CHECK_LIMIT = 4 * MAX_LENGTH

DJANGO_LIST_PATH = Path(django.contrib.auth.__file__).resolve().parent / "common-passwords.txt.gz"
FRENCH_LIST_PATH = Path(__file__).resolve().parent / "data" / "common-passwords-fr.txt"

# Letters that NFKD does not decompose.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i"})
# Leetspeak read back as letters; "1" is read both as "i" and as "l".
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"})
_LEET_L = str.maketrans({"1": "l"})
# What people put inside a NIR, a provisional identifier or a name.
_IDENTIFIER_NOISE = re.compile(r"[\s.\-_/]+")
_NAME_NOISE = re.compile(r"[\s.\-_'’]+")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
_DATE_SEPARATORS = ("/", "-", ".", " ", "_")


@dataclass(frozen=True)
class PasswordProblem:
    """One reason why a password is refused: a stable ``code`` and a French ``message``."""

    code: str
    message: str


MESSAGE_NO_LETTER = "Le mot de passe doit contenir au moins une lettre."
MESSAGE_NO_DIGIT = "Le mot de passe doit contenir au moins un chiffre."
MESSAGE_COMMON = (
    "Ce mot de passe est trop courant : il fait partie de ceux que l'on essaie en premier pour "
    "pirater un compte, même avec des chiffres ou des symboles au début ou à la fin. Choisissez-en "
    "un autre, par exemple plusieurs mots sans rapport entre eux."
)
MESSAGE_NIR = "Le mot de passe ne doit pas contenir votre numéro de sécurité sociale."
MESSAGE_PROVISIONAL = "Le mot de passe ne doit pas contenir votre identifiant provisoire."
MESSAGE_NAME = (
    "Le mot de passe ne doit contenir ni vos prénoms ni vos noms, même sans accent, en majuscules "
    "ou à l'intérieur d'un mot."
)
MESSAGE_BIRTH_DATE = "Le mot de passe ne doit pas contenir votre date de naissance."


def password_min_length() -> int:
    """The minimum length in force (``settings.MONCOMPTE_PASSWORD_MIN_LENGTH``, 12 by default)."""
    return int(getattr(settings, "MONCOMPTE_PASSWORD_MIN_LENGTH", DEFAULT_MIN_LENGTH))


def password_problems(
    password: str,
    *,
    person=None,
    identifier: Identifier | str | None = None,
    first_names: str = "",
    birth_name: str = "",
    usage_name: str = "",
    birth_date: datetime.date | None = None,
) -> list[PasswordProblem]:
    """Every reason why ``password`` may not be set; an empty list when it may.

    With ``person`` (a moncompte.identity.models.Person), its names, birth date and identifier are
    used; names given as arguments are checked as well (a new usage name being recorded), and an
    explicit ``identifier`` or ``birth_date`` takes precedence over the person's.
    """
    password = password or ""
    names = [first_names, birth_name, usage_name]
    if person is not None:
        names += [person.first_names, person.birth_name, person.usage_name]
        if birth_date is None:
            birth_date = person.birth_date
        if identifier is None:
            identifier = person.identifier

    problems: list[PasswordProblem] = []
    length = len(password)
    min_length = password_min_length()
    if length < min_length:
        problems.append(
            PasswordProblem(
                "password_too_short",
                f"Le mot de passe doit contenir au moins {min_length} caractères : il en a {length}.",
            )
        )
    if length > MAX_LENGTH:
        problems.append(
            PasswordProblem(
                "password_too_long",
                f"Le mot de passe doit contenir au plus {MAX_LENGTH} caractères : il en a {length}.",
            )
        )
    if not any(c.isalpha() for c in password):
        problems.append(PasswordProblem("password_no_letter", MESSAGE_NO_LETTER))
    if not any(c.isdecimal() for c in password):
        problems.append(PasswordProblem("password_no_digit", MESSAGE_NO_DIGIT))
    if not password or length > _CHECK_LIMIT:
        return problems

    if is_common(password):
        problems.append(PasswordProblem("password_too_common", MESSAGE_COMMON))
    parsed = _as_identifier(identifier)
    if parsed is not None and _contains_identifier(password, parsed.value):
        if parsed.kind is IdentifierKind.PROVISIONAL:
            problems.append(PasswordProblem("password_contains_identifier", MESSAGE_PROVISIONAL))
        else:
            problems.append(PasswordProblem("password_contains_nir", MESSAGE_NIR))
    if _contains_name(password, names):
        problems.append(PasswordProblem("password_contains_name", MESSAGE_NAME))
    if birth_date is not None and _contains_birth_date(password, birth_date):
        problems.append(PasswordProblem("password_contains_birth_date", MESSAGE_BIRTH_DATE))
    return problems


def validate_password_for(
    password: str,
    *,
    person=None,
    identifier: Identifier | str | None = None,
    first_names: str = "",
    birth_name: str = "",
    usage_name: str = "",
    birth_date: datetime.date | None = None,
) -> None:
    """Raise ValidationError listing every problem of ``password`` (see ``password_problems``)."""
    problems = password_problems(
        password,
        person=person,
        identifier=identifier,
        first_names=first_names,
        birth_name=birth_name,
        usage_name=usage_name,
        birth_date=birth_date,
    )
    if problems:
        raise ValidationError([ValidationError(problem.message, code=problem.code) for problem in problems])


class MonComptePasswordValidator:
    """The policy as an ``AUTH_PASSWORD_VALIDATORS`` entry.

    ``user`` is an Account: its person gives the names, birth date and identifier to look for.
    """

    def validate(self, password: str, user=None) -> None:
        person = getattr(user, "person", None) if user is not None else None
        validate_password_for(password, person=person)

    def get_help_text(self) -> str:
        return (
            f"Votre mot de passe doit contenir au moins {password_min_length()} caractères, dont au "
            "moins une lettre et un chiffre. Il ne doit pas être un mot de passe courant ni contenir "
            "votre numéro de sécurité sociale, vos prénoms, vos noms ou votre date de naissance."
        )


def password_rules_for_display(min_length: int | None = None) -> list[tuple[str, str]]:
    """The rules as (code, French text) for a form's checklist, in the order they are checked.

    ``length``, ``letter`` and ``digit`` can be checked as the person types; the others only by
    the server.
    """
    if min_length is None:
        min_length = password_min_length()
    return [
        ("length", f"Au moins {min_length} caractères"),
        ("letter", "Au moins une lettre"),
        ("digit", "Au moins un chiffre"),
        ("common", "Pas un mot de passe courant, comme « azerty123 » ou « soleil2024 »"),
        ("nir", "Pas votre numéro de sécurité sociale"),
        ("name", "Ni vos prénoms ni vos noms"),
        ("birth_date", "Pas votre date de naissance"),
    ]


# Common passwords ---------------------------------------------------------------------------


@functools.cache
def common_passwords() -> frozenset[str]:
    """Django's list of common passwords and the French one, in lower case, loaded once."""
    with gzip.open(DJANGO_LIST_PATH, "rt", encoding="utf-8") as django_list:
        entries = {line.strip() for line in django_list}
    entries.update(line.strip().lower() for line in FRENCH_LIST_PATH.read_text(encoding="utf-8").splitlines())
    entries.discard("")
    return frozenset(entries)


def is_common(password: str) -> bool:
    """Whether ``password`` is, or is built from, a common password (see the module docstring)."""
    blocklist = common_passwords()
    forms = _lookup_forms(password)
    if any(form in blocklist for form in forms):
        return True
    # "x1x1x1x1x1x1", "ab12ab12ab12": as predictable as any listed password.
    return any(len(unit) <= MAX_REPEATED_UNIT for form in forms if (unit := _repeated_unit(form)))


def _lookup_forms(password: str) -> set[str]:
    """The strings looked up in the blocklist for ``password``."""
    text = unicodedata.normalize("NFKC", password).lower()
    forms: set[str] = set()
    for variant in {text, _fold(text)}:
        for candidate in {variant.strip(), "".join(variant.split())}:
            forms.add(candidate)
            core = _strip_edges(candidate)
            if len(core) >= MIN_CORE_LENGTH:
                forms.add(core)
                forms.add(_strip_edges(core.translate(_LEET)))
                forms.add(_strip_edges(core.translate(_LEET_L).translate(_LEET)))
            for whole in (candidate, core):
                unit = _repeated_unit(whole)
                if unit is not None:
                    forms.add(unit)
                    unit_core = _strip_edges(unit)
                    if len(unit_core) >= MIN_CORE_LENGTH:
                        forms.add(unit_core)
    forms.discard("")
    return forms


def _strip_edges(text: str) -> str:
    """``text`` without the digits, symbols and spaces at both ends."""
    start, end = 0, len(text)
    while start < end and not text[start].isalpha():
        start += 1
    while end > start and not text[end - 1].isalpha():
        end -= 1
    return text[start:end]


def _repeated_unit(text: str) -> str | None:
    """The shortest unit that ``text`` repeats ("soleil" for "soleilsoleil"), or None."""
    if len(text) < 2:
        return None
    period = (text + text).find(text, 1)
    return text[:period] if period < len(text) else None


# Identifier, names, birth date --------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower case, accents removed, ligatures spelled out: "Œdipe Léa" -> "oedipe lea"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(_LIGATURES)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _as_identifier(identifier: Identifier | str | None) -> Identifier | None:
    if identifier is None or isinstance(identifier, Identifier):
        return identifier
    try:
        return parse_identifier(identifier)
    except IdentifierError:
        return None


def _contains_identifier(password: str, value: str) -> bool:
    compact = _IDENTIFIER_NOISE.sub("", unicodedata.normalize("NFKC", password)).upper()
    return value.upper() in compact


def _contains_name(password: str, names: list[str]) -> bool:
    tokens = {
        token for name in names if name for token in _LETTER_RUN.findall(_fold(name)) if len(token) >= MIN_NAME_LENGTH
    }
    if not tokens:
        return False
    folded = _fold(unicodedata.normalize("NFKC", password))
    compact = _NAME_NOISE.sub("", folded)
    return any(token in folded or token in compact for token in tokens)


def _birth_date_forms(birth_date: datetime.date) -> tuple[set[str], set[str], str]:
    """(full date forms, day-and-month forms, year) of ``birth_date``."""
    dd, mm, yyyy = f"{birth_date.day:02d}", f"{birth_date.month:02d}", f"{birth_date.year:04d}"
    yy = yyyy[2:]
    full = {dd + mm + yyyy, dd + mm + yy, yyyy + mm + dd}
    day_months = {dd + mm}
    for sep in _DATE_SEPARATORS:
        day_months.add(dd + sep + mm)
        for day in {dd, str(birth_date.day)}:
            for month in {mm, str(birth_date.month)}:
                full.update({day + sep + month + sep + yyyy, day + sep + month + sep + yy})
                full.add(yyyy + sep + month + sep + day)
    return full, day_months, yyyy


def _contains_birth_date(password: str, birth_date: datetime.date) -> bool:
    text = re.sub(r"\s", " ", unicodedata.normalize("NFKC", password))
    full, day_months, year = _birth_date_forms(birth_date)
    if any(form in text for form in full):
        return True
    return any(_apart(text, day_month, year) for day_month in day_months)


def _apart(text: str, first: str, second: str) -> bool:
    """Whether ``first`` and ``second`` both occur in ``text`` without overlapping."""
    first_start, second_start = text.find(first), text.find(second)
    if first_start < 0 or second_start < 0:
        return False
    first_last, second_last = text.rfind(first), text.rfind(second)
    return first_start + len(first) <= second_last or second_start + len(second) <= first_last
