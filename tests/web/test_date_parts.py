"""Every date the web channel asks is typed in three parts, day, month and year (issue 9: the
browser's type="date" follows its locale, mm/dd/yyyy seen), with one rule and one template
(moncompte.web.forms.DateParts, web/_date_parts.html)."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from django import forms

import moncompte.web
from moncompte.web.forms import DatePartsMixin
from tests.conftest import sign_in
from tests.web.test_signup_pages import identity_data

pytestmark = pytest.mark.django_db

TEMPLATES = Path(moncompte.web.__file__).parent / "templates"


def _web_forms() -> list[type[forms.BaseForm]]:
    found = set()
    for module in pkgutil.walk_packages(moncompte.web.__path__, "moncompte.web."):
        if module.name.endswith(".forms"):
            for _, value in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
                if issubclass(value, forms.BaseForm) and value.__module__.startswith("moncompte.web"):
                    found.add(value)
    return sorted(found, key=lambda form: form.__qualname__)


def test_no_form_of_the_web_channel_has_a_browser_date_field():
    web_forms = _web_forms()
    assert {"IdentityForm", "SeparationForm", "InvitationIdentityForm", "InvitationRequestForm"} <= {
        form.__name__ for form in web_forms
    }
    for form in web_forms:
        for name, field in form.base_fields.items():
            assert not isinstance(field, forms.DateField | forms.DateTimeField), (form, name)
            assert getattr(field.widget, "input_type", None) not in {"date", "datetime-local"}, (form, name)
    for template in TEMPLATES.rglob("*.html"):
        assert not re.search(r"""type=["']?date""", template.read_text()), template


def test_every_date_of_a_form_is_declared_as_its_three_parts():
    for form in _web_forms():
        if issubclass(form, DatePartsMixin):
            for parts in form.date_parts:
                assert set(parts.names) <= set(form.base_fields), (form, parts.names)


# The four forms: their page, the POST of a wrong date (31 February) and the id of the date.
FORMS = {
    "signup": ("/creer-mon-compte/", identity_data(has_nir="non", identifier=""), "birth", "date-naissance"),
    "invitation": ("/invitation/", {"code": "ABCD-EFGH", "identifier": ""}, "birth", "date-naissance"),
    "invitation_request": ("/demander-une-invitation/", {"identifier": ""}, "birth", "date-naissance"),
    "separation": ("/mon-compte/foyer/separation/", {"leaving": "moi"}, "separated", "date-separation"),
}


@pytest.mark.parametrize("which", FORMS)
@pytest.mark.parametrize(("day", "month", "year"), [("31", "02", "2000"), ("", "", ""), ("12", "", "2000")])
def test_each_form_ties_its_date_error_to_the_three_inputs(client, family, which, day, month, year):
    url, data, prefix, html_id = FORMS[which]
    if which == "separation":
        sign_in(client, *family.responsible.credentials)
    page = client.get(url).content.decode()
    assert 'type="date"' not in page
    for part in ("day", "month", "year"):
        assert 'aria-invalid="true"' not in re.search(rf'<input[^>]*name="{prefix}_{part}"[^>]*>', page).group(0)
    parts = {f"{prefix}_day": day, f"{prefix}_month": month, f"{prefix}_year": year}
    response = client.post(url, {**data, **parts})
    assert response.status_code == 400
    body = response.content.decode()
    error = re.search(rf'<div class="fr-messages-group" id="{html_id}-erreur"[^>]*>\s*<p[^>]*>([^<]+)</p>', body)
    assert error and error.group(1).strip(), body
    for part in ("day", "month", "year"):
        tag = re.search(rf'<input[^>]*name="{prefix}_{part}"[^>]*>', body).group(0)
        assert 'type="text"' in tag and 'inputmode="numeric"' in tag
        assert 'aria-invalid="true"' in tag, tag
        described = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
        assert described == [f"id_{prefix}_{part}-aide", f"{html_id}-erreur"], tag
        autocomplete = re.search(r'autocomplete="([^"]+)"', tag)
        assert (autocomplete and autocomplete.group(1)) == (f"bday-{part}" if prefix == "birth" else None), tag
    assert re.search(rf'<fieldset class="fr-fieldset fr-fieldset--error"[^>]*aria-labelledby="{html_id}-legende', body)
    # The error summary names the date, and leads to its first wrong part.
    summary = re.search(r'<div class="fr-alert fr-alert--error.*?</div>', body, re.S).group(0)
    assert re.search(rf'<a href="#id_{prefix}_(day|month|year)">[^<]*[Dd]ate [^<]+</a>', summary), summary
