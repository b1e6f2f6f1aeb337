"""Claire's housing-aid request in Chromium (issue 10, acceptance): a draft kept at every step
and resumed from another browser, and two browsers saving the same step without a value lost.

Each "device" is a browser context of its own (its own cookies, its own session). The partners
are not configured here (no simulator): the resources step says what is missing and Claire types
it, which is the degraded path of docs/partners.md; the partner data itself is tested over HTTP
in tests/partners/ and tests/web/test_procedures.py.
"""

import io
import re
import threading

import pypdf
import pytest
from django.db import connection

from moncompte.procedures.models import Procedure
from tests.browser.test_signin_browser import (  # noqa: F401
    _open_page,
    _sign_in,
    browser,
    chromium,
    live_site,
)
from tests.factories import make_household

pytestmark = [pytest.mark.browser]


@pytest.fixture
def claire(live_site):  # noqa: F811
    """Built before Playwright starts (an ORM call inside its event loop would open a connection
    nothing closes)."""
    return make_household().responsible


def _read(query):
    """An ORM read in a thread of its own, its connection closed after (not in Playwright's loop)."""
    found = {}

    def run():
        try:
            found["value"] = query()
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return found["value"]


def _saved(person, step, name):
    return _read(lambda: Procedure.objects.get(person=person).data[step]["clean"][name])


def _fill_housing(page):  # DSFR radios and checkboxes: their label covers the input (force)
    page.get_by_label("Locataire", exact=True).check(force=True)
    page.get_by_label("Appartement").check(force=True)
    page.get_by_role("textbox", name=re.compile("^Jour")).fill("01")
    page.get_by_role("textbox", name=re.compile("^Mois")).fill("09")
    page.get_by_role("textbox", name=re.compile("^Année")).fill("2025")


def _fill_rent(page, rent="650"):
    page.get_by_label("Adresse (numéro et voie)").fill("12 rue des Lilas")
    page.get_by_label("Code postal").fill("75011")
    page.get_by_label("Commune").fill("Paris")
    page.get_by_label("Loyer mensuel, hors charges").fill(rent)
    page.get_by_label("Charges mensuelles").fill("80")
    page.get_by_label("Nom du propriétaire ou de l'organisme bailleur").fill("Paris Habitat")


def _continue(page):
    page.get_by_role("button", name="Enregistrer et continuer").click()


def _start_housing_aid(page, live_site):  # noqa: F811
    page.goto(live_site + "/mon-compte/demarches/")
    page.get_by_role("button", name="Commencer : Demande d'aide au logement").click()


def test_claire_resumes_her_request_in_another_browser_at_step_3_and_submits_it(claire, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    first, page, _ = _open_page(browser)
    try:
        _sign_in(page, live_site, *claire.credentials)
        _start_housing_aid(page, live_site)
        expect(page.get_by_text("Étape 1 sur 4")).to_be_visible()
        _fill_housing(page)
        _continue(page)
        expect(page.get_by_text("Étape 2 sur 4")).to_be_visible()
        _fill_rent(page)
        _continue(page)
        expect(page.get_by_text("Étape 3 sur 4")).to_be_visible()
        page.get_by_role("button", name="Se déconnecter").first.click()
        expect(page).to_have_url(re.compile(r"/connexion/"))
    finally:
        first.close()

    second, page, problems = _open_page(browser)  # another device: nothing shared with the first
    try:
        _sign_in(page, live_site, *claire.credentials)
        page.goto(live_site + "/mon-compte/demarches/")
        expect(page.get_by_text("Étape 3 sur 4 : Votre identité")).to_be_visible()
        page.get_by_role("link", name=re.compile("Reprendre")).first.click()
        expect(page.get_by_text("Étape 3 sur 4")).to_be_visible()
        expect(page.get_by_text(claire.person.first_names.split()[0]).first).to_be_visible()
        # Her data is there: step 2 as she typed it.
        page.get_by_role("link", name="Précédent").click()
        expect(page.get_by_label("Loyer mensuel, hors charges")).to_have_value("650")
        expect(page.get_by_label("Nom du propriétaire ou de l'organisme bailleur")).to_have_value("Paris Habitat")
        _continue(page)
        page.get_by_label(re.compile("Je confirme que cette demande est faite en mon nom")).check(force=True)
        _continue(page)
        expect(page.get_by_text("Étape 4 sur 4")).to_be_visible()
        page.get_by_label("Revenu fiscal de référence").fill("21000")
        page.get_by_label("Nombre de parts fiscales").fill("2,5")
        page.get_by_label("Ressources des 3 derniers mois").fill("4500")
        _continue(page)
        expect(page.get_by_role("heading", level=1)).to_contain_text("récapitulatif")
        expect(page.get_by_text("Paris Habitat")).to_be_visible()
        page.get_by_label("Je certifie sur l'honneur l'exactitude des informations").check(force=True)
        page.get_by_role("button", name="Envoyer ma demande").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Accusé de réception")
        reference = page.get_by_text(re.compile(r"AL-\d{4}-[0-9A-Z]{8}")).first.inner_text()
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("PDF")).first.click()
        pdf = download.value.path().read_bytes()
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        second.close()
    assert pdf.startswith(b"%PDF")
    found = re.search(r"AL-\d{4}-[0-9A-Z]{8}", reference)
    assert found
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert found.group(0) in text
    state = _read(lambda: Procedure.objects.get(reference=found.group(0)).state)
    assert state == Procedure.State.SUBMITTED


def test_two_browsers_save_the_same_step_and_claire_chooses(claire, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    context_a, page_a, _ = _open_page(browser)
    context_b, page_b, _ = _open_page(browser)
    try:
        _sign_in(page_a, live_site, *claire.credentials)
        _start_housing_aid(page_a, live_site)
        _fill_housing(page_a)
        _continue(page_a)
        expect(page_a.get_by_text("Étape 2 sur 4")).to_be_visible()
        # The second browser opens the same step, at the same version.
        _sign_in(page_b, live_site, *claire.credentials)
        page_b.goto(page_a.url)
        expect(page_b.get_by_text("Étape 2 sur 4")).to_be_visible()
        _fill_rent(page_a, rent="650")
        _continue(page_a)
        expect(page_a.get_by_text("Étape 3 sur 4")).to_be_visible()
        _fill_rent(page_b, rent="720")
        _continue(page_b)
        # Nothing overwritten: both values shown, nothing chosen for her.
        expect(page_b.get_by_text("Cette étape a été modifiée sur un autre appareil")).to_be_visible()
        saved = page_b.get_by_label(re.compile(r"Garder la valeur enregistrée : 650,00"))
        mine = page_b.get_by_label(re.compile(r"Garder ma saisie : 720,00"))
        expect(saved).not_to_be_checked()
        expect(mine).not_to_be_checked()
        assert _saved(claire.person, "loyer", "rent") == "650.00"
        mine.check(force=True)
        page_b.get_by_role("button", name="Enregistrer mes choix").click()
        expect(page_b.get_by_text("Étape 3 sur 4")).to_be_visible()
        page_b.get_by_role("link", name="Précédent").click()
        expect(page_b.get_by_label("Loyer mensuel, hors charges")).to_have_value("720")  # as she typed it
    finally:
        context_a.close()
        context_b.close()
    assert _saved(claire.person, "loyer", "rent") == "720.00"
    resolved = _read(
        lambda: Procedure.objects.get(person=claire.person).events.filter(kind="conflict_resolved").count()
    )
    assert resolved == 1
