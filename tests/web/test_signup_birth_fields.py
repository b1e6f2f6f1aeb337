"""No 500 on any form with birth fields, whatever is typed (issue 9 acceptance): huge numbers,
non-digits, signs, other scripts' digits, empty. Each answer is the page again, with a French
message tied to the birth date."""

import re

import pytest

from tests.web.test_signup_pages import identity_data

pytestmark = pytest.mark.django_db

HUGE = "9" * 30
ODD_VALUES = [
    "",
    "   ",
    "0",
    "-1",
    "-2147483649",
    "2147483648",  # 2^31: the OverflowError of issue 8
    "9223372036854775808",  # 2^63
    HUGE,
    "9" * 500,
    "abc",
    "1er",
    "١٢",  # Arabic-Indic digits
    "१२",  # Devanagari digits
    "1e3",
    "0x10",
    "12.5",
    "½",
    "12\u200b",
    "<script>",
]

# The three inputs of the account creation, each given a value of its own in turn.
SIGNUP_FIELDS = ("birth_day", "birth_month", "birth_year")


@pytest.mark.parametrize("field", SIGNUP_FIELDS)
@pytest.mark.parametrize("value", ODD_VALUES)
def test_signup_identity_birth_fields(client, field, value):
    response = client.post("/creer-mon-compte/", identity_data(has_nir="non", identifier="", **{field: value}))
    assert response.status_code == 400
    body = response.content.decode()
    assert "fr-fieldset--error" in body and "date-naissance-erreur" in body


@pytest.mark.parametrize(
    ("day", "month", "year"),
    [(HUGE, HUGE, HUGE), ("31", "02", "2000"), ("00", "00", "0000"), ("1", "1", "99999"), ("١", "١", "١٩٩٠")],
)
def test_signup_identity_birth_dates(client, day, month, year):
    data = identity_data(has_nir="non", identifier="", birth_day=day, birth_month=month, birth_year=year)
    response = client.post("/creer-mon-compte/", data)
    assert response.status_code == 400
    assert "date-naissance-erreur" in response.content.decode()


def test_signup_identity_full_width_digits_are_digits(client):
    data = identity_data(has_nir="non", identifier="", birth_day="１７", birth_month="０５", birth_year="１９９１")
    assert client.post("/creer-mon-compte/", data).status_code == 302


def test_signup_identity_birth_fields_missing_from_the_post(client):
    data = {k: v for k, v in identity_data(has_nir="non", identifier="").items() if k not in SIGNUP_FIELDS}
    response = client.post("/creer-mon-compte/", data)
    assert response.status_code == 400
    assert "Saisissez votre date de naissance" in response.content.decode()


@pytest.mark.parametrize("url", ["/invitation/", "/demander-une-invitation/"])
@pytest.mark.parametrize("field", SIGNUP_FIELDS)
@pytest.mark.parametrize("value", ODD_VALUES)
def test_invitation_birth_fields(client, family, url, field, value):
    parts = {"birth_day": "14", "birth_month": "12", "birth_year": "2008", field: value}
    response = client.post(url, {"code": "ABCD-EFGH", "identifier": family.spouse.identifier, **parts})
    assert response.status_code == 400, response.status_code
    body = response.content.decode()
    assert "fr-fieldset--error" in body and 'id="date-naissance-erreur"' in body
    assert re.search(r'name="birth_day"[^>]*aria-invalid="true"', body), body


@pytest.mark.parametrize("url", ["/invitation/", "/demander-une-invitation/"])
@pytest.mark.parametrize(
    ("day", "month", "year"),
    [(HUGE, HUGE, HUGE), ("31", "02", "2000"), ("00", "00", "0000"), ("1", "1", "99999"), ("1", "1", "2999")],
)
def test_invitation_birth_dates(client, family, url, day, month, year):
    data = {"code": "ABCD-EFGH", "identifier": family.spouse.identifier}
    response = client.post(url, {**data, "birth_day": day, "birth_month": month, "birth_year": year})
    assert response.status_code == 400
    assert 'id="date-naissance-erreur"' in response.content.decode()
