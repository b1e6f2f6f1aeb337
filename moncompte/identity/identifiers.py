"""A person's primary identifier: parsing, validation and presentation.

Three kinds of identifier let a person sign in:

- **NIR** (numéro de sécurité sociale), and the **NIA** that has the same shape: 13 characters
  (sex, year, month, place of birth, order number) and a 2-digit key, 97 - (number mod 97),
  with 2A -> 19 and 2B -> 18 for Corsica. The key is computed by python-stdnum.
- **NNP**, the provisional numbers of health insurance: 13 digits starting with 7 or 8
  (``[78][12]`` + fund + order). Some real NIRs also start with 7 or 8; both are accepted as NNP
  without looking at "month" or "département", so that nobody is locked out for the shape of
  their number (in October 2021 about 68,000 holders of such numbers could not sign in).
- **Provisional identifiers** issued by Mon Compte to people with no NIR yet.

Leniency is deliberate: real files hold pseudo-fictive months (20-42, 50-99), sex digits 3 and 4,
départements 20 (Corsica before 1976), 91-96 (Algeria, Morocco, Tunisia before independence),
97x/98x (overseas, any third digit) and 99 (born abroad). What is rejected is what no real
number holds: a month 00, 13-19 or 43-49, a département 00, a sex digit 0, 5, 6 or 9, a wrong key.

Canonical value (``Identifier.value``, the only form that is hashed, encrypted or compared):
the 13 first characters in upper case for NIR/NIA/NNP (2A/2B kept as letters, no key), and
``P`` + 10 characters for a provisional identifier.

Provisional identifier format (our design):
``P`` + 9 random body characters + 1 check character, all from Crockford's base32 alphabet
``0123456789ABCDEFGHJKMNPQRSTVWXYZ`` (no I, L, O, U: nothing to confuse when read aloud or
copied). The check character is the Luhn mod 32 check of the body
(``stdnum.luhn.calc_check_digit(body, alphabet=CROCKFORD_ALPHABET)``), which catches every single
wrong character and most swaps of two neighbours. It can never be mistaken for a NIR: it starts
with a letter and no NIR does. It is shown as ``P-XXXXX-XXXXX``; parsing ignores case, spaces,
dots and dashes, and reads O as 0 and I or L as 1, as Crockford's encoding prescribes. The body
holds 45 random bits: the caller must still check uniqueness in the database and draw again on
a collision.

Error messages are French sentences meant for the person typing; they may quote one character
or one group of two digits, never the whole identifier.

This module is pure Python (no Django import; moncompte.core.errors is pure Python too) so that
any layer can use it.
"""

from __future__ import annotations

import enum
import re
import secrets
import unicodedata
from dataclasses import dataclass

from stdnum import luhn
from stdnum.fr import nir

from moncompte.core.errors import DomainError

__all__ = [
    "CROCKFORD_ALPHABET",
    "Identifier",
    "IdentifierError",
    "IdentifierKind",
    "is_canonical_value",
    "new_provisional_identifier",
    "nir_key",
    "parse_identifier",
]

CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PROVISIONAL_PREFIX = "P"
PROVISIONAL_BODY_LENGTH = 9
# Prefix, body and check character.
PROVISIONAL_LENGTH = 1 + PROVISIONAL_BODY_LENGTH + 1

