"""Persons, with a primary identifier that is valid and consistent with their other data."""

import datetime

import factory
import faker
from factory.random import randgen
from stdnum import luhn

from moncompte.identity.identifiers import (
    CROCKFORD_ALPHABET,
    PROVISIONAL_BODY_LENGTH,
    PROVISIONAL_PREFIX,
    Identifier,
    IdentifierKind,
)
from moncompte.identity.models import IdentifierType, Person
from moncompte.identity.protection import encrypt_identifier, identifier_digest
from moncompte.identity.services import person_create

# Faker's shared random generator, which pytest-randomly reseeds before each test.
fake = faker.Faker("fr_FR")

# Real commune codes (INSEE), so that the place digits of a NIR agree with the birth place.
BIRTH_PLACES = ("75115", "75112", "69383", "13055", "33063", "31555", "59350", "44109", "67482", "06088", "2A004")

# Canonical values handed out in this test session: two persons never share an identifier, even
# across tests, so that an identifier seen in one test never names someone else in another.
_used_values: set[str] = set()


def _unused(draw) -> str:
    for _ in range(1000):
        value = draw()
        if value not in _used_values:
            _used_values.add(value)
            return value
    raise RuntimeError("no free identifier left for these birth data")


def nir_for(*, sex: str, birth_date: datetime.date, birth_place_code: str) -> Identifier:
    """A NIR whose digits agree with the sex, the birth year and month and the birth place."""
    head = ("1" if sex == "M" else "2") + f"{birth_date.year % 100:02d}{birth_date.month:02d}" + birth_place_code
    value = _unused(lambda: head + f"{randgen.randint(1, 999):03d}")
    return Identifier(IdentifierKind.NIR, value)


def nnp() -> Identifier:
    """A provisional number of health insurance (NNP): 13 digits starting with 7 or 8."""
    value = _unused(lambda: randgen.choice("78") + "".join(randgen.choice("0123456789") for _ in range(12)))
    return Identifier(IdentifierKind.NNP, value)


def provisional() -> Identifier:
    """A Mon Compte provisional identifier (P + 9 characters + Luhn mod 32 check)."""

    def draw() -> str:
        body = "".join(randgen.choice(CROCKFORD_ALPHABET) for _ in range(PROVISIONAL_BODY_LENGTH))
        return PROVISIONAL_PREFIX + body + luhn.calc_check_digit(body, alphabet=CROCKFORD_ALPHABET)

    return Identifier(IdentifierKind.PROVISIONAL, _unused(draw))


def typed(identifier: Identifier) -> str:
    """The identifier as a person types it: "2 85 05 75 115 042 95" (with the key), "P-0A1B2-C3D4E"."""
    return identifier.display()


def birth_date_for_age(age: int, today: datetime.date | None = None) -> datetime.date:
    """A birth date such that the person is ``age`` years old today (not their birthday today)."""
    today = today or datetime.date.today()
    latest = _years_before(today, age) - datetime.timedelta(days=1)
    earliest = _years_before(today, age + 1) + datetime.timedelta(days=1)
    return earliest + datetime.timedelta(days=randgen.randint(0, (latest - earliest).days))


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


_TYPES = {
    IdentifierKind.NIR: IdentifierType.NIR,
    IdentifierKind.NNP: IdentifierType.NNP,
    IdentifierKind.PROVISIONAL: IdentifierType.PROVISIONAL,
}


def _identifier(person) -> Identifier:
    if person.kind == IdentifierKind.NNP:
        return nnp()
    if person.kind == IdentifierKind.PROVISIONAL:
        return provisional()
    return nir_for(sex=person.sex, birth_date=person.birth_date, birth_place_code=person.birth_place_code)


class PersonFactory(factory.django.DjangoModelFactory):
    """``PersonFactory(age=17)``, ``PersonFactory(kind="provisional")``, ``PersonFactory(nnp=True)``.

    The created person carries ``raw_identifier`` (as typed, key included) and ``identifier_value``
    (canonical); pass ``identifier=`` (an Identifier) to choose it.
    """

    class Meta:
        model = Person

    class Params:
        age = factory.LazyFunction(lambda: randgen.randint(25, 60))
        kind = IdentifierKind.NIR
        identifier = factory.LazyAttribute(_identifier)
        nnp = factory.Trait(kind=IdentifierKind.NNP, birth_place_code="")
        provisional = factory.Trait(kind=IdentifierKind.PROVISIONAL)

    sex = factory.LazyFunction(lambda: randgen.choice("FM"))
    first_names = factory.LazyAttribute(lambda o: fake.first_name_female() if o.sex == "F" else fake.first_name_male())
    birth_name = factory.LazyFunction(lambda: fake.last_name().upper())
    birth_date = factory.LazyAttribute(lambda o: birth_date_for_age(o.age))
    birth_place_code = factory.LazyFunction(lambda: randgen.choice(BIRTH_PLACES))
    identifier_type = factory.LazyAttribute(lambda o: _TYPES[o.identifier.kind])
    # Not a model field: handed to person_create, which stores it as the model requires (a keyed
    # hash for look-ups, a ciphertext to show it back) and writes the names as every write does.
    primary_identifier = factory.SelfAttribute("identifier")

    @classmethod
    def _create(cls, model_class, *args, primary_identifier, **kwargs):
        fields = {name: kwargs.pop(name) for name in _PERSON_CREATE_FIELDS if name in kwargs}
        person = person_create(identifier=primary_identifier, **fields)
        if kwargs:  # fields person_create does not take (created_at...): set as given
            for name, value in kwargs.items():
                setattr(person, name, value)
            person.save(update_fields=list(kwargs))
        return _with_raw_identifier(person, primary_identifier)

    @classmethod
    def _build(cls, model_class, *args, primary_identifier, **kwargs):
        person = model_class(
            *args,
            identifier_digest=identifier_digest(primary_identifier.value),
            identifier_encrypted=encrypt_identifier(primary_identifier.value),
            **kwargs,
        )
        return _with_raw_identifier(person, primary_identifier)


_PERSON_CREATE_FIELDS = (
    "first_names",
    "birth_name",
    "usage_name",
    "birth_date",
    "sex",
    "birth_place_code",
    "birth_country_code",
    "identifier_type",
)


def _with_raw_identifier(person: Person, identifier: Identifier) -> Person:
    person.identifier_value = identifier.value
    person.raw_identifier = typed(identifier)
    return person


__all__ = ["BIRTH_PLACES", "PersonFactory", "birth_date_for_age", "nir_for", "nnp", "provisional", "typed"]
