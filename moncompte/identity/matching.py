"""Matching a declared identity to a known person.

Used by the account creation of new beneficiaries (moncompte.accounts.signup: without the NIR
only, to note a possible duplicate for the agent; the typed NIR is a claim that is never looked
up during the sign-up) and, later, by the agents and FranceConnect, whose "pivot identity"
carries names, birth date, sex, birth place and country but no NIR. The rules (docs/signup.md):

- **names** are compared by their key (moncompte.identity.normalise.name_key): upper case,
  accents stripped, ligatures spelled out, hyphens, apostrophes, dots and commas turned into
  spaces, runs of spaces folded ("Léa-Marie d'Arc" is "LEA MARIE D ARC"). The birth name is compared whole; of the first
  names only the first one (civil registers and FranceConnect do not always hold all of them);
- **birth date** and **sex** are compared exactly;
- **birth place**: born in France or abroad must agree; two French commune codes, when both are
  known, must agree (the arrondissements of Paris, Lyon and Marseille count as their city, and
  Corsica's 20 as 2A/2B); the foreign country itself is not compared, its INSEE code having
  changed with history (a person born in the USSR may say Ukraine);
- **with a NIR**: the person holding that NIR must also have that identity, otherwise the
  outcome is ``mismatch`` and nobody is linked; the NIR's own digits are first checked against
  the declared identity (``nir_identity_problems``);
- **without a NIR**: every person born that day with that sex is compared.

Exactly one match is ``one``; ``none`` and ``many`` never link anybody (the caller opens an
identity check instead).

This module only reads; it never tells the person which rule failed for a stored person (the
caller decides what to say, see the enumeration notes in docs/signup.md).
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass

from moncompte.identity.identifiers import Identifier, IdentifierKind
from moncompte.identity.models import Person
from moncompte.identity.normalise import birth_place_code as canonical_place_code
from moncompte.identity.normalise import first_name_key, name_key

__all__ = [
    "FRANCE",
    "MatchOutcome",
    "MatchResult",
    "match_person",
    "nir_identity_problems",
    "places_agree",
]

FRANCE = "99100"

# Pseudo-fictive months of a NIR, given when the birth month is unknown.
_PSEUDO_MONTHS = set(range(20, 43)) | set(range(50, 100))
# Cities whose births are registered by arrondissement: the city's code and its arrondissements'.
_CITIES_WITH_ARRONDISSEMENTS = {
    "75056": {f"751{n:02d}" for n in range(1, 21)},  # Paris
    "69123": {f"6938{n}" for n in range(1, 10)},  # Lyon
    "13055": {f"132{n:02d}" for n in range(1, 17)},  # Marseille
}
# NIR "départements" whose birth country is not checked: 91-96 (Algeria, Morocco, Tunisia before
# independence) and 97/98 (overseas, and Monaco under 98 in some files).
_NIR_PLACES_ANY_COUNTRY = {"91", "92", "93", "94", "95", "96", "97", "98"}


class MatchOutcome(enum.StrEnum):
    ONE = "one"
    NONE = "none"
    MANY = "many"
    MISMATCH = "mismatch"  # a NIR held by a person whose identity differs: never link


@dataclass(frozen=True)
class MatchResult:
    outcome: MatchOutcome
    person: Person | None = None

    @property
    def matched(self) -> bool:
        return self.outcome is MatchOutcome.ONE


def _city_of(code: str) -> str:
    for city, arrondissements in _CITIES_WITH_ARRONDISSEMENTS.items():
        if code in arrondissements:
            return city
    return code


def _communes_agree(a: str, b: str) -> bool:
    if a == b or _city_of(a) == _city_of(b):
        return True
    # Corsica's codes were 20xxx before 1976.
    return a[:2] in {"20", "2A", "2B"} and b[:2] in {"20", "2A", "2B"} and a[2:] == b[2:]


def places_agree(*, place_a: str, country_a: str, place_b: str, country_b: str) -> bool:
    """Whether two declared birth places can be the same (see the module docstring)."""
    country_a, country_b = country_a or FRANCE, country_b or FRANCE
    if (country_a == FRANCE) != (country_b == FRANCE):
        return False
    a, b = canonical_place_code(place_a), canonical_place_code(place_b)
    if country_a == FRANCE and a and b:
        return _communes_agree(a, b)
    return True


def nir_identity_problems(
    identifier: Identifier,
    *,
    birth_date: datetime.date,
    sex: str,
    birth_place_code: str = "",
    birth_country_code: str = FRANCE,
) -> list[tuple[str, str]]:
    """What the NIR's own digits contradict in the declared identity, as (field, French message).

    Fields: ``sex``, ``birth_date``, ``birth_place``, ``birth_country``. Nothing is checked for a
    provisional number (NNP, sex digit 7 or 8) or a provisional identifier, whose digits say
    nothing about the person; sex digits 3 and 4 are not compared either.
    """
    if identifier.kind is not IdentifierKind.NIR:
        return []
    value = identifier.value
    problems: list[tuple[str, str]] = []
    expected_sex = {"1": "M", "2": "F"}.get(value[0])
    if expected_sex and sex and sex != expected_sex:
        problems.append(
            (
                "sex",
                "Le premier chiffre de votre numéro de sécurité sociale ne correspond pas au sexe indiqué : "
                "vérifiez l'un ou l'autre.",
            )
        )
    if birth_date is not None:
        month = int(value[3:5])
        if value[1:3] != f"{birth_date.year % 100:02d}":
            problems.append(
                (
                    "birth_date",
                    "Les 2e et 3e chiffres de votre numéro de sécurité sociale (l'année de naissance) ne "
                    "correspondent pas à la date de naissance indiquée : vérifiez l'une ou l'autre.",
                )
            )
        elif month not in _PSEUDO_MONTHS and month != birth_date.month:
            problems.append(
                (
                    "birth_date",
                    "Les 4e et 5e chiffres de votre numéro de sécurité sociale (le mois de naissance) ne "
                    "correspondent pas à la date de naissance indiquée : vérifiez l'une ou l'autre.",
                )
            )
    department = value[5:7]
    country = birth_country_code or FRANCE
    if department == "99":
        if country == FRANCE:
            problems.append(
                (
                    "birth_country",
                    "Votre numéro de sécurité sociale indique une naissance hors de France : vérifiez le pays "
                    "de naissance.",
                )
            )
    elif department not in _NIR_PLACES_ANY_COUNTRY:
        if country != FRANCE:
            problems.append(
                (
                    "birth_country",
                    "Votre numéro de sécurité sociale indique une naissance en France : vérifiez le pays de naissance.",
                )
            )
        else:
            place = canonical_place_code(birth_place_code)
            if place and not _communes_agree(place, value[5:10]):
                problems.append(
                    (
                        "birth_place",
                        "Les 6e à 10e caractères de votre numéro de sécurité sociale (le lieu de naissance) ne "
                        "correspondent pas au code de la commune de naissance indiqué : vérifiez l'un ou l'autre.",
                    )
                )
    elif department == "97" and country == FRANCE:
        place = canonical_place_code(birth_place_code)
        # Overseas: 3-digit département and 2-digit commune, the same 5 characters as the INSEE code.
        if place and place.startswith("97") and place != value[5:10]:
            problems.append(
                (
                    "birth_place",
                    "Les 6e à 10e caractères de votre numéro de sécurité sociale (le lieu de naissance) ne "
                    "correspondent pas au code de la commune de naissance indiqué : vérifiez l'un ou l'autre.",
                )
            )
    return problems


def _identity_matches(
    person: Person,
    *,
    first_names: str,
    birth_name: str,
    birth_date: datetime.date,
    sex: str,
    birth_place_code: str,
    birth_country_code: str,
) -> bool:
    return (
        person.birth_date == birth_date
        and person.sex == sex
        and name_key(person.birth_name) == name_key(birth_name)
        and first_name_key(person.first_names) == first_name_key(first_names)
        and bool(first_name_key(first_names))
        and places_agree(
            place_a=person.birth_place_code,
            country_a=person.birth_country_code,
            place_b=birth_place_code,
            country_b=birth_country_code,
        )
    )


def match_person(
    *,
    identifier: Identifier | None = None,
    first_names: str,
    birth_name: str,
    birth_date: datetime.date,
    sex: str,
    birth_place_code: str = "",
    birth_country_code: str = FRANCE,
) -> MatchResult:
    """The known person this declared identity designates, if exactly one (module docstring)."""
    identity = {
        "first_names": first_names,
        "birth_name": birth_name,
        "birth_date": birth_date,
        "sex": sex,
        "birth_place_code": birth_place_code,
        "birth_country_code": birth_country_code or FRANCE,
    }
    if identifier is not None:
        holders = list(Person.objects.with_identifier(identifier.value))
        if not holders:
            return MatchResult(MatchOutcome.NONE)
        if nir_identity_problems(
            identifier,
            birth_date=birth_date,
            sex=sex,
            birth_place_code=birth_place_code,
            birth_country_code=birth_country_code,
        ):
            return MatchResult(MatchOutcome.MISMATCH)
        matching = [p for p in holders if _identity_matches(p, **identity)]
        if len(matching) == 1 and len(holders) == 1:
            return MatchResult(MatchOutcome.ONE, matching[0])
        return MatchResult(MatchOutcome.MISMATCH)

    candidates = Person.objects.filter(birth_date=birth_date, sex=sex).order_by("pk")
    matching = [p for p in candidates if _identity_matches(p, **identity)]
    if len(matching) == 1:
        return MatchResult(MatchOutcome.ONE, matching[0])
    if matching:
        return MatchResult(MatchOutcome.MANY)
    return MatchResult(MatchOutcome.NONE)
