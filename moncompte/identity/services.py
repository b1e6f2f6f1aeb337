"""Writes on persons."""

import datetime

from django.db import transaction

from moncompte.identity.identifiers import Identifier, IdentifierKind
from moncompte.identity.models import IdentifierType, Person
from moncompte.identity.protection import encrypt_identifier, identifier_digest


def person_create(
    *,
    identifier: Identifier,
    first_names: str,
    birth_name: str,
    birth_date: datetime.date,
    sex: str,
    usage_name: str = "",
    birth_place_code: str = "",
    birth_country_code: str = "99100",
    identifier_type: str | None = None,
) -> Person:
    """Record a person under their primary identifier, stored as a keyed hash and a ciphertext."""
    if identifier_type is None:
        identifier_type = {
            IdentifierKind.NIR: IdentifierType.NIR,
            IdentifierKind.NNP: IdentifierType.NNP,
            IdentifierKind.PROVISIONAL: IdentifierType.PROVISIONAL,
        }[identifier.kind]
    with transaction.atomic():
        return Person.objects.create(
            identifier_type=identifier_type,
            identifier_digest=identifier_digest(identifier.value),
            identifier_encrypted=encrypt_identifier(identifier.value),
            first_names=first_names,
            birth_name=birth_name.upper(),
            usage_name=usage_name.upper(),
            birth_date=birth_date,
            sex=sex,
            birth_place_code=birth_place_code,
            birth_country_code=birth_country_code,
        )
