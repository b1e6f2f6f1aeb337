"""The whole first connection of an allocataire without an account, in Chromium.

The numéro allocataire and old 8-digit code of a file built by the factories, the responsible
person's NIR, a new password, then the code sent by email, read from a real SMTP server
(aiosmtpd), and they land signed in on /mon-compte/.
"""

import re
from email import message_from_bytes, policy

import pytest

from tests.browser.test_signin_browser import _open_page, browser, chromium, live_site  # noqa: F401
from tests.factories import CafFactory, DossierFactory, LegacyCredentialFactory, MemberFactory
from tests.notifications.conftest import smtp_server  # noqa: F401

pytestmark = [pytest.mark.browser]

PASSWORD = "Trente rue de Charonne 11e"


@pytest.fixture
def newcomer(live_site):  # noqa: F811
    """The responsible person of a file of a Paris Caf, without an account; the file keeps its old
    8-digit code. Requested before the browser (see tests.browser.test_signin_browser.site_family)."""
    dossier = DossierFactory(caf=CafFactory(departement="75"))
    member = MemberFactory(dossier=dossier)
    credential = LegacyCredentialFactory(dossier=dossier, code="40506070")
    return member.person, dossier, credential.raw_code


def _code_from(envelope) -> str:
    message = message_from_bytes(envelope.content, policy=policy.default)
    return re.search(r"\b(\d{6})\b", message.get_body(preferencelist=("plain",)).get_content()).group(1)


def _wait_for_mail(collector, page, count: int):
    for _ in range(100):
        if len(collector.envelopes) >= count:
            return collector.envelopes[count - 1]
        page.wait_for_timeout(100)
    raise AssertionError("no email reached the SMTP server")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_first_connection_of_an_allocataire(newcomer, browser, live_site, smtp_server, javascript):  # noqa: F811
    from playwright.sync_api import expect

    base = live_site
    person, dossier, code = newcomer
    context, page, problems = _open_page(browser, java_script_enabled=javascript)
    try:
        page.goto(base + "/connexion/")
        page.get_by_role("link", name=re.compile("Première connexion")).click()
        page.get_by_role("link", name="Commencer").click()

        page.get_by_label("Département ou code postal de votre domicile").fill("75011")
        page.get_by_label("Numéro allocataire").fill(dossier.numero)
        page.get_by_label("Code confidentiel actuel").fill(code)
        page.get_by_role("button", name="Continuer").click()

        expect(page.get_by_text("Étape 2 sur 4")).to_be_visible()
        page.get_by_label("Numéro de sécurité sociale").fill(person.raw_identifier)
        page.get_by_role("button", name="Continuer").click()

        expect(page.get_by_text(f"Bonjour {person.display_name}")).to_be_visible()
        page.get_by_label("Nouveau mot de passe").fill(PASSWORD)
        page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Créer mon compte").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Validez vos coordonnées")
        page.get_by_label("Par courriel").check()
        page.get_by_label("Adresse électronique").fill("julien.petit@example.fr")
        page.get_by_role("button", name="Recevoir un code").click()

        expect(page.get_by_text("j•••@e•••.fr")).to_be_visible()
        envelope = _wait_for_mail(smtp_server, page, 1)
        assert envelope.rcpt_tos == ["julien.petit@example.fr"]
        page.get_by_label("Code reçu").fill(_code_from(envelope))
        page.get_by_role("button", name="Valider").click()

        # The account is usable now: the first-connection screens come first, once.
        expect(page).to_have_url(re.compile(r"/mon-compte/bienvenue/$"))
        page.get_by_role("link", name="Passer la présentation").click()
        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {person.display_name}")
        expect(page.get_by_role("main")).to_contain_text(f"Mon dossier n° {dossier.numero}")
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        context.close()
