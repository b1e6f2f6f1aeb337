"""Every way in from the sign-in page (issue 9, point 1).

- the old identifiers (numéro allocataire, 7 digits; old code, 8 digits) typed on /connexion/ get
  the explanation of the change of 9 October 2021 and a button to the first connection, the
  numéro kept in the session (never in a URL), the code kept nowhere (nor logged, nor journaled);
  NIR, NNP and provisional identifiers are not mistaken for it;
- the three ways (first connection, account creation, a household member's own account) on the
  sign-in page and on the first connection's intro, with their links;
- the refusals of the first connection point to the invitation request and the account creation;
- the sign-in page's password has the DSFR "Afficher" box, its hint's example NIR belongs to
  nobody (the demo's people included), its error alert takes the focus.
"""

import html
import io
import json
import logging
import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from moncompte.accounts.models import LegacyCodeAttempt, LegacyCredential
from moncompte.audit.models import JournalEntry
from moncompte.identity.identifiers import IdentifierError, parse_identifier
from moncompte.identity.models import Person
from moncompte.web.forms import AccountIdentifierField
from tests.conftest import sign_in
from tests.factories import AccountFactory, CafFactory, PersonFactory, make_household

pytestmark = pytest.mark.django_db

SIGNIN = "/connexion/"
FILE_STEP = "/premiere-connexion/dossier/"
NIR_STEP = "/premiere-connexion/numero-securite-sociale/"
FLOW_KEY = "moncompte_first_connection"
# A code that no factory makes (theirs count up from 40000000): found only where we put it.
OLD_CODE = "73829104"
CHANGED = "La connexion a changé le 9 octobre 2021"


@pytest.fixture
def newcomers(db):
    """A household of a Paris Caf without accounts, its file keeping the old code OLD_CODE."""
    return make_household(caf=CafFactory(departement="75"), accounts=False, legacy_code=OLD_CODE)


def _spaced(numero: str) -> str:
    return f"{numero[:3]} {numero[3:5]} {numero[5:]}"


def _hrefs_and_actions(body: str) -> list[str]:
    return re.findall(r'(?:href|action|src)="([^"]*)"', body)


def _session_text(client: Client) -> str:
    return json.dumps(dict(client.session.items()), default=str)


def _log_file_text() -> str:
    """What this run's logging pipeline wrote to its file (tests/support/log_scan.py), if any."""
    path = os.environ.get("MONCOMPTE_LOG_FILE")
    return Path(path).read_text(errors="replace") if path and Path(path).exists() else ""


# The old identifiers ---------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["", "not a code"], ids=["no-password", "a-password"])
def test_an_old_numero_gets_the_explanation_and_the_button_the_numero_kept_in_the_session(client, newcomers, password):
    numero = newcomers.dossier.numero
    response = client.post(SIGNIN, {"identifier": _spaced(numero), "password": password})
    body = response.content.decode()

    assert response.status_code == 200
    assert "vous en avez saisi 7" not in body and "fr-error-text" not in body
    assert CHANGED in body
    assert "numéro de sécurité sociale, celui de votre carte Vitale, et un mot de passe" in body
    assert "ne servent plus qu'une fois : pour la première connexion" in body
    assert "Votre code confidentiel, lui, n'est pas gardé : vous le saisirez à nouveau" in body
    assert "et un code confidentiel à 8 chiffres" not in body
    assert re.search(r'<a class="fr-btn" href="/premiere-connexion/dossier/">Faire ma première connexion', body)
    assert re.search(r'id="ancien-identifiant"', body) and 'tabindex="-1" autofocus id="ancien-identifiant"' in body
    # Kept in the server-side session only: no URL of the page holds it, and the form is empty.
    assert client.session[FLOW_KEY]["numero"] == numero
    assert not [url for url in _hrefs_and_actions(body) if numero in url]
    assert f'value="{numero}"' not in body and f'value="{_spaced(numero)}"' not in body
    # Not a sign-in attempt: nothing looked up, counted or journaled.
    assert not JournalEntry.objects.exists() and not LegacyCodeAttempt.objects.exists()


