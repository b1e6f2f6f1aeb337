"""The pivot identity FranceConnect gives, read from its claims (FranceConnect v2).

- ``given_name``: every first name, separated by spaces;
- ``family_name``: the birth name (in capitals);
- ``birthdate``: ``YYYY-MM-DD``;
- ``gender``: ``male`` or ``female`` (our sexes ``M`` and ``F``);
- ``birthplace``: the INSEE code of the birth commune, empty when born abroad;
- ``birthcountry``: the INSEE code of the birth country, ``99100`` for France;
- ``preferred_username`` (the usage name) and ``email``, when given.

No NIR: FranceConnect never gives one. A claim missing or malformed makes the whole identity
unusable (``IdentityUnusable``): nothing is guessed. Names are written the one way of
moncompte.identity.normalise. Pure data: no database, no request.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import asdict, dataclass

from moncompte.identity.matching import FRANCE
from moncompte.identity.normalise import birth_date_problem, birth_place_code, display_name, family_name

_GENDERS = {"male": "M", "female": "F"}
_COUNTRY_CODE = re.compile(r"99\d{3}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Longer than any name of the civil registers: a claim beyond it is not a name.
_MAX_NAME_LENGTH = 200


class IdentityUnusable(ValueError):
    """A claim of the pivot identity is missing or malformed; ``claim`` names it (never its value)."""

    def __init__(self, claim: str):
        super().__init__(f"claim {claim} missing or malformed")
        self.claim = claim


def _text(claims: dict, name: str, *, required: bool) -> str:
    value = claims.get(name)
    if value is None or value == "":
        if required:
            raise IdentityUnusable(name)
        return ""
    if not isinstance(value, str) or len(value) > _MAX_NAME_LENGTH:
        raise IdentityUnusable(name)
    value = display_name(value)
    if required and not value:
        raise IdentityUnusable(name)
    return value


def _birth_date(claims: dict) -> datetime.date:
    value = claims.get("birthdate")
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise IdentityUnusable("birthdate")
    try:
        born = datetime.date.fromisoformat(value)
    except ValueError:
        raise IdentityUnusable("birthdate") from None
    if birth_date_problem(born):
        raise IdentityUnusable("birthdate")
    return born


def _birth_place(claims: dict) -> tuple[str, str]:
    country = claims.get("birthcountry")
    if not isinstance(country, str) or not _COUNTRY_CODE.fullmatch(country):
        raise IdentityUnusable("birthcountry")
    place = claims.get("birthplace") or ""
    if not isinstance(place, str):
        raise IdentityUnusable("birthplace")
    if country != FRANCE:
        return "", country  # born abroad: no commune (FranceConnect gives none)
    code = birth_place_code(place)
    if not code:
        raise IdentityUnusable("birthplace")
    return code, country


@dataclass(frozen=True)
class PivotIdentity:
    first_names: str
    birth_name: str
    birth_date: datetime.date
    sex: str
    birth_place_code: str
    birth_country_code: str
    usage_name: str = ""
    email: str = ""

    @classmethod
    def from_claims(cls, claims: dict) -> PivotIdentity:
        """The identity of verified userinfo claims; ``IdentityUnusable`` if one is wrong."""
        sex = _GENDERS.get(claims.get("gender"))  # type: ignore[arg-type]
        if sex is None:
            raise IdentityUnusable("gender")
        place, country = _birth_place(claims)
        email = claims.get("email")
        return cls(
            first_names=_text(claims, "given_name", required=True),
            birth_name=family_name(_text(claims, "family_name", required=True)),
            birth_date=_birth_date(claims),
            sex=sex,
            birth_place_code=place,
            birth_country_code=country,
            usage_name=family_name(_text(claims, "preferred_username", required=False)),
            email=email.strip() if isinstance(email, str) and len(email) <= 254 else "",
        )

    def matching_fields(self) -> dict:
        """The arguments of moncompte.identity.matching.match_person (no identifier)."""
        return {
            "first_names": self.first_names,
            "birth_name": self.birth_name,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "birth_place_code": self.birth_place_code,
            "birth_country_code": self.birth_country_code,
        }

    def to_session(self) -> dict:
        data = asdict(self)
        data["birth_date"] = self.birth_date.isoformat()
        return data

    @classmethod
    def from_session(cls, data: dict) -> PivotIdentity:
        return cls(**{**data, "birth_date": datetime.date.fromisoformat(data["birth_date"])})
