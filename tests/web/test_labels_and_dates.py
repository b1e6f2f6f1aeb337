"""French on the pages: "1er décembre", "en tant qu'enfant", roles and birth places by name."""

import datetime
import json
import pathlib
import re

import pytest
from django.template import Context, Template

from moncompte.identity.models import IdentityCheck
from moncompte.notifications.rendering import message_render
from moncompte.web.templatetags.french import date_fr, elide
from tests.conftest import sign_in
from tests.web.test_signup_pages import _signup, media  # noqa: F401  (fixture)

ROOT = pathlib.Path(__file__).resolve().parents[2] / "moncompte"
PAGE = "/mon-compte/mes-donnees/"
EXPORT_HTML = "/mon-compte/mes-donnees/export/"
EXPORT_JSON = "/mon-compte/mes-donnees/export.json"


def _text(response) -> str:
    """The page's text, tags dropped and white space folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.mark.parametrize(
    ("value", "date_format", "expected"),
    [
        (datetime.date(2026, 12, 1), "j F Y", "1er décembre 2026"),
        (datetime.date(2026, 12, 2), "j F Y", "2 décembre 2026"),
        (datetime.date(2026, 12, 21), "j F Y", "21 décembre 2026"),
        (datetime.datetime(2026, 1, 1, 9, 5), "j F Y à H:i", "1er janvier 2026 à 09:05"),
        (datetime.date(2026, 12, 1), r"\j j", "j 1er"),  # an escaped "j" stays a letter
        (None, "j F Y", ""),
    ],
)
def test_date_fr_writes_the_first_of_the_month_as_an_ordinal(value, date_format, expected):
    assert date_fr(value, date_format) == expected


def test_date_fr_is_a_builtin_of_every_template_and_uses_local_time(settings):
    settings.TIME_ZONE = "Europe/Paris"
    # 23:30 UTC on 30 November is 1 December in Paris.
    at = datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.UTC)
    assert Template("{{ at|date_fr }}").render(Context({"at": at})) == "1er décembre 2026"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("enfant", "qu'enfant"),
        ("autre personne à charge", "qu'autre personne à charge"),
        ("Élève", "qu'Élève"),
        ("responsable du dossier", "que responsable du dossier"),
        ("conjoint ou conjointe", "que conjoint ou conjointe"),
        ("", "que "),
    ],
)
def test_elide(text, expected):
    assert elide(text, "que") == expected


def test_no_template_writes_a_day_with_the_plain_date_filter():
    # "|date:"j F Y"" writes "1 décembre": every French date goes through date_fr.
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in ROOT.rglob("templates/**/*")
        if path.is_file()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\|date:\s*[\"'][^\"']*\bj\b", line)
    ]
    assert offenders == []


@pytest.mark.django_db
def test_dates_on_the_first_roles_and_places_on_the_own_data_pages(client, family):
    child = family.child.person
    child.birth_date = child.birth_date.replace(day=1)
    child.birth_place_code = "75115"
    child.birth_country_code = "99100"
    child.save()
    sign_in(client, *family.child.credentials)
    page = _text(client.get(PAGE))
    assert f"1er {child.birth_date:%m}" not in page  # written in words, not digits
    assert re.search(r"Date de naissance 1er \w+ \d{4}", page), page
    assert "Commune de naissance Paris 15e Arrondissement (75)" in page
    assert "Pays de naissance France" in page
    assert "75115" not in page and "99100" not in page

    export = _text(client.get(EXPORT_HTML))
    assert re.search(r"Date de naissance 1er \w+ \d{4}", export)
    assert "Paris 15e Arrondissement (75), code INSEE 75115" in export
    assert "France, code INSEE 99100" in export
    assert "Enfant (enfant)" not in export and "(enfant)" not in export
    assert re.search(r"<td>Enfant</td>", client.get(EXPORT_HTML).content.decode())

    identity = json.loads(client.get(EXPORT_JSON).content)["identite"]
    assert identity["commune_de_naissance_code_insee"] == "75115"
    assert identity["commune_de_naissance"] == "Paris 15e Arrondissement (75)"
    assert identity["pays_de_naissance_code_insee"] == "99100" and identity["pays_de_naissance"] == "France"


@pytest.mark.django_db
def test_an_unknown_code_is_shown_as_a_code(client, family):
    person = family.responsible.person
    person.birth_place_code, person.birth_country_code = "", "99141"  # the former RDA: in no source
    person.save()
    sign_in(client, *family.responsible.credentials)
    assert "Pays de naissance 99141 (code INSEE)" in _text(client.get(PAGE))
    assert "Pays de naissance 99141 (code INSEE)" in _text(client.get(EXPORT_HTML))
    assert json.loads(client.get(EXPORT_JSON).content)["identite"]["pays_de_naissance"] is None


@pytest.mark.django_db
def test_the_child_is_attached_en_tant_qu_enfant(client, family):
    sign_in(client, *family.child.credentials)
    page = _text(client.get("/mon-compte/"))
    assert "en tant que enfant" not in page
    assert "en tant qu'enfant" in page or "en tant qu&#x27;enfant" in page


@pytest.mark.django_db
@pytest.mark.usefixtures("deliver_messages")
def test_a_birth_place_typed_by_name_is_shown_not_lost(client, family, media):  # noqa: F811
    # "Lyon (69)" names no code: it is kept on the identity check and shown on the person's page,
    # where "Non renseignée" was written.
    response = _signup(client, has_nir="non", identifier="", birth_place="Lyon (69)")
    assert response.status_code == 302
    check = IdentityCheck.objects.get(birth_place_label="Lyon (69)")
    assert check.person.birth_place_code == ""
    page = _text(client.get(PAGE))
    assert "Commune de naissance Lyon (69) (telle que vous l" in page
    assert "Non renseignée" not in page


@pytest.mark.django_db
@pytest.mark.usefixtures("deliver_messages")
def test_a_birth_place_abroad_is_shown_not_lost(client, family, media):  # noqa: F811
    assert (
        _signup(client, has_nir="non", identifier="", birth_country="99350", birth_place="Casablanca").status_code
        == 302
    )
    page = _text(client.get(PAGE))
    assert "Commune de naissance Casablanca" in page and "Pays de naissance Maroc" in page


def test_messages_write_the_first_of_the_month_too():
    at = datetime.datetime(2026, 12, 1, 8, 30, tzinfo=datetime.UTC)
    body = message_render(channel="email", template="password_changed", context={"changed_at": at}).body
    assert "le 1er décembre 2026 à 09:30 (heure de Paris)" in body
