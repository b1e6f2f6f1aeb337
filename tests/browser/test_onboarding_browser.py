"""The first-connection screens in Chromium (issue 9, acceptance): shown once, then not, then
again after a version change; skippable; and without JavaScript too."""

import re

import pytest

from moncompte.accounts.models import Account
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
def newcomer(live_site):  # noqa: F811
    """A responsible person who has not seen the screens (built before ``browser``: see
    tests.browser.test_signin_browser.site_family)."""
    family = make_household()
    Account.objects.filter(pk=family.responsible.account.pk).update(onboarding_version_seen=0)
    return family.responsible


def _sign_out(page) -> None:
    page.get_by_role("main").get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state("load")


def test_the_screens_are_shown_once_then_not_then_again_after_a_version_change(newcomer, browser, live_site, settings):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems = _open_page(browser, viewport={"width": 1280, "height": 900})
    try:
        _sign_in(page, live_site, *newcomer.credentials)
        expect(page).to_have_url(re.compile(r"/mon-compte/bienvenue/$"))
        expect(page.get_by_role("heading", level=2)).to_contain_text("Ce qui change pour vous connecter")
        expect(page.get_by_role("main")).to_contain_text("Étape 1 sur 4")
        image = page.get_by_role("main").get_by_role("img")
        expect(image).to_have_attribute("alt", re.compile(r"formulaire de connexion"))
        # The illustration is served and drawn (an SVG that fails to load has no natural width).
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")

        page.get_by_role("link", name="Suivant").click()
        expect(page).to_have_url(re.compile(r"/mon-compte/bienvenue/2/$"))
        expect(page.get_by_role("main")).to_contain_text("Étape 2 sur 4")
        # The responsible person may invite: the invitation is offered.
        expect(page.get_by_role("link", name="Inviter un membre du foyer")).to_be_visible()

        page.get_by_role("link", name="Passer la présentation").click()
        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {newcomer.person.display_name}")

        _sign_out(page)
        _sign_in(page, live_site, *newcomer.credentials)
        expect(page).to_have_url(re.compile(r"/mon-compte/$"))

        _sign_out(page)
        settings.MONCOMPTE_ONBOARDING_VERSION = 2
        _sign_in(page, live_site, *newcomer.credentials)
        expect(page).to_have_url(re.compile(r"/mon-compte/bienvenue/$"))

        # This time to the end, screen by screen.
        for step in (2, 3, 4):
            page.get_by_role("link", name="Suivant").click()
            expect(page.get_by_role("main")).to_contain_text(f"Étape {step} sur 4")
        page.get_by_role("link", name="Terminer la présentation").click()
        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        context.close()


def test_the_screens_work_without_javascript_and_keep_the_target(newcomer, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    context, page, _ = _open_page(browser, java_script_enabled=False, viewport={"width": 320, "height": 640})
    try:
        page.goto(live_site + "/connexion/?next=/mon-compte/appareils/")
        page.get_by_label("Numéro de sécurité sociale ou identifiant provisoire").fill(newcomer.identifier)
        page.get_by_label("Mot de passe").fill(newcomer.password)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        expect(page).to_have_url(re.compile(r"/mon-compte/bienvenue/$"))
        # No horizontal overflow on a 320 px screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 320

        page.get_by_role("link", name="Suivant").click()
        page.get_by_role("link", name="Précédent").click()
        expect(page).to_have_url(re.compile(r"/mon-compte/bienvenue/$"))
        page.get_by_role("link", name="Passer la présentation").click()
        expect(page).to_have_url(re.compile(r"/mon-compte/appareils/$"))
    finally:
        context.close()