def test_the_old_code_is_recognised_and_kept_nowhere(client, newcomers, caplog):
    numero = newcomers.dossier.numero
    with caplog.at_level(logging.DEBUG):
        response = client.post(SIGNIN, {"identifier": numero, "password": f"{OLD_CODE[:4]} {OLD_CODE[4:]}"})
        file_step = client.get(FILE_STEP)
    body = response.content.decode()

    assert response.status_code == 200 and CHANGED in body
    assert "Vous avez saisi un numéro allocataire et un code confidentiel à 8 chiffres." in body
    assert client.session[FLOW_KEY]["numero"] == numero
    for where, text in {
        "the page": body,
        "the file step": file_step.content.decode(),
        "the session": _session_text(client),
        "the logs": "\n".join(record.getMessage() for record in caplog.records),
        "the log file": _log_file_text(),
        "the journal": json.dumps(list(JournalEntry.objects.values()), default=str),
    }.items():
        assert OLD_CODE not in text and OLD_CODE[:4] + " " + OLD_CODE[4:] not in text, f"the old code in {where}"
    assert not LegacyCodeAttempt.objects.exists()


def test_the_file_step_shows_the_kept_numero_and_opens_the_file_with_the_code_typed_again(client, newcomers):
    numero = newcomers.dossier.numero
    client.post(SIGNIN, {"identifier": numero, "password": OLD_CODE})

    page = client.get(FILE_STEP).content.decode()
    assert re.search(rf'<input[^>]*id="id_numero"[^>]*value="{numero}"', page)
    assert not re.search(r'<input[^>]*id="id_code"[^>]*value=', page)
    assert "Saisissez à nouveau votre code confidentiel à 8 chiffres" in page

    response = client.post(FILE_STEP, {"place": "75011", "numero": numero, "code": OLD_CODE})
    assert response.status_code == 302 and response["Location"] == NIR_STEP
    # The proved file replaced the kept numéro.
    assert "numero" not in client.session[FLOW_KEY] and client.session[FLOW_KEY]["dossier_id"]


def test_the_kept_numero_does_not_open_the_next_steps(client, newcomers):
    client.post(SIGNIN, {"identifier": newcomers.dossier.numero, "password": OLD_CODE})
    assert client.get(NIR_STEP)["Location"] == FILE_STEP
    assert client.get("/premiere-connexion/mot-de-passe/")["Location"] == FILE_STEP


def test_without_a_kept_numero_the_file_step_is_empty(client, newcomers):
    page = client.get(FILE_STEP).content.decode()
    assert not re.search(r'<input[^>]*id="id_numero"[^>]*value=', page) and "numero-garde" not in page


def _identifiers(kind: str):
    if kind == "nir":
        person = PersonFactory()
        return person.raw_identifier
    if kind == "nir-without-key":
        return "".join(PersonFactory().raw_identifier.split())[:13]
    if kind == "nnp":
        return PersonFactory(nnp=True).raw_identifier
    return PersonFactory(provisional=True).raw_identifier


@pytest.mark.parametrize("kind", ["nir", "nir-without-key", "nnp", "provisional"])
def test_nir_nnp_and_provisional_identifiers_sign_in_as_before(client, kind):
    raw = _identifiers(kind)
    person = Person.objects.with_identifier(parse_identifier(raw).value).get()
    account = AccountFactory(person=person)
    response = sign_in(client, raw, account.raw_password)
    # Signed in (where to is the onboarding's business), nothing kept for a first connection.
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(account.pk)
    assert FLOW_KEY not in client.session


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("123456", "vous en avez saisi 6"),
        ("12345678", "vous en avez saisi 8"),
        ("1 85 05 75 1", "vous en avez saisi 8"),
        ("P-12345-6", "L'identifiant provisoire compte 11 caractères"),
        ("P123456", "L'identifiant provisoire compte 11 caractères"),  # a P and 6 digits is no numéro
    ],
)
def test_other_wrong_shapes_keep_their_own_error(client, raw, error):
    response = sign_in(client, raw, OLD_CODE)
    body = html.unescape(response.content.decode())
    assert response.status_code == 400 and error in body and CHANGED not in body
    assert FLOW_KEY not in client.session


