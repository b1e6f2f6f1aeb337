"""A new beneficiary's request in a real browser (Chromium through Playwright; issue 10, point 3).

The visitor opens the housing aid's public page from the sign-in page, starts the request
without an account, fills two steps, creates the account inside the request (identity, the
code read from the outbox, the password, the provisional identifier), is back in the request
with what they typed, confirms their identity, fills the resources, submits and gets the
receipt with its reference. Then the accessibility crawl of the pages of that path
(tests/browser/pages.py, group "procedure-newcomer").
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from tests.browser.test_accessibility import Crawler, axe, crawler  # noqa: F401
from tests.browser.test_signin_browser import browser, chromium, live_site  # noqa: F401
from tests.factories import make_household
from tests.procedures.helpers import HOUSING
from tests.web.test_signup_pages import identity_data

pytestmark = [pytest.mark.browser]

PASSWORD = "Tilleuls et 30 cerisiers"
SUBMIT = "button[type=submit], button:not([type]), input[type=submit]"
REFERENCE = re.compile(r"\bAL-\d{4}-[0-9A-Z]{8}\b")


def _code_for(address: str) -> str:
    bodies = [m.body for m in mail.outbox if address in m.to]
    assert bodies, f"no message to {address}"
    return re.search(r"\b(\d{6})\b", bodies[-1]).group(1)


def _fill(page, values: dict[str, str], form: str = "main form[method=post]") -> None:
    """Type ``values`` in the form's fields by name, as a person does (a DSFR radio or checkbox
    is drawn by its label, which takes the click)."""
    scope = page.locator(form).first
    for name, value in values.items():
        inputs = scope.locator(f"[name='{name}']")
        if inputs.count() == 0:
            raise AssertionError(f"no field {name!r} on {urlsplit(page.url).path}")
        first = inputs.first
        kind = (first.get_attribute("type") or first.evaluate("e => e.tagName")).lower()
        if kind in ("radio", "checkbox"):
            choice = scope.locator(f"[name='{name}'][value='{value}']") if kind == "radio" else first
            if not choice.is_checked():
                page.locator(f"label[for='{choice.get_attribute('id')}']").click()
        elif kind == "select":
            first.select_option(value)
        else:
            first.fill(value)


def _press(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def _path(page) -> str:
    return urlsplit(page.url).path


@pytest.fixture
def newcomer_site(live_site):  # noqa: F811
    """Nothing to build: a new beneficiary has no file. Requested before ``browser``."""
    return live_site


def test_a_new_beneficiary_requests_the_housing_aid_without_an_account_and_gets_the_receipt(
    newcomer_site,
    browser,  # noqa: F811
):
    from playwright.sync_api import expect

    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        # From the sign-in page's ways in to the public page, then "Commencer ma demande".
        page.goto(newcomer_site + "/connexion/")
        page.get_by_role("link", name="Demander une aide au logement").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Demander une aide au logement")
        _press(page, "Commencer ma demande")
        assert re.fullmatch(r"/mon-compte/demarches/\d+/logement/", _path(page)), page.url
        request_path = _path(page).rsplit("/", 2)[0] + "/"

        _fill(page, HOUSING["logement"])
        _press(page, "Enregistrer et continuer")
        assert _path(page) == request_path + "loyer/"
        _fill(page, HOUSING["loyer"])
        _press(page, "Enregistrer et continuer")

        # The identity step: who makes the request. The account is created here.
        assert _path(page) == request_path + "identite/"
        expect(
            page.get_by_role("heading", name="Pour continuer, nous devons savoir qui fait la demande")
        ).to_be_visible()
        page.get_by_role("link", name="Créer mon compte").click()
        expect(page.get_by_text("vous reprendrez ensuite votre demande là où vous l'aviez laissée")).to_be_visible()
        _fill(page, identity_data(identifier="", has_nir="non"))
        _press(page, "Continuer")
        _fill(page, {"channel": "email", "email": "nouvelle@example.fr"})
        _press(page, "Recevoir un code")
        _fill(page, {"code": _code_for("nouvelle@example.fr")})
        _press(page, "Valider")
        _fill(page, {"password": PASSWORD, "password_confirm": PASSWORD})
        _press(page, "Créer mon compte")
        expect(page.get_by_role("heading", level=1)).to_have_text("Votre compte est créé")
        expect(page.locator("#identifiant-provisoire")).to_have_text(re.compile(r"^P-[0-9A-Z]{5}-[0-9A-Z]{5}$"))

        # Back in the request, signed in now: the identity to confirm, what was typed kept.
        page.get_by_role("link", name="J'ai noté mon identifiant : reprendre ma demande").click()
        assert _path(page) == request_path + "identite/", page.url
        expect(page.get_by_text("Votre demande est maintenant enregistrée dans votre compte")).to_be_visible()
        expect(page.get_by_role("main")).to_contain_text("Inès Marie")
        page.goto(newcomer_site + request_path + "loyer/")
        expect(page.locator("[name='address_line1']")).to_have_value("12 rue des Lilas")
        expect(page.locator("[name='landlord']")).to_have_value("Paris Habitat")
        page.goto(newcomer_site + request_path + "identite/")
        _fill(page, HOUSING["identite"])
        _press(page, "Enregistrer et continuer")
        assert _path(page) == request_path + "ressources/"
        _fill(page, HOUSING["ressources"])
        _press(page, "Enregistrer et continuer")

        # The summary, the attestation, the receipt with its reference.
        assert _path(page) == request_path + "recapitulatif/"
        expect(page.get_by_role("main")).to_contain_text("Paris Habitat")
        _fill(page, {"attestation": "on"})
        _press(page, "Envoyer ma demande")
        assert _path(page) == request_path + "accuse-de-reception/"
        main = page.get_by_role("main")
        expect(main).to_contain_text("Demande envoyée")
        assert REFERENCE.search(main.inner_text()), main.inner_text()[:2000]
        assert problems == [], problems
    finally:
        context.close()


# --- Accessibility of the pages of that path --------------------------------------------------


@pytest.fixture
def newcomer_data(live_site):  # noqa: F811
    """A family whose spouse (without the delegation) tries to take a visitor's draft."""
    family = make_household()
    return {"S": family.spouse.credentials}


