"""A person changes her email address in Chromium, and the old address is told (issue 9, point 2).

A Claire-like responsible person (tests.factories) signs in, follows "Modifier mes coordonnées"
from her home page, changes her email (her password asked again), types the code read from a
real SMTP server (aiosmtpd) at the new address, and sees the new address validated; the old
address then receives the notice with the masked new address and the number to call. With and
without JavaScript: the flow is plain forms and links.
"""

import re
from email import message_from_bytes, policy

import pytest

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

NEW_EMAIL = "claire.nouvelle@example.org"


def _body(envelope) -> str:
    message = message_from_bytes(envelope.content, policy=policy.default)
    return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def claire(live_site, settings):  # noqa: F811
    """The responsible person of a family and her validated email, built before Playwright starts
    (an ORM call inside its event loop would open a connection nothing closes)."""
    settings.MONCOMPTE_PUBLIC_URL = live_site
    responsible = make_household().responsible
    return responsible, responsible.account.contacts.get(kind="email").value


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_contact_change_notifies_the_replaced_contact(claire, browser, live_site, smtp_server, javascript):  # noqa: F811
    from playwright.sync_api import expect

    claire, old_email = claire
    context, page, problems = _open_page(browser, java_script_enabled=javascript)
    try:
        _sign_in(page, live_site, *claire.credentials)
        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        page.get_by_role("link", name="Modifier mes coordonnées").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Mes coordonnées")
        expect(page.get_by_text(old_email)).to_be_visible()
        page.get_by_role("link", name="Changer d'adresse électronique").click()

        expect(page.get_by_label("Par courriel")).to_be_checked()
        page.get_by_label("Adresse électronique").fill(NEW_EMAIL)
        page.get_by_label("Votre mot de passe actuel").fill(claire.password)
        page.get_by_role("button", name="Recevoir un code").click()
        expect(page.get_by_text("c•••@e•••.org")).to_be_visible()
        code_mail = _wait_for_mail(smtp_server, page, 1)
        assert code_mail.rcpt_tos == [NEW_EMAIL]
        page.get_by_label("Code reçu").fill(_code_from(code_mail))
        page.get_by_role("button", name="Valider").click()

        expect(page).to_have_url(live_site + "/mon-compte/coordonnees/")
        expect(page.get_by_text("Vos coordonnées sont validées.")).to_be_visible()
        expect(page.get_by_text(NEW_EMAIL)).to_be_visible()
        expect(page.get_by_text(old_email)).to_have_count(0)
        assert [p for p in problems if "Content Security Policy" in p] == [], problems

        notice = _wait_for_mail(smtp_server, page, 2)
    finally:
        context.close()
    assert notice.rcpt_tos == [old_email]
    body = _body(notice)
    assert "c•••@e•••.org" in body and NEW_EMAIL not in body
    assert "09 69 32 52 52" in body and live_site + "/aide/#nous-contacter" in body
    assert len(smtp_server.envelopes) == 2  # the code to the new address, the notice to the old one