def test_a_nir_with_an_eight_digit_password_is_a_sign_in_attempt(client, family):
    response = sign_in(client, family.responsible.identifier, OLD_CODE)
    assert response.status_code == 401 and CHANGED not in response.content.decode()
    assert FLOW_KEY not in client.session


# The three ways --------------------------------------------------------------------------------


def _ways(body: str) -> str:
    match = re.search(r'<section class="fr-mt-6w" aria-labelledby="trois-facons-titre">.*?</section>', body, re.S)
    assert match, "the three ways are missing"
    return match.group(0)


@pytest.mark.parametrize(
    ("page", "first_way"),
    [(SIGNIN, "/premiere-connexion/"), ("/premiere-connexion/", FILE_STEP)],
    ids=["signin", "first-connection-intro"],
)
def test_the_three_ways_with_their_links(client, page, first_way):
    ways = _ways(client.get(page).content.decode())
    headings = [html.unescape(h) for h in re.findall(r'<h3 class="fr-card__title">([^<]+)</h3>', ways)]
    assert headings == [
        "Vous êtes allocataire",
        "Vous n'êtes pas encore allocataire",
        "Vous êtes membre d'un foyer allocataire et avez plus de 15 ans",
    ]
    card = r'<div class="fr-card fr-card--no-arrow" id="([^"]+)">(.*?)(?=<div class="fr-col|</section>)'
    cards = re.findall(card, ways, re.S)
    links = {name: _hrefs_and_actions(card) for name, card in cards}
    assert links["facon-allocataire"] == [first_way]
    assert links["facon-nouveau"] == [reverse("web:procedure_public"), reverse("web:signup")]
    assert links["facon-membre"] == [
        reverse("web:invitation_request"),
        reverse("web:signup"),
        reverse("web:help") + "#membres-du-foyer",
    ]
    assert "9 octobre 2021" in ways and "16 ans ou plus" in ways


def test_the_signin_page_links_the_forgotten_password_and_identifier_and_the_help(client):
    body = client.get(SIGNIN).content.decode()
    assert f'href="{reverse("web:password_reset")}">Mot de passe oublié ?</a>' in body
    assert f'href="{reverse("web:identifier_reminder")}">Identifiant oublié ?</a>' in body
    assert f'href="{reverse("web:help")}#nouvelle-connexion"' in body
    assert 'href="tel:+33969325252"' in body


# The refusals of the first connection ----------------------------------------------------------


def _ways_out(body: str) -> list[str]:
    match = re.search(r'id="premiere-connexion-autres-facons">(.*?)</(?:div|ul|p)>\s*(?:<form|{)', body, re.S)
    assert match, "the refusal's ways out are missing"
    return _hrefs_and_actions(match.group(1))


def test_the_spouse_who_types_the_old_code_after_the_first_connection_is_pointed_to_both_ways(client, newcomers):
    """The responsible person did the first connection (the code retired on the web); the spouse,
    who has no account, types the household's old code."""
    credential = LegacyCredential.objects.get(dossier=newcomers.dossier)
    credential.retired_on_web_at = timezone.now()
    credential.save(update_fields=["retired_on_web_at"])

    response = client.post(FILE_STEP, {"place": "75011", "numero": newcomers.dossier.numero, "code": OLD_CODE})
    body = response.content.decode()
    assert response.status_code == 400
    assert "demandez une invitation au responsable du dossier, ou créez votre compte seul(e)" in body
    links = _ways_out(body)
    assert reverse("web:invitation_request") in links and reverse("web:signup") in links
    assert reverse("web:signin") in links and reverse("web:help") + "#membres-du-foyer" in links


