"""A responsible person invites a member over 15 of her household, in Chromium.

The test builds a family (tests.factories) and adds Pierre (born 2008, no account) to its file.
The responsible person signs in and invites him by email from /mon-compte/foyer/inviter/; the
link is read from a real SMTP server (aiosmtpd) and opened in a fresh browser: its code, in the
fragment, fills the form and leaves the address bar; Pierre proves who he is, chooses his
password, validates an email of his own with the code read from the SMTP server, and lands on
his own page. Without JavaScript, he types the code shown in the message.
"""

import datetime
import re
import time
from email import message_from_bytes, policy

import pytest

from moncompte.households.models import Member, Role
from tests.browser.dates import fill_date
from tests.browser.test_first_connection_browser import _code_from, _wait_for_mail
from tests.browser.test_signin_browser import (  # noqa: F401
    _open_page,
    _sign_in,
    browser,
    chromium,
    live_site,
)
from tests.factories import PersonFactory, make_household
from tests.notifications.conftest import smtp_server  # noqa: F401

pytestmark = [pytest.mark.browser]

PASSWORD = "Quatre saisons 2024 au jardin"


def _body(envelope) -> str:
    message = message_from_bytes(envelope.content, policy=policy.default)
    return message.get_body(preferencelist=("plain",)).get_content()


def _first_mail(collector):
    for _ in range(100):
        if collector.envelopes:
            return collector.envelopes[0]
        time.sleep(0.1)
    raise AssertionError("no email reached the SMTP server")


@pytest.fixture
def pierre(live_site, settings):  # noqa: F811
    """A family, and Pierre, born 2008, without an account, added to its file: (family, Pierre).

    Added before Playwright starts: once its event loop runs in this thread, the ORM would open
    another connection that nothing closes (and PostgreSQL could not drop the test database).
    The links in messages come from MONCOMPTE_PUBLIC_URL: here, the live server.
    """
    settings.MONCOMPTE_PUBLIC_URL = live_site
    family = make_household()
    person = PersonFactory(
        first_names="Pierre",
        birth_name=family.responsible.person.birth_name,
        birth_date=datetime.date(2008, 4, 12),
        sex="M",
    )
    Member.objects.create(dossier=family.dossier, person=person, role=Role.AUTRE, joined_on=datetime.date(2015, 1, 1))
    return family, person


def test_a_responsible_person_invites_a_member_who_creates_his_account(pierre, browser, live_site, smtp_server):  # noqa: F811
    from playwright.sync_api import expect

    family, pierre = pierre
    pierre_name, inviter = pierre.display_name, family.responsible.person.display_name
    claire_context, page, problems = _open_page(browser)
    try:
        _sign_in(page, live_site, *family.responsible.credentials)
        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        page.goto(live_site + "/mon-compte/foyer/inviter/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Inviter un membre du foyer")
        card = page.locator(".fr-card", has_text=pierre_name)
        card.get_by_label("Par courriel").check()
        card.get_by_label("Adresse électronique de la personne invitée").fill("pierre.martin@example.fr")
        card.get_by_role("button", name="Envoyer l'invitation").click()
        expect(page.get_by_text(f"Invitation envoyée à {pierre_name} par courriel")).to_be_visible()
        expect(page.get_by_role("button", name=f"Annuler l'invitation de {pierre_name}")).to_be_visible()
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        claire_context.close()

    envelope = _first_mail(smtp_server)
    assert envelope.rcpt_tos == ["pierre.martin@example.fr"]
    link = re.search(r"https?://\S+/invitation/#(\S+)", _body(envelope))
    assert link.group(0).startswith(live_site)

    context, page, problems = _open_page(browser)
    try:
        page.goto(link.group(0))
        # The code came from the fragment into the form, and left the address bar.
        expect(page.get_by_label("Code d'invitation")).to_have_value(link.group(1))
        expect(page).to_have_url(live_site + "/invitation/")
        page.get_by_label("Votre numéro de sécurité sociale").fill(pierre.raw_identifier)
        fill_date(page, "Votre date de naissance", datetime.date(2008, 4, 12))
        page.get_by_role("button", name="Continuer").click()

        expect(page.get_by_text(f"Invitation de {inviter}")).to_be_visible()
        expect(page.get_by_text(f"Bonjour {pierre_name}")).to_be_visible()
        page.get_by_label("Nouveau mot de passe").fill(PASSWORD)
        page.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
        page.get_by_role("button", name="Créer mon compte").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Validez vos coordonnées")
        page.get_by_label("Par courriel").check()
        page.get_by_label("Adresse électronique").fill("pierre.perso@example.fr")
        page.get_by_role("button", name="Recevoir un code").click()
        expect(page.get_by_text("p•••@e•••.fr")).to_be_visible()
        code_mail = _wait_for_mail(smtp_server, page, 2)
        assert code_mail.rcpt_tos == ["pierre.perso@example.fr"]
        page.get_by_label("Code reçu").fill(_code_from(code_mail))
        page.get_by_role("button", name="Valider").click()

        # The account is usable now: the first-connection screens come first, once.
        expect(page).to_have_url(re.compile(r"/mon-compte/bienvenue/$"))
        page.get_by_role("link", name="Passer la présentation").click()
        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {pierre_name}")
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        context.close()


@pytest.fixture
def sent(pierre):
    """An invitation of Pierre, sent before Playwright starts (as ``pierre`` is built)."""
    from moncompte.core.actors import Actor, Channel
    from moncompte.households.invitations import invitation_send

    family, person = pierre
    inviter = Actor(channel=Channel.WEB, account=family.responsible.account, session_key="k")
    member = Member.objects.get(person=person)
    return person, invitation_send(actor=inviter, member=member, channel="email", destination="pierre@example.fr")


def test_without_javascript_the_code_is_typed_from_the_message(sent, browser):  # noqa: F811
    from playwright.sync_api import expect

    pierre, sent = sent
    context, page, problems = _open_page(browser, java_script_enabled=False)
    try:
        page.goto(sent.link)
        expect(page.get_by_label("Code d'invitation")).to_have_value("")
        page.get_by_label("Code d'invitation").fill(sent.code.lower().replace("-", " "))
        page.get_by_label("Votre numéro de sécurité sociale").fill(pierre.raw_identifier)
        fill_date(page, "Votre date de naissance", datetime.date(2008, 4, 12))
        page.get_by_role("button", name="Continuer").click()
        expect(page.get_by_text(f"Bonjour {pierre.display_name}")).to_be_visible()
    finally:
        context.close()