_MASK = "\u2022"  # "•"
_ASCII_DIGITS = frozenset("0123456789")
# Letters are only ever valid in 2A/2B; their position is checked once the length is known.
_ASSIGNABLE_NUMBER_CHARS = _ASCII_DIGITS | frozenset("aAbB")
# [0-9] rather than \d: \d would also match Arabic-Indic and other Unicode digits.
_NUMBER_SHAPE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{6}")
_PROVISIONAL_SHAPE = re.compile(rf"{PROVISIONAL_PREFIX}[{CROCKFORD_ALPHABET}]{{{PROVISIONAL_LENGTH - 1}}}")
# Separators people type or paste; every kind of white space is dropped as well.
_SEPARATORS = frozenset(".-_\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
# Invisible characters that copy and paste bring along (zero-width spaces, soft hyphen, BOM).
_INVISIBLES = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
# Crockford's decoding rules: letters that look like digits are read as those digits.
_CROCKFORD_FOLDING = {"O": "0", "I": "1", "L": "1"}


class IdentifierKind(enum.StrEnum):
    NIR = "nir"  # also NIA, same shape; the Person record says which
    NNP = "nnp"
    PROVISIONAL = "provisional"


class IdentifierError(DomainError, ValueError):
    """An identifier that cannot be right; ``message`` says why, in French, for the user.

    ``code`` is a stable machine-readable reason: empty, character, length, letter_position,
    sex, month, department, key, provisional_character, provisional_length, provisional_check.
    A ValueError still (forms and parsers catch it as one); ``field`` is "identifier".
    """

    def __init__(self, message: str, *, code: str, field: str | None = "identifier") -> None:
        super().__init__(message, code=code, field=field)


def is_canonical_value(value: str) -> bool:
    """Whether ``value`` has the shape of a canonical identifier value (no key check)."""
    return bool(_NUMBER_SHAPE.fullmatch(value) or _PROVISIONAL_SHAPE.fullmatch(value))


@dataclass(frozen=True)
class Identifier:
    """A parsed identifier. Build it with ``parse_identifier``; ``value`` is canonical.

    ``repr()`` and ``str()`` show the masked form only, so that an identifier caught in a log
    line or a debug page does not leak.
    """

    kind: IdentifierKind
    value: str

    def __post_init__(self) -> None:
        kind = IdentifierKind(self.kind)
        object.__setattr__(self, "kind", kind)
        shape = _PROVISIONAL_SHAPE if kind is IdentifierKind.PROVISIONAL else _NUMBER_SHAPE
        if not isinstance(self.value, str) or not shape.fullmatch(self.value):
            # The value is not quoted: it may be a NIR.
            raise ValueError(f"not a canonical value for an identifier of kind {kind.value!r}")

    def __repr__(self) -> str:
        return f"Identifier(kind={self.kind.value!r}, masked={self.masked()!r})"

    def __str__(self) -> str:
        return self.masked()

    @property
    def is_provisional(self) -> bool:
        return self.kind is IdentifierKind.PROVISIONAL

    @property
    def key(self) -> str | None:
        """The 2-digit key of a NIR, NIA or NNP; None for a provisional identifier."""
        if self.is_provisional:
            return None
        return nir_key(self.value)

    def _groups(self) -> list[str]:
        if self.is_provisional:
            return [self.value[0], self.value[1:6], self.value[6:]]
        v = self.value
        return [v[0], v[1:3], v[3:5], v[5:7], v[7:10], v[10:13], nir_key(v)]

    def display(self) -> str:
        """The form printed on cards and letters: "2 85 05 75 115 042 95", "P-0A1B2-C3D4E"."""
        separator = "-" if self.is_provisional else " "
        return separator.join(self._groups())

    def masked(self) -> str:
        """Only the first character and the key (or check character) left visible."""
        groups = self._groups()
        if self.is_provisional:
            body, tail = groups[1], groups[2]
            return "-".join([groups[0], _MASK * len(body), _MASK * (len(tail) - 1) + tail[-1]])
        return " ".join([groups[0], *(_MASK * len(g) for g in groups[1:-1]), groups[-1]])


def nir_key(value13: str) -> str:
    """The 2-digit key of the 13 first characters of a NIR, NIA or NNP (2A -> 19, 2B -> 18)."""
    value = value13.upper()
    if not _NUMBER_SHAPE.fullmatch(value):
        raise ValueError("nir_key expects the 13 first characters of a NIR, NIA or NNP")
    return nir.calc_check_digits(value)


def new_provisional_identifier() -> Identifier:
    """A fresh random provisional identifier (the caller checks it is not already taken)."""
    body = "".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(PROVISIONAL_BODY_LENGTH))
    check = luhn.calc_check_digit(body, alphabet=CROCKFORD_ALPHABET)
    return Identifier(IdentifierKind.PROVISIONAL, PROVISIONAL_PREFIX + body + check)


def parse_identifier(raw: str) -> Identifier:
    """Read what a person typed: NIR, NIA or NNP (with or without key) or a provisional identifier.

    Raises IdentifierError, whose ``message`` tells the person precisely what is wrong.
    """
    compact = _compact(raw or "")
    if not compact:
        raise IdentifierError(
            "Saisissez votre numéro de sécurité sociale : 13 chiffres, suivis de la clé de 2 chiffres.",
            code="empty",
        )
    if compact[0] in "Pp":
        return _parse_provisional(compact)
    return _parse_number(compact)


def _compact(raw: str) -> str:
    # NFKC turns full-width digits and non-breaking spaces into their plain forms.
    text = unicodedata.normalize("NFKC", raw)
    return "".join(c for c in text if not (c.isspace() or c in _SEPARATORS or c in _INVISIBLES))


def _describe(char: str) -> str:
    if char.isprintable():
        return f"« {char} »"
    return f"invisible U+{ord(char):04X}"


