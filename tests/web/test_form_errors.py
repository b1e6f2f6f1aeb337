"""After a failed submit: the focus goes to the error summary (one autofocus per page), and the
birth-date error is tied to each of its inputs, not to the group only."""

import re

import pytest

from tests.conftest import sign_in
from tests.web.test_signup_pages import identity_data

pytestmark = pytest.mark.django_db

AUTOFOCUS = re.compile(r"<[^>]*\sautofocus[\s>=][^>]*>")


def _autofocused(body: str) -> list[str]:
    return AUTOFOCUS.findall(body)


def _assert_focus_on_the_summary(response):
    body = response.content.decode()
    focused = _autofocused(body)
    assert len(focused) == 1, focused
    assert "data-error-summary" in focused[0] and 'tabindex="-1"' in focused[0] and 'role="alert"' in focused[0]


# Fields sent empty, as a browser sends them (an empty POST would give an unbound form).
PUBLIC_FORMS = [
    ("/creer-mon-compte/", {name: "" for name in identity_data()}),
    ("/creer-mon-compte/", identity_data(birth_day="31", birth_month="02")),
    ("/connexion/", {"identifier": "", "password": ""}),
    ("/mot-de-passe-oublie/", {"identifier": ""}),
    ("/identifiant-oublie/", {"contact": ""}),
    ("/invitation/", {"code": "", "identifier": "", "birth_day": "", "birth_month": "", "birth_year": ""}),
    ("/demander-une-invitation/", {"identifier": "", "birth_day": "", "birth_month": "", "birth_year": ""}),
]


@pytest.mark.parametrize(("url", "data"), PUBLIC_FORMS)
def test_a_failed_submit_puts_the_focus_on_the_one_error_summary(client, url, data):
    _assert_focus_on_the_summary(client.post(url, data))


def test_no_autofocus_before_any_submit(client):
    for url, _ in PUBLIC_FORMS:
        assert _autofocused(client.get(url).content.decode()) == [], url


def test_signed_in_forms_too(client, family):
    sign_in(client, *family.responsible.credentials)
    # The own-data page holds a form and links: one summary, one autofocus.
    _assert_focus_on_the_summary(client.post("/mon-compte/mes-donnees/rectification/", {"field": "", "message": ""}))
    _assert_focus_on_the_summary(client.post("/mon-compte/foyer/separation/", {"separated_day": "", "leaving": ""}))


def _input(body: str, name: str) -> str:
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', body).group(0)


@pytest.mark.parametrize(
    "dates",
    [
        {"birth_day": "31", "birth_month": "02", "birth_year": "2000"},  # no such date
        {"birth_day": "", "birth_month": "", "birth_year": ""},  # nothing typed
        {"birth_day": "12", "birth_month": "", "birth_year": "1990"},  # incomplete
        {"birth_day": "12", "birth_month": "05", "birth_year": "90"},  # 2-digit year
        {"birth_day": "aa", "birth_month": "05", "birth_year": "1990"},  # not digits
    ],
)
def test_the_birth_date_error_is_tied_to_each_input(client, dates):
    response = client.post("/creer-mon-compte/", identity_data(has_nir="non", identifier="", **dates))
    assert response.status_code == 400
    body = response.content.decode()
    message = re.search(r'<div class="fr-messages-group" id="date-naissance-erreur"[^>]*>(.*?)</div>', body, re.S)
    assert message and "fr-message--error" in message.group(1)
    for name in ("birth_day", "birth_month", "birth_year"):
        tag = _input(body, name)
        assert 'aria-invalid="true"' in tag, tag
        described = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
        assert "date-naissance-erreur" in described and f"id_{name}-aide" in described
        assert f'id="id_{name}-aide"' in body
    # The group keeps its legend and says it is in error (DSFR fr-fieldset--error).
    assert re.search(
        r'<fieldset class="fr-fieldset fr-fieldset--error"[^>]*aria-labelledby="date-naissance-legende', body
    )
    assert '<legend class="fr-fieldset__legend' in body


def test_without_error_the_birth_inputs_are_not_invalid(client):
    response = client.post("/creer-mon-compte/", identity_data(has_nir="non", identifier="", postal_code="x"))
    body = response.content.decode()
    for name in ("birth_day", "birth_month", "birth_year"):
        tag = _input(body, name)
        assert "aria-invalid" not in tag and "date-naissance-erreur" not in tag
        assert f'value="{identity_data()[name]}"' in tag
