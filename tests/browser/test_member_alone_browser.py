"""A member of 17 creates her account alone, in Chromium (issue 9).

A family (tests.factories) whose child of 17 has no account. She goes to /creer-mon-compte/,
declares her identity with her NIR, validates her email with the code read from a real SMTP
server, chooses her password; she is told what happens next, and her home shows nothing of the
file (no benefit, no member, no payment). Then the identity check is accepted (a direct call of
``identity_check_accept``: the agents' console is issue 12): she signs in again with her NIR and
sees her own place in the file, as the policy allows a child, and still nothing of the rest.
"""

import re
import threading

import pytest
from django.db import connection

from moncompte.accounts.models import Account
from moncompte.core.actors import Actor
from moncompte.households.models import Benefit, Payment
from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.models import IdentityCheck
from tests.browser.test_first_connection_browser import _code_from, _wait_for_mail
from tests.browser.test_signin_browser import (  # noqa: F401
    _open_page,
    _sign_in,
    browser,
    chromium,
    live_site,
)
from tests.factories import make_household
from tests.notifications.conftest import smtp_server  # noqa: F401

pytestmark = [pytest.mark.browser]

PASSWORD = "Trois cerisiers en fleur 2025"
EMAIL = "lea.membre@example.fr"


def _names_in(text, *names):
    """The names found in the text as whole words (random names may prefix one another)."""
    return [name for name in names if re.search(rf"\b{re.escape(name)}\b", text)]


@pytest.fixture
def member_alone(live_site, settings):  # noqa: F811
    """A family whose child of 17 has no account, and what the page must not show her before
    the check. Built before Playwright starts (an ORM call once its event loop runs in this
    thread would open a connection that nothing closes)."""
    settings.MONCOMPTE_ONBOARDING_VERSION = 0  # the first-connection screens have their own tests
    family = make_household()
    Account.objects.filter(person=family.child.person).delete()
    benefit = Benefit.objects.filter(dossier=family.dossier).first()
    payment = Payment.objects.filter(dossier=family.dossier).first()
    return family, benefit.label, f"{payment.amount_cents // 100}"


def _accept_check_of(identifier: str) -> None:
    """The agent's acceptance, in a thread of its own with its own database connection (closed
    after), as the console of issue 12 will do it in its own request."""
    errors = []

    def accept():
        try:
            check = IdentityCheck.objects.pending().claiming(parse_identifier(identifier).value).get()
            from moncompte.accounts.signup import identity_check_accept

            identity_check_accept(actor=Actor.system(), check=check, decided_by="Agent Durand", reason="CNI")
        except Exception as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    worker = threading.Thread(target=accept)
    worker.start()
    worker.join()
    assert errors == []


def test_a_member_of_17_creates_her_account_alone(member_alone, browser, live_site, smtp_server):  # noqa: F811
    from playwright.sync_api import expect

    family, benefit_label, _ = member_alone
    child = family.child
    person = child.person
    context, page, _ = _open_page(browser)
    try:
        page.goto(live_site + "/creer-mon-compte/")
        page.get_by_label("J'ai un numéro de sécurité sociale").check(force=True)
        form = page.locator("main form[method=post]")
        # By name: the labels carry their hints (a label holds its fr-hint-text).
        for name, value in (
            ("identifier", child.identifier),
            ("first_names", person.first_names),
            ("birth_name", person.birth_name.title()),
            ("birth_day", str(person.birth_date.day)),
            ("birth_month", str(person.birth_date.month)),
            ("birth_year", str(person.birth_date.year)),
            ("birth_place", person.birth_place_code),
            ("address_line1", "12 rue des Lilas"),
            ("postal_code", "69003"),
            ("city", "Lyon"),
        ):
            form.locator(f"[name='{name}']").fill(value)
        page.get_by_label("Femme" if person.sex == "F" else "Homme", exact=True).check(force=True)
        page.get_by_role("button", name="Continuer").click()
        expect(page).to_have_url(re.compile(r"/creer-mon-compte/coordonnees/$"))

        page.get_by_label("Par courriel").check(force=True)
        page.locator("main form[method=post] [name='email']").fill(EMAIL)
        page.get_by_role("button", name="Recevoir un code").click()
        page.locator("main form[method=post] [name='code']").fill(_code_from(_wait_for_mail(smtp_server, page, 1)))
        page.get_by_role("button", name="Valider").click()
        expect(page).to_have_url(re.compile(r"/creer-mon-compte/mot-de-passe/$"))
        page.locator("main form[method=post] [name='password']").fill(PASSWORD)
        page.locator("main form[method=post] [name='password_confirm']").fill(PASSWORD)
        page.get_by_role("button", name="Créer mon compte").click()

        # She is told what happens next, in plain French.
        expect(page.get_by_role("heading", level=1)).to_have_text("Votre compte est créé")
        main = page.get_by_role("main")
        expect(main.get_by_role("heading", name="Et maintenant ?")).to_be_visible()
        expect(main).to_contain_text("Un agent de la Caf vérifie votre identité, en général dans les 10 jours ouvrés")
        expect(main).to_contain_text("D'ici là, votre compte ne montre rien d'un dossier allocataire")
        expect(main).to_contain_text("votre compte vous montrera alors ce qui vous concerne dans ce dossier")
        provisional = page.locator("#identifiant-provisoire").inner_text()

        # Her home: her own data and the pending check, nothing of the file.
        page.goto(live_site + "/mon-compte/")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {person.display_name}")
        main = page.get_by_role("main")
        expect(main).to_contain_text("Vérification de votre identité en cours")
        expect(main).to_contain_text("D'ici là, votre compte ne montre rien d'un dossier allocataire")
        text = main.inner_text()
        assert family.dossier.numero not in text and "Mon rattachement" not in text
        assert benefit_label not in text and "Derniers paiements" not in text
        # Whole words: the young child's "Gabriel" must not match her own "Gabrielle".
        assert not _names_in(text, family.responsible.person.display_name, family.young_child.person.first_names)
        assert page.goto(live_site + "/mon-compte/foyer/").status == 404

        # The agent accepts her identity check: her account becomes that of the file's member.
        _accept_check_of(child.identifier)
        context.clear_cookies()
        _sign_in(page, live_site, child.identifier, PASSWORD)
        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        main = page.get_by_role("main")
        expect(main).not_to_contain_text("Vérification de votre identité en cours")
        expect(main.get_by_role("heading", name="Mon rattachement")).to_be_visible()
        expect(main).to_contain_text(f"Vous êtes rattaché(e) à un dossier de la {family.caf}")
        text = main.inner_text()
        assert benefit_label not in text and "Derniers paiements" not in text
        assert not _names_in(text, family.responsible.person.display_name) and family.dossier.address_line1 not in text
        assert page.goto(live_site + "/mon-compte/foyer/").status == 404

        # Her provisional identifier no longer signs in: it names her NIR's account now.
        context.clear_cookies()
        _sign_in(page, live_site, provisional, PASSWORD)
        expect(page).to_have_url(re.compile(r"/connexion/"))
    finally:
        context.close()