def test_the_child_of_17_refused_at_the_first_connection_is_pointed_to_both_ways(client, newcomers):
    response = client.post(FILE_STEP, {"place": "75011", "numero": newcomers.dossier.numero, "code": OLD_CODE})
    assert response["Location"] == NIR_STEP
    response = client.post(NIR_STEP, {"identifier": newcomers.child.identifier})
    body = response.content.decode()
    assert response.status_code == 400
    assert "par exemple un enfant de 16 ou 17 ans ? Vous pouvez avoir votre propre compte" in body
    links = _ways_out(body)
    assert reverse("web:invitation_request") in links and reverse("web:signup") in links
    assert reverse("web:signin") not in links


def test_a_person_with_an_account_is_pointed_to_the_sign_in_and_the_reminders(client):
    household = make_household(caf=CafFactory(departement="75"), legacy_code=OLD_CODE)
    client.post(FILE_STEP, {"place": "75011", "numero": household.dossier.numero, "code": OLD_CODE})
    response = client.post(NIR_STEP, {"identifier": household.responsible.identifier})
    links = _ways_out(response.content.decode())
    assert links == [reverse("web:signin"), reverse("web:password_reset"), reverse("web:identifier_reminder")]


def test_a_wrong_code_points_to_the_help_only(client, newcomers):
    response = client.post(FILE_STEP, {"place": "75011", "numero": newcomers.dossier.numero, "code": "00000000"})
    assert response.status_code == 400
    assert _ways_out(response.content.decode()) == [reverse("web:help") + "#premiere-connexion"]


# The password's "Afficher", the hint's example, the error alert -----------------------------


def test_the_signin_password_has_the_dsfr_show_box(client):
    body = client.get(SIGNIN).content.decode()
    start = '<div class="fr-password fr-input-group" id="id_password-groupe">'
    group = re.search(re.escape(start) + r"(.*?)\n          </div>\n", body, re.S)
    assert group, "no DSFR password group"
    group = group.group(1)
    assert re.search(r'<input class="fr-password__input fr-input" type="password" id="id_password"', group)
    assert 'autocomplete="current-password"' in group
    assert re.search(r'class="fr-password__checkbox fr-checkbox-group[^"]*" data-password-toggle', group)
    assert re.search(r'<input id="id_password-afficher" type="checkbox"', group)
    assert '<label class="fr-password__checkbox fr-label" for="id_password-afficher">Afficher</label>' in group
    assert 'src="/static/web/password-toggle.js"' in body


def test_the_hint_example_belongs_to_nobody_of_the_demo(client):
    call_command("load_demo", stdout=io.StringIO())
    demo = {person.identifier.value for person in Person.objects.all()}
    assert len(demo) >= 7
    hint = AccountIdentifierField().help_text
    example = re.search(r"Exemple : ([0-9AB ]+)$", hint).group(1)
    assert f"Exemple : {example}" in client.get(SIGNIN).content.decode()
    digits = "".join(example.split())
    assert digits[:13] not in demo
    with pytest.raises(IdentifierError):  # and no one at all can hold it
        parse_identifier(example)


def test_the_error_alert_takes_the_focus(client, family):
    body = sign_in(client, family.responsible.identifier, "PasLeBonMotDePasse1").content.decode()
    assert re.search(r'role="alert" tabindex="-1" autofocus data-error-summary id="erreur-connexion">', body)
    body = sign_in(client, "", "").content.decode()  # field errors: a summary that links them
    assert re.search(r'role="alert" tabindex="-1" autofocus data-error-summary id="erreur-connexion">', body)
    assert '<a href="#id_identifier">' in body and '<a href="#id_password">' in body
    assert body.count("autofocus") == 1