def _parse_number(compact: str) -> Identifier:
    for char in compact:
        if char not in _ASSIGNABLE_NUMBER_CHARS:
            raise IdentifierError(_number_character_message(char), code="character")
    # Only ASCII digits and a/b are left: upper() cannot change the length.
    number = compact.upper()

    if len(number) not in (13, 15):
        raise IdentifierError(
            "Le numéro de sécurité sociale compte 13 chiffres, suivis d'une clé de 2 chiffres : "
            f"vous en avez saisi {len(number)}.",
            code="length",
        )

    for index, char in enumerate(number):
        if char in "AB" and not (index == 6 and number[5] == "2"):
            raise IdentifierError(
                f"La lettre « {char} » n'est admise qu'en 7e position, dans 2A ou 2B, le "
                "département de naissance des personnes nées en Corse : vérifiez votre saisie.",
                code="letter_position",
            )

    value, given_key = number[:13], number[13:]
    sex = value[0]
    if sex in "78":
        # NNP, or a NIR with sex digit 7/8: month and département are not checked (see above).
        kind = IdentifierKind.NNP
    elif sex in "1234":
        kind = IdentifierKind.NIR
        _check_nir_structure(value)
    else:
        raise IdentifierError(
            "Le premier chiffre du numéro de sécurité sociale indique le sexe : il vaut 1 ou 2 "
            f"(parfois 3, 4, 7 ou 8), « {sex} » n'est pas possible.",
            code="sex",
        )

    if given_key and given_key != nir_key(value):
        raise IdentifierError(
            f"La clé « {given_key} » ne correspond pas au numéro : vérifiez chacun des 15 chiffres "
            "sur votre carte Vitale ou votre attestation de droits.",
            code="key",
        )
    return Identifier(kind, value)


def _number_character_message(char: str) -> str:
    message = (
        f"Le caractère {_describe(char)} n'est pas admis : un numéro de sécurité sociale ne "
        "contient que des chiffres (et 2A ou 2B pour les personnes nées en Corse)."
    )
    upper = char.upper() if char.isascii() else char
    if upper == "O":
        message += " S'il s'agit d'un zéro, saisissez le chiffre 0."
    elif upper in ("I", "L"):
        message += " S'il s'agit d'un un, saisissez le chiffre 1."
    elif upper.isascii() and upper.isalpha():
        message += " Si vous avez un identifiant provisoire, il commence par la lettre P."
    return message


def _check_nir_structure(value: str) -> None:
    month = value[3:5]
    month_number = int(month)
    # 20-42 and 50-99 are pseudo-fictive months given when the birth month is unknown.
    if not (1 <= month_number <= 12 or 20 <= month_number <= 42 or month_number >= 50):
        raise IdentifierError(
            "Les 4e et 5e chiffres du numéro de sécurité sociale indiquent le mois de naissance : "
            f"« {month} » n'est pas un mois possible (de 01 à 12).",
            code="month",
        )
    department = value[5:7]
    # Everything else from 01 to 99 exists: 20 (Corsica before 1976), 91-96 (Algeria, Morocco,
    # Tunisia before independence), 97/98 (overseas), 99 (born abroad).
    if department == "00":
        raise IdentifierError(
            "Les 6e et 7e caractères du numéro de sécurité sociale indiquent le département de "
            "naissance : « 00 » n'existe pas.",
            code="department",
        )


def _parse_provisional(compact: str) -> Identifier:
    chars = [PROVISIONAL_PREFIX]
    for char in compact[1:]:
        upper = char.upper() if char.isascii() else char
        upper = _CROCKFORD_FOLDING.get(upper, upper)
        if upper not in CROCKFORD_ALPHABET:
            raise IdentifierError(
                f"Le caractère {_describe(char)} n'est pas admis dans un identifiant provisoire, "
                "qui ne contient que des chiffres et des lettres (jamais la lettre U).",
                code="provisional_character",
            )
        chars.append(upper)
    value = "".join(chars)

    if len(value) != PROVISIONAL_LENGTH:
        raise IdentifierError(
            f"L'identifiant provisoire compte {PROVISIONAL_LENGTH} caractères (la lettre P suivie "
            f"de {PROVISIONAL_LENGTH - 1} chiffres ou lettres) : vous en avez saisi {len(value)}.",
            code="provisional_length",
        )
    if not luhn.is_valid(value[1:], alphabet=CROCKFORD_ALPHABET):
        raise IdentifierError(
            "Cet identifiant provisoire n'est pas valide : un caractère a sans doute été mal "
            "recopié. Vérifiez-le sur le message qui vous l'a communiqué.",
            code="provisional_check",
        )
    return Identifier(IdentifierKind.PROVISIONAL, value)