def test_procedure_newcomer_pages(newcomer_data, crawler):  # noqa: F811
    c: Crawler = crawler("procedure-newcomer")
    page = c.page()
    if c.visit(page, "web:procedure_public"):

        def start_and_fill():
            c.submit(page)
            c.submit(page, HOUSING["logement"])
            c.submit(page, HOUSING["loyer"])
            assert _path(page).endswith("/identite/"), page.url
            c.check(page, "web:procedure_step", "identity step of a visitor's draft (create an account or sign in)")

        if c.step("web:procedure_step [identity step of a visitor]", start_and_fill):
            c.visit(page, "web:procedure_public", "a request in progress in this browser")
            c.step(
                "web:signup [inside a request]",
                lambda: (
                    page.goto(c.base + "/creer-mon-compte/?depuis=demande"),
                    c.check(page, "web:signup", "inside a request (the promise)"),
                ),
            )

            def spouse_refused():
                c.open(page, "web:signin")
                c.submit(page, {"identifier": newcomer_data["S"][0], "password": newcomer_data["S"][1]})
                response = page.goto(c.url("web:procedure_claim"))
                assert response.status == 403, f"answered {response.status}"
                c.check(page, "web:procedure_claim", "refused (spouse without the delegation)", "S")

            c.step("web:procedure_claim [refused]", spouse_refused)

    def start_by_get():
        response = page.goto(c.url("web:procedure_public_start", code="aide-au-logement"))
        assert response.status == 405, f"answered {response.status}"
        c.check(page, "web:procedure_public_start", "opened by a GET (405 page)")

    page = c.page()
    c.step("web:procedure_public_start [405]", start_by_get)

    # Created inside a request: the provisional identifier page leads back to it.
    page = c.page()

    def provisional_inside_a_request():
        c.open(page, "web:procedure_public")
        c.submit(page)
        c.submit(page, HOUSING["logement"])
        c.submit(page, HOUSING["loyer"])
        page.goto(c.base + "/creer-mon-compte/?depuis=demande")
        c.submit(page, identity_data(identifier="", has_nir="non"))
        c.submit(page, {"channel": "email", "email": "crawl@example.fr"})
        c.submit(page, {"code": _code_for("crawl@example.fr")})
        c.submit(page, {"password": PASSWORD, "password_confirm": PASSWORD})
        assert _path(page) == "/creer-mon-compte/identifiant/", page.url
        c.check(page, "web:signup_provisional", "inside a request (back to it first)", "P")

    c.step("web:signup_provisional [inside a request]", provisional_inside_a_request)
    c.finish()
