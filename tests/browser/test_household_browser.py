"""Delegation and separation in Chromium, each person in their own browser.

The responsible person grants the delegation and the spouse then sees the payments; she revokes
it and the spouse's next page no longer shows them. The spouse declares a separation and loses
the file at once in a second browser session that was already open.
"""

import re

import pytest
from django.utils import timezone

from tests.browser.test_signin_browser import (  # noqa: F401
    _open_page,
    _sign_in,
    browser,
    chromium,
    live_site,
    site_family,
)
from tests.factories import make_household

pytestmark = [pytest.mark.browser]


def _sees_payments(page, base_url: str) -> bool:
    page.goto(base_url + "/mon-compte/")
    page.wait_for_load_state("load")
    return page.get_by_text("Derniers paiements").count() > 0


def test_the_responsible_person_grants_then_revokes_the_delegation(site_family, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    base = live_site
    responsible, spouse = site_family.responsible.credentials, site_family.spouse.credentials
    spouse_name = site_family.spouse.person.display_name
    claire_context, claire, _ = _open_page(browser)
    marc_context, marc, _ = _open_page(browser)
    try:
        _sign_in(claire, base, *responsible)
        _sign_in(marc, base, *spouse)
        assert not _sees_payments(marc, base)

        claire.goto(base + "/mon-compte/foyer/")
        claire.get_by_role("link", name=f"Autoriser {spouse_name} à gérer le dossier").click()
        claire.get_by_label("Votre mot de passe").fill(responsible[1])
        claire.get_by_role("button", name="Accorder l'autorisation").click()
        expect(claire.get_by_role("main")).to_contain_text("Retirer l'autorisation")

        assert _sees_payments(marc, base)

        claire.goto(base + "/mon-compte/foyer/")
        claire.get_by_role("link", name=re.compile("Retirer l'autorisation")).click()
        claire.get_by_label("Votre mot de passe").fill(responsible[1])
        claire.get_by_role("button", name=re.compile("Retirer l'autorisation")).click()
        expect(claire.get_by_role("main")).to_contain_text(f"Autoriser {spouse_name}")

        assert not _sees_payments(marc, base)
    finally:
        claire_context.close()
        marc_context.close()


@pytest.fixture
def delegated_site_family(live_site):  # noqa: F811
    """A family whose spouse holds the delegation, for the live server.

    Requested before the browser: an ORM call once Playwright's event loop runs in this thread
    would open a second database connection that nobody closes.
    """
    return make_household(delegated=True)


def test_separation_ends_the_spouses_view_in_the_other_session(delegated_site_family, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    base = live_site
    spouse = delegated_site_family.spouse.credentials
    laptop_context, laptop, _ = _open_page(browser)
    phone_context, phone, _ = _open_page(browser, viewport={"width": 390, "height": 844})
    try:
        _sign_in(laptop, base, *spouse)
        _sign_in(phone, base, *spouse)
        assert _sees_payments(phone, base)

        laptop.goto(base + "/mon-compte/foyer/separation/")
        today = timezone.localdate()
        date = laptop.get_by_role("group", name=re.compile("Date de la séparation"))
        for label, value in (("Jour", today.day), ("Mois", today.month), ("Année", today.year)):
            date.get_by_label(label).fill(str(value))
        laptop.get_by_label("Moi", exact=True).check(force=True)  # DSFR draws the label over the radio
        laptop.get_by_label("Nouvelle adresse (numéro et voie)").fill("5 rue de la Paix")
        laptop.get_by_label("Code postal").fill("69003")
        laptop.get_by_label("Commune").fill("Lyon")
        laptop.get_by_label(re.compile("Je confirme cette déclaration")).check(force=True)
        laptop.get_by_role("button", name="Déclarer la séparation").click()
        expect(laptop).to_have_url(re.compile(r"/mon-compte/$"))

        # The other session, open before, loses the file on its very next page.
        assert not _sees_payments(phone, base)
        expect(phone.get_by_role("heading", level=1)).to_have_text(
            f"Bonjour {delegated_site_family.spouse.person.display_name}"
        )
        phone.goto(base + "/mon-compte/foyer/")
        expect(phone.get_by_role("heading", level=1)).not_to_have_text("Mon foyer")
    finally:
        laptop_context.close()
        phone_context.close()
