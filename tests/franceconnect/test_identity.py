"""The pivot identity read from FranceConnect's claims (moncompte.franceconnect.identity)."""

import datetime

import pytest

from moncompte.franceconnect.identity import IdentityUnusable, PivotIdentity

CLAIMS = {
    "given_name": "Léa  Marie",
    "family_name": "d'Arc",
    "birthdate": "1990-03-21",
    "gender": "female",
    "birthplace": "75112",
    "birthcountry": "99100",
    "preferred_username": "dupont",
    "email": "lea@example.fr",
}


def test_the_claims_in_our_written_forms():
    identity = PivotIdentity.from_claims(CLAIMS)
    assert identity.first_names == "Léa Marie"
    assert identity.birth_name == "D'ARC"
    assert identity.usage_name == "DUPONT"
    assert identity.birth_date == datetime.date(1990, 3, 21)
    assert identity.sex == "F"
    assert (identity.birth_place_code, identity.birth_country_code) == ("75112", "99100")
    assert PivotIdentity.from_claims({**CLAIMS, "gender": "male"}).sex == "M"


def test_born_abroad_has_no_commune():
    identity = PivotIdentity.from_claims({**CLAIMS, "birthplace": "", "birthcountry": "99350"})
    assert (identity.birth_place_code, identity.birth_country_code) == ("", "99350")


def test_corsica_codes_are_canonical():
    assert PivotIdentity.from_claims({**CLAIMS, "birthplace": "2a004"}).birth_place_code == "2A004"


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("given_name", None),
        ("given_name", "   "),
        ("family_name", ""),
        ("family_name", 42),
        ("birthdate", "21/03/1990"),
        ("birthdate", "1990-02-30"),
        ("birthdate", "2999-01-01"),
        ("gender", "other"),
        ("gender", None),
        ("birthcountry", "France"),
        ("birthcountry", None),
        ("birthplace", ""),  # born in France without a commune: malformed
        ("birthplace", "Paris"),
        ("given_name", "x" * 201),
    ],
)
def test_a_missing_or_malformed_claim_makes_the_identity_unusable(claim, value):
    claims = {**CLAIMS, claim: value}
    if value is None:
        del claims[claim]
    with pytest.raises(IdentityUnusable) as unusable:
        PivotIdentity.from_claims(claims)
    assert unusable.value.claim == claim
    assert str(value) not in str(unusable.value) or value in ("", None)


def test_the_identity_goes_through_the_session_unchanged():
    identity = PivotIdentity.from_claims(CLAIMS)
    assert PivotIdentity.from_session(identity.to_session()) == identity
