"""The acceptance of issue 9 for the old identifiers, in Chromium, with and without JavaScript:
the allocataire who types the old numéro and code on /connexion/ lands on the first connection
with the numéro filled in (and types the code again). Also the sign-in password's "Afficher".
"""

import re

import pytest

from tests.browser.test_signin_browser import (  # noqa: F401
    IDENTIFIER_LABEL,
    PASSWORD_LABEL,
    _open_page,
    browser,
    chromium,
    live_site,
)
from tests.factories import CafFactory, make_household

pytestmark = [pytest.mark.browser]

OLD_CODE = "73829104"


@pytest.fixture
def allocataire_file(live_site):  # noqa: F811
    """A household of a Paris Caf without accounts, its file keeping its old code. Requested
    before the browser (see tests.browser.test_signin_browser.site_family)."""
    return make_household(caf=CafFactory(departement="75"), accounts=False, legacy_code=OLD_CODE)


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_the_old_numero_and_code_lead_to_the_first_connection_with_the_numero_filled_in(
    allocataire_file,
    browser,  # noqa: F811
    live_site,  # noqa: F811
    javascript,
):
    from playwright.sync_api import expect

    numero = allocataire_file.dossier.numero
    context, page, problems = _open_page(browser, java_script_enabled=javascript)
    try:
        page.goto(live_site + "/connexion/")
        page.get_by_label(IDENTIFIER_LABEL).fill(f"{numero[:3]} {numero[3:5]} {numero[5:]}")
        page.get_by_label(PASSWORD_LABEL, exact=True).fill(OLD_CODE)
        page.get_by_role("button", name="Se connecter", exact=True).click()

        notice = page.locator("#ancien-identifiant")
        expect(notice.get_by_role("heading", level=2)).to_have_text("La connexion a changé le 9 octobre 2021")
        expect(notice).to_contain_text("numéro de sécurité sociale, celui de votre carte Vitale")
        expect(notice).to_contain_text("vous le saisirez à nouveau")
        expect(notice).to_be_focused()  # autofocus: no script needed
        assert numero not in page.url

        page.get_by_role("link", name="Faire ma première connexion avec ce numéro").click()

        expect(page).to_have_url(re.compile(r"/premiere-connexion/dossier/$"))
        expect(page.get_by_label("Numéro allocataire")).to_have_value(numero)
        expect(page.get_by_label("Code confidentiel actuel")).to_have_value("")
        page.get_by_label("Département ou code postal de votre domicile").fill("75011")
        page.get_by_label("Code confidentiel actuel").fill(OLD_CODE)
        page.get_by_role("button", name="Continuer").click()

        expect(page.get_by_text("Étape 2 sur 4")).to_be_visible()
        expect(page.get_by_label("Numéro de sécurité sociale")).to_be_visible()
        assert problems == [], problems
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_the_signin_password_can_be_shown_with_javascript_only(browser, live_site, javascript):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems = _open_page(browser, java_script_enabled=javascript)
    try:
        page.goto(live_site + "/connexion/")
        password = page.get_by_label(PASSWORD_LABEL, exact=True)
        password.fill("Un mot de passe 1")
        show = page.get_by_label("Afficher", exact=True)
        if not javascript:
            # Without DSFR's script the box could do nothing: it is not shown.
            expect(show).to_be_hidden()
            expect(password).to_have_attribute("type", "password")
            return
        label = page.locator("label", has_text=re.compile(r"^Afficher$"))
        expect(label).to_be_visible()
        label.click()  # as a person does: DSFR draws the box on the label
        expect(show).to_be_checked()
        expect(password).to_have_attribute("type", "text")
        expect(password).to_have_value("Un mot de passe 1")
        label.click()
        expect(password).to_have_attribute("type", "password")
        assert problems == [], problems
    finally:
        context.close()
