"""The ways in of issue 9, in Chromium, with the emails read from a real SMTP server (aiosmtpd).

(a) The responsible person did the first connection; the spouse has no account. He goes from the
sign-in page to « Demander une invitation », types his NIR and birth date; the responsible person
gets the notice, follows its link (signing in on the way), invites him by email; he opens the
invitation, chooses his password, validates an email of his own, then signs in with his NIR.

(b) A person with a provisional identifier asks « Identifiant oublié » with her email, reads the
identifier in the message, and signs in with it.
"""

import re

import pytest

from moncompte.identity.identifiers import IdentifierKind
from tests.browser.dates import fill_date
from tests.browser.test_first_connection_browser import _code_from, _wait_for_mail
from tests.browser.test_invitation_browser import _body, _first_mail
from tests.browser.test_signin_browser import (  # noqa: F401
    _open_page,
    _sign_in,
    browser,
    chromium,
    live_site,
)
from tests.factories import AccountFactory, PersonFactory, make_household
from tests.notifications.conftest import smtp_server  # noqa: F401

pytestmark = [pytest.mark.browser]

PASSWORD = "Hirondelles et 12 tilleuls"


def _from_sign_in_to(page, base: str, path: str) -> None:
    """Open the sign-in page and follow its link to ``path`` (the ways in of the sign-in page)."""
    page.goto(base + "/connexion/")
    page.locator(f'main a[href="{path}"]').first.click()
    page.wait_for_load_state("load")


@pytest.fixture
def household(live_site, settings):  # noqa: F811
    """R with an account (first connection done), the spouse without one. Built before
    Playwright starts (see tests/browser/test_invitation_browser.py)."""
    settings.MONCOMPTE_PUBLIC_URL = live_site
    family = make_household()
    family.spouse.account.delete()
    return family


def test_the_spouse_without_account_asks_is_invited_and_signs_in(household, browser, live_site, smtp_server):  # noqa: F811
    from playwright.sync_api import expect

    family = household
    spouse = family.spouse.person
    spouse_name = spouse.display_name
    responsible_email = family.responsible.account.contacts.get().value

    context, page, problems = _open_page(browser)
    try:
        _from_sign_in_to(page, live_site, "/demander-une-invitation/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Demander une invitation à créer mon compte")
        page.get_by_label("Votre numéro de sécurité sociale").fill(family.spouse.identifier)
        fill_date(page, "Votre date de naissance", spouse.birth_date)
        page.get_by_role("button", name="Demander une invitation").click()
        expect(page.get_by_role("heading", name="Demande enregistrée")).to_be_visible()
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        context.close()

    notice = _first_mail(smtp_server)
    assert notice.rcpt_tos == [responsible_email]
    link = re.search(r"https?://\S+/mon-compte/foyer/inviter/", _body(notice)).group(0)
    assert link.startswith(live_site)

    context, page, problems = _open_page(browser)
    try:
        page.goto(link)
        # Not signed in: the sign-in page, which brings her back to the invitation page.
        expect(page).to_have_url(re.compile(r"/connexion/"))
        page.get_by_label("Numéro de sécurité sociale ou identifiant provisoire").fill(family.responsible.identifier)
        page.get_by_label("Mot de passe", exact=True).fill(family.responsible.password)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        page.wait_for_load_state("load")
        if "/mon-compte/bienvenue/" in page.url:
            # The first sign-in's welcome screens (web:onboarding) come first: her link again.
            page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("Inviter un membre du foyer")
        card = page.locator(".fr-card", has_text=spouse_name)
        card.get_by_label("Par courriel").check()
        card.get_by_label("Adresse électronique de la personne invitée").fill("conjoint@example.fr")
        card.get_by_role("button", name="Envoyer l'invitation").click()
        expect(page.get_by_text(f"Invitation envoyée à {spouse_name} par courriel")).to_be_visible()
    finally:
        context.close()

    context, page, problems = _open_page(browser)
    try:
        invitation = _wait_for_mail(smtp_server, page, 2)
        assert invitation.rcpt_tos == ["conjoint@example.fr"]
        page.goto(re.search(r"https?://\S+/invitation/#\S+", _body(invitation)).group(0))
        page.get_by_label("Votre numéro de sécurité sociale").fill(family.spouse.identifier)
        fill_date(page, "Votre date de naissance", spouse.birth_date)
        page.get_by_role("button", name="Continuer").click()
        page.get_by_label("Nouveau mot de passe").fill(PASSWORD)
        page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Créer mon compte").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Validez vos coordonnées")
        page.get_by_label("Par courriel").check()
        page.get_by_label("Adresse électronique").fill("conjoint.perso@example.fr")
        page.get_by_role("button", name="Recevoir un code").click()
        code_mail = _wait_for_mail(smtp_server, page, 3)
        assert code_mail.rcpt_tos == ["conjoint.perso@example.fr"]
        page.get_by_label("Code reçu").fill(_code_from(code_mail))
        page.get_by_role("button", name="Valider").click()
        expect(page).to_have_url(re.compile(r"/mon-compte/"))
    finally:
        context.close()

    # He signs in again later, with his NIR and his password, and lands on his page.
    context, page, problems = _open_page(browser)
    try:
        _sign_in(page, live_site, family.spouse.identifier, PASSWORD)
        # Signed in (the first sign-in may show the welcome screens first: web:onboarding).
        expect(page).to_have_url(re.compile(r"/mon-compte/"))
        page.goto(live_site + "/mon-compte/")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {spouse_name}")
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        context.close()


@pytest.fixture
def provisional_holder(live_site):  # noqa: F811
    person = PersonFactory(provisional=True)
    assert person.identifier.kind is IdentifierKind.PROVISIONAL
    account = AccountFactory(person=person, password=PASSWORD)
    return account.contacts.get().value, person.identifier.display()


def test_the_identifier_reminder_then_signing_in_with_it(provisional_holder, browser, live_site, smtp_server):  # noqa: F811
    from playwright.sync_api import expect

    email, expected = provisional_holder
    context, page, problems = _open_page(browser)
    try:
        _from_sign_in_to(page, live_site, "/identifiant-oublie/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Identifiant oublié")
        page.get_by_label("Votre adresse électronique ou votre numéro de téléphone mobile").fill(email)
        page.get_by_role("button", name="Recevoir mon identifiant").click()
        expect(page.get_by_role("heading", name="Demande enregistrée")).to_be_visible()

        reminder = _wait_for_mail(smtp_server, page, 1)
        assert reminder.rcpt_tos == [email]
        identifier = re.search(r"\bP-[0-9A-Z]{5}-[0-9A-Z]{5}\b", _body(reminder)).group(0)
        assert identifier == expected

        page.get_by_role("link", name="Retour à la connexion").click()
        page.get_by_label("Numéro de sécurité sociale ou identifiant provisoire").fill(identifier)
        page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Se connecter", exact=True).click()
        expect(page).to_have_url(re.compile(r"/mon-compte/"))
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        context.close()
