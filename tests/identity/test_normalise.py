"""The one written form of names and birth data (moncompte.identity.normalise)."""

import datetime

import pytest

from moncompte.identity.normalise import (
    BIRTH_DATE_IN_FUTURE,
    BIRTH_DATE_TOO_OLD,
    MIN_BIRTH_DATE,
    birth_date_problem,
    birth_place_code,
    display_name,
    family_name,
    first_name_key,
    name_key,
    parse_birth_date,
)

TODAY = datetime.date(2026, 12, 1)


@pytest.mark.parametrize(
    "typed, key",
    [
        ("Léa-Marie d'Arc", "LEA MARIE D ARC"),
        ("LEA MARIE D ARC", "LEA MARIE D ARC"),
        ("  Œdipe   O’Neil-Smith. ", "OEDIPE O NEIL SMITH"),
        ("Zoë, Anaïs", "ZOE ANAIS"),
        ("Ñúñez", "NUNEZ"),
        ("Læticia Straße", "LAETICIA STRASSE"),
        ("Jean_Paul", "JEAN PAUL"),
        ("Lé\u0301a", "LEA"),  # a combining accent typed apart
        ("Lea\u00a0Marie", "LEA MARIE"),  # a non-breaking space
        ("Ｌéa", "LEA"),  # a full-width letter
        ("Δήμητρα", "ΔΗΜΗΤΡΑ"),  # letters of any alphabet are kept
        ("", ""),
        (None, ""),
        ("'-.", ""),
    ],
)
def test_name_key(typed, key):
    assert name_key(typed) == key


@pytest.mark.parametrize(
    "a, b",
    [("Léa-Marie", "LEA MARIE"), ("d'Arc", "D’ARC"), ("Dupont ", " dupont"), ("Lefèvre", "LEFEVRE")],
)
def test_names_written_differently_have_one_key(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    "first_names, key",
    [("Léa-Marie Jeanne", "LEA"), ("  jean  pierre", "JEAN"), ("", ""), ("-", "")],
)
def test_first_name_key(first_names, key):
    assert first_name_key(first_names) == key


@pytest.mark.parametrize(
    "typed, shown",
    [
        ("  Léa   Marie ", "Léa Marie"),
        ("Le\u0301a", "Léa"),  # composed: stored and shown one way
        ("d'Arc", "d'Arc"),
        ("", ""),
        (None, ""),
    ],
)
def test_display_name_folds_white_space_only(typed, shown):
    assert display_name(typed) == shown


@pytest.mark.parametrize("typed, stored", [(" d'Arc ", "D'ARC"), ("Lefèvre  Martin", "LEFÈVRE MARTIN"), ("", "")])
def test_family_name_is_stored_in_capitals(typed, stored):
    assert family_name(typed) == stored


@pytest.mark.parametrize(
    "value, problem",
    [
        (TODAY, None),
        (MIN_BIRTH_DATE, None),
        (datetime.date(1984, 12, 14), None),
        (TODAY + datetime.timedelta(days=1), BIRTH_DATE_IN_FUTURE),
        (MIN_BIRTH_DATE - datetime.timedelta(days=1), BIRTH_DATE_TOO_OLD),
    ],
)
def test_birth_date_bounds(value, problem):
    assert birth_date_problem(value, today=TODAY) == problem


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("1984-12-14", datetime.date(1984, 12, 14)),
        ("14/12/1984", datetime.date(1984, 12, 14)),
        (" 14/12/1984 ", datetime.date(1984, 12, 14)),
        ("1890-01-01", datetime.date(1890, 1, 1)),
        ("1889-12-31", None),
        ("2026-12-02", None),  # after TODAY
        ("31/02/1984", None),
        ("1984-02-30", None),
        ("14-12-1984", None),
        ("19841214", None),
        ("+1/12/1984", None),
        ("1984/12/14", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_birth_date(text, parsed):
    assert parse_birth_date(text, today=TODAY) == parsed


@pytest.mark.parametrize(
    "typed, code",
    [("69383", "69383"), ("2a004", "2A004"), (" 75 115 ", "75115"), ("Lyon", ""), ("6938", ""), ("2C004", "")],
)
def test_birth_place_code(typed, code):
    assert birth_place_code(typed) == code


def test_the_forms_accept_every_birth_date_the_import_accepts():
    """One bound: a person the legacy import recorded can always prove their birth date."""
    oldest = parse_birth_date("01/01/1890", today=TODAY)
    assert oldest is not None and birth_date_problem(oldest, today=TODAY) is None
