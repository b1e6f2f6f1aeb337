"""Delegation and separation in Chromium, each person in their own browser.

Claire grants the delegation and Marc then sees the payments; Claire revokes it and Marc's next
page no longer shows them. Marc declares a separation and loses the file at once in a second
browser session that was already open.
"""

import re

import pytest
from django.utils import timezone

from moncompte.households.models import Member, Role
from tests.browser.test_signin_browser import _open_page, _sign_in, browser, chromium, demo_site  # noqa: F401

pytestmark = [pytest.mark.browser]

CLAIRE = ("2 85 05 75 115 042 95", "Soleil2021bleu")
MARC = ("1 83 11 69 383 117 49", "Lyon1983rouge")


def _sees_payments(page, base_url: str) -> bool:
    page.goto(base_url + "/mon-compte/")
    page.wait_for_load_state("load")
    return page.get_by_text("Derniers paiements").count() > 0


def test_claire_grants_then_revokes_the_delegation(browser, demo_site):  # noqa: F811
    from playwright.sync_api import expect

    claire_context, claire, _ = _open_page(browser)
    marc_context, marc, _ = _open_page(browser)
    try:
        _sign_in(claire, demo_site, *CLAIRE)
        _sign_in(marc, demo_site, *MARC)
        assert not _sees_payments(marc, demo_site)

        claire.goto(demo_site + "/mon-compte/foyer/")
        claire.get_by_role("link", name="Autoriser Marc MARTIN à gérer le dossier").click()
        claire.get_by_label("Votre mot de passe").fill(CLAIRE[1])
        claire.get_by_role("button", name="Accorder l'autorisation").click()
        expect(claire.get_by_role("main")).to_contain_text("Retirer l'autorisation")

        assert _sees_payments(marc, demo_site)

        claire.goto(demo_site + "/mon-compte/foyer/")
        claire.get_by_role("link", name=re.compile("Retirer l'autorisation")).click()
        claire.get_by_label("Votre mot de passe").fill(CLAIRE[1])
        claire.get_by_role("button", name=re.compile("Retirer l'autorisation")).click()
        expect(claire.get_by_role("main")).to_contain_text("Autoriser Marc MARTIN")

        assert not _sees_payments(marc, demo_site)
    finally:
        claire_context.close()
        marc_context.close()


@pytest.fixture
def marc_delegated(demo_site):  # noqa: F811
    # Requested before the browser: an ORM call once Playwright's event loop runs in this thread
    # would open a second database connection that nobody closes.
    Member.objects.filter(dossier__numero="1234567", role=Role.CONJOINT).update(delegation_granted_at=timezone.now())
    return demo_site


def test_marc_declares_a_separation_and_loses_the_file_in_his_other_session(marc_delegated, browser):  # noqa: F811
    from playwright.sync_api import expect

    base = marc_delegated
    laptop_context, laptop, _ = _open_page(browser)
    phone_context, phone, _ = _open_page(browser, viewport={"width": 390, "height": 844})
    try:
        _sign_in(laptop, base, *MARC)
        _sign_in(phone, base, *MARC)
        assert _sees_payments(phone, base)

        laptop.goto(base + "/mon-compte/foyer/separation/")
        laptop.get_by_label("Date de la séparation").fill(timezone.localdate().isoformat())
        laptop.get_by_label("Moi", exact=True).check(force=True)  # DSFR draws the label over the radio
        laptop.get_by_label("Nouvelle adresse (numéro et voie)").fill("5 rue de la Paix")
        laptop.get_by_label("Code postal").fill("69003")
        laptop.get_by_label("Commune").fill("Lyon")
        laptop.get_by_label(re.compile("Je confirme cette déclaration")).check(force=True)
        laptop.get_by_role("button", name="Déclarer la séparation").click()
        expect(laptop).to_have_url(re.compile(r"/mon-compte/$"))

        # The other session, open before, loses the file on its very next page.
        assert not _sees_payments(phone, base)
        expect(phone.get_by_role("heading", level=1)).to_have_text("Bonjour Marc MARTIN")
        phone.goto(base + "/mon-compte/foyer/")
        expect(phone.get_by_role("heading", level=1)).not_to_have_text("Mon foyer")
    finally:
        laptop_context.close()
        phone_context.close()
