"""The FranceConnect pages without a provider: the button, FranceConnect off, and every way in
that must answer a French page (never a 500) before FranceConnect is even asked.

The flow itself, against the local provider: tests/integration/test_franceconnect_flow.py.
"""

import datetime
import socket

import pytest
from django.test import Client

from moncompte.franceconnect.identity import PivotIdentity
from moncompte.web.franceconnect.state import PREFILL
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

PAGES = [
    "/franceconnect/connexion/",
    "/franceconnect/retour/?code=c&state=s",
    "/franceconnect/confirmation/",
    "/franceconnect/non-reconnu/",
    "/franceconnect/mot-de-passe/",
    "/franceconnect/deconnexion/retour/?state=s",
]
IDENTITY = PivotIdentity(
    first_names="Camille Anne",
    birth_name="DUBOIS",
    birth_date=datetime.date(1988, 9, 30),
    sex="F",
    birth_place_code="",
    birth_country_code="99131",
)


@pytest.fixture
def franceconnect_unreachable(settings):
    """FranceConnect on, at an address where nobody listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MONCOMPTE_FRANCECONNECT_ISSUER = f"http://127.0.0.1:{port}/api/v2"
    settings.MONCOMPTE_FRANCECONNECT_CLIENT_ID = "moncompte-pages"
    return settings


def test_without_franceconnect_there_is_no_button_and_its_pages_do_not_exist(client, settings):
    settings.MONCOMPTE_FRANCECONNECT_ISSUER = ""
    for path in ("/connexion/", "/creer-mon-compte/"):
        page = client.get(path).content.decode()
        assert "fr-connect" not in page and "/franceconnect/" not in page
    for path in PAGES:
        assert client.get(path).status_code == 404, path
    assert client.post("/franceconnect/connexion/").status_code == 404


@pytest.mark.parametrize("path", ["/connexion/", "/creer-mon-compte/"])
def test_the_button_comes_first_with_its_explanation_and_the_separator(client, franceconnect_unreachable, path):
    page = client.get(path).content.decode()
    form_at = page.index('<form method="post" action="/franceconnect/connexion/">')
    button_at = page.index('class="fr-connect"')
    assert form_at < button_at < page.index('<p class="fr-hr-or">ou</p>')
    own_form = "/connexion/" if path == "/connexion/" else "/creer-mon-compte/"
    assert page.index('<p class="fr-hr-or">ou</p>') < page.index(f'action="{own_form}"')
    assert '<span class="fr-connect__brand">FranceConnect</span>' in page
    # "Qu'est-ce que FranceConnect ?", in a new window that is announced.
    assert 'href="https://franceconnect.gouv.fr/"' in page and 'target="_blank"' in page
    assert "Qu’est-ce que FranceConnect\xa0? - Ouvre une nouvelle fenêtre" in page
    # A form: no JavaScript needed, and its CSRF token.
    assert 'name="csrfmiddlewaretoken"' in page[form_at : page.index("</form>", form_at)]


def test_the_start_is_csrf_protected(franceconnect_unreachable):
    assert Client(enforce_csrf_checks=True).post("/franceconnect/connexion/").status_code == 403


def test_franceconnect_unreachable_answers_a_french_page(client, franceconnect_unreachable):
    for response in (client.post("/franceconnect/connexion/"), client.get("/franceconnect/connexion/")):
        assert response.status_code == 503
        body = response.content.decode()
        assert "FranceConnect ne répond pas pour le moment" in body
        assert 'href="/connexion/"' in body


@pytest.mark.parametrize(
    "query",
    ["", "?state=inconnu&code=c", "?error=access_denied&state=x", "?state=&code=", "?state=%00&iss=x"],
)
def test_a_callback_with_a_state_not_started_here_is_refused_first(client, franceconnect_unreachable, query):
    response = client.get("/franceconnect/retour/" + query)
    assert response.status_code == 400
    assert "cette étape a expiré ou a déjà été utilisée" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_confirmation_without_an_identity_recognised_is_refused(client, franceconnect_unreachable):
    assert client.get("/franceconnect/confirmation/").status_code == 200
    response = client.post("/franceconnect/confirmation/")
    assert response.status_code == 400
    assert "cette étape a expiré ou a déjà été utilisée" in response.content.decode()


def test_the_not_recognised_page_needs_an_identity_kept(client, franceconnect_unreachable):
    assert client.get("/franceconnect/non-reconnu/")["Location"] == "/connexion/"


def test_the_identity_check_starts_from_what_franceconnect_gave(client, franceconnect_unreachable):
    session = client.session
    session[PREFILL] = IDENTITY.to_session()
    session.save()
    response = client.get("/creer-mon-compte/")
    form = response.context["form"]
    assert form["first_names"].value() == "Camille Anne" and form["birth_name"].value() == "DUBOIS"
    assert (form["birth_day"].value(), form["birth_month"].value(), form["birth_year"].value()) == ("30", "09", "1988")
    assert form["sex"].value() == "F" and form["birth_country"].value() == "99131"
    assert form["has_nir"].value() is None  # the person answers that question
    page = response.content.decode()
    assert "Informations transmises par FranceConnect" in page and "fr-connect" not in page
    assert "Un compte personnel" not in client.get("/franceconnect/non-reconnu/").content.decode()


def test_an_unknown_logout_return_answers_a_french_page(client, franceconnect_unreachable):
    response = client.get("/franceconnect/deconnexion/retour/?state=inconnu")
    assert response.status_code == 400
    assert "Ce retour de FranceConnect n'est pas valable" in response.content.decode()


def test_the_optional_password_is_only_for_an_account_just_created_through_franceconnect(
    client, family, franceconnect_unreachable
):
    assert client.get("/franceconnect/mot-de-passe/")["Location"].startswith("/connexion/")
    sign_in(client, *family.responsible.credentials)
    assert client.get("/franceconnect/mot-de-passe/")["Location"] == "/mon-compte/"
    response = client.post("/franceconnect/mot-de-passe/", {"password": "x", "password_confirm": "x"})
    assert response["Location"] == "/mon-compte/"


def test_a_password_session_signs_out_as_before(client, family, franceconnect_unreachable):
    sign_in(client, *family.responsible.credentials)
    assert client.post("/deconnexion/")["Location"] == "/connexion/?deconnecte=1"
