"""The core flows without JavaScript, in Chromium (issue 9, point 7; docs/accessibility.md).

Already elsewhere: sign-in (test_signin_browser.py), first connection (test_first_connection_browser.py),
invitation (test_invitation_browser.py). Here: sign-in then sign-out, password reset, signup up
to the identity check notice, contact change, the FranceConnect button (a form) up to the
person's page; codes are read from the messages sent.
"""

import re

import pytest
from django.core import mail

from tests.browser.test_franceconnect_browser import claire, franceconnect_site, press_the_franceconnect_button  # noqa: F401
from tests.browser.test_signin_browser import _open_page, _sign_in, browser, chromium, live_site  # noqa: F401
from tests.factories import make_household
from tests.integration.test_franceconnect_flow import claims_of
from tests.web.test_signup_pages import identity_data

pytestmark = [pytest.mark.browser]

NEW_PASSWORD = "Glycines et 12 hortensias"
SIGNUP_PASSWORD = "Tilleuls et 30 cerisiers"


@pytest.fixture
def household(live_site):  # noqa: F811
    """Built before the browser (see tests.browser.test_signin_browser.site_family)."""
    family = make_household()
    return family, family.responsible.account.contacts.get().value


def _code_to(address: str) -> str:
    bodies = [m.body for m in mail.outbox if address in m.to]
    assert bodies, f"no message to {address}"
    return re.search(r"\b(\d{6})\b", bodies[-1]).group(1)


def _fill(page, values: dict) -> None:
    form = page.locator("main form[method=post]").first
    for name, value in values.items():
        field = form.locator(f"[name='{name}']")
        if field.count() == 0:
            continue
        if field.first.get_attribute("type") == "radio":
            choice = form.locator(f"[name='{name}'][value='{value}']")
            page.locator(f"label[for='{choice.get_attribute('id')}']").click()
        elif field.first.evaluate("e => e.tagName") == "SELECT":
            field.first.select_option(value)
        else:
            field.first.fill(value)


def _submit(page, values: dict) -> None:
    _fill(page, values)
    with page.expect_navigation():
        page.locator("main form[method=post]").first.locator("button[type=submit], button:not([type])").first.click()


def test_sign_in_then_sign_out_without_javascript(household, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    family, _ = household
    context, page, _ = _open_page(browser, java_script_enabled=False)
    try:
        _sign_in(page, live_site, *family.responsible.credentials)
        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("Se déconnecter")).first.click()
        page.goto(live_site + "/mon-compte/")
        expect(page).to_have_url(re.compile(r"/connexion/"))
    finally:
        context.close()


def test_password_reset_without_javascript(household, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    family, address = household
    context, page, _ = _open_page(browser, java_script_enabled=False)
    try:
        page.goto(live_site + "/mot-de-passe-oublie/")
        _submit(page, {"identifier": family.responsible.identifier})
        expect(page).to_have_url(re.compile(r"/mot-de-passe-oublie/code/$"))
        _submit(page, {"code": _code_to(address)})
        expect(page).to_have_url(re.compile(r"/mot-de-passe-oublie/nouveau/$"))
        _submit(page, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
        page.context.clear_cookies()
        _sign_in(page, live_site, family.responsible.identifier, NEW_PASSWORD)
        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
    finally:
        context.close()


def test_signup_up_to_the_identity_check_notice_without_javascript(live_site, browser):  # noqa: F811
    from playwright.sync_api import expect

    context, page, _ = _open_page(browser, java_script_enabled=False)
    try:
        page.goto(live_site + "/creer-mon-compte/")
        _submit(page, identity_data())
        expect(page).to_have_url(re.compile(r"/creer-mon-compte/coordonnees/$"))
        _submit(page, {"channel": "email", "email": "ines@example.fr"})
        _submit(page, {"code": _code_to("ines@example.fr")})
        expect(page).to_have_url(re.compile(r"/creer-mon-compte/mot-de-passe/$"))
        _submit(page, {"password": SIGNUP_PASSWORD, "password_confirm": SIGNUP_PASSWORD})
        expect(page.get_by_role("heading", level=1)).to_have_text("Votre compte est créé")
        expect(page.get_by_role("main")).to_contain_text("vérifié votre identité")
    finally:
        context.close()


def test_contact_change_without_javascript(household, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    family, _ = household
    context, page, _ = _open_page(browser, java_script_enabled=False)
    try:
        _sign_in(page, live_site, *family.responsible.credentials)
        page.goto(live_site + "/mon-compte/coordonnees/valider/")
        values = {"channel": "email", "email": "nouvelle.adresse@example.fr"}
        _submit(page, {**values, "current_password": family.responsible.password})
        expect(page.get_by_text("n•••@e•••.fr")).to_be_visible()
        _submit(page, {"code": _code_to("nouvelle.adresse@example.fr")})
        expect(page).not_to_have_url(re.compile(r"/valider/$"))
        expect(page.get_by_role("main")).to_contain_text("nouvelle.adresse@example.fr")
    finally:
        context.close()


def test_franceconnect_without_javascript(claire, franceconnect_site, browser, live_site):  # noqa: F811
    """The button is a form's submit button: the sign-in through FranceConnect needs no script."""
    from playwright.sync_api import expect

    franceconnect_site.next_identity(claims_of(claire.responsible.person))
    context, page, _ = _open_page(browser, java_script_enabled=False)
    try:
        page.goto(live_site + "/connexion/")
        press_the_franceconnect_button(page)
        expect(page).to_have_url(re.compile(r"/franceconnect/confirmation/$"))
        with page.expect_navigation():
            page.get_by_role("button", name="Oui, c'est bien moi").click()
        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        expect(page.get_by_role("main")).to_contain_text(f"Mon dossier n° {claire.dossier.numero}")
    finally:
        context.close()
