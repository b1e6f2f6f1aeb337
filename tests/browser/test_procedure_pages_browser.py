"""The accessibility crawl of a signed-in person's procedure pages (tests/browser/pages.py, group
"procedures"; the crawler of tests/browser/test_accessibility.py): the list, each kind of step
(empty, with errors, saved, the identity, the pre-filled one with the partners not answering),
the conflict page, the summary and the receipt; and what a spouse without the delegation sees.
"""

from __future__ import annotations

import re

import pytest

from moncompte.core.actors import Actor, Channel
from moncompte.procedures.services import procedure_start, procedure_submit, step_save
from tests.browser.test_accessibility import Crawler, axe, crawler  # noqa: F401
from tests.browser.test_signin_browser import browser, chromium, live_site  # noqa: F401
from tests.factories import make_household
from tests.procedures.helpers import ADDRESS_CHANGE, HOUSING

pytestmark = [pytest.mark.browser]

PROCEDURE_URL = re.compile(r"/mon-compte/demarches/(\d+)/")


@pytest.fixture
def procedure_data(live_site, settings):  # noqa: F811
    """A family whose responsible person has sent a request and has a draft in progress, built
    before the browser starts. No partner answers (nothing listens at the partners' address)."""
    family = make_household()
    actor = Actor(channel=Channel.WEB, account=family.responsible.account)
    procedure = procedure_start(actor=actor, type_code="changement-adresse").procedure
    for slug, data in ADDRESS_CHANGE.items():
        procedure = step_save(
            actor=actor, procedure=procedure, slug=slug, data=data, base_version=procedure.version
        ).procedure
    procedure_submit(actor=actor, procedure=procedure, base_version=procedure.version, attested=True)
    procedure_start(actor=actor, type_code="changement-ressources")
    return {"R": family.responsible.credentials, "S": family.spouse.credentials}


def test_procedure_pages(procedure_data, crawler):  # noqa: F811
    c: Crawler = crawler("procedures")
    page = c.page()
    found = {}

    def url(slug: str) -> str:
        return c.url("web:procedure_step", pk=found["pk"], step=slug)

    def start() -> None:
        c.open(page, "web:procedures")
        page.get_by_role("button", name="Commencer : Demande d'aide au logement").click()
        page.wait_for_url(re.compile(r"/logement/$"))
        found["pk"] = int(PROCEDURE_URL.search(page.url).group(1))

    def visit_step(slug: str) -> None:
        page.goto(url(slug))

    if c.step("sign-in as R", lambda: c.sign_in(page, *procedure_data["R"])):
        c.visit(page, "web:procedures", "drafts, sent requests and the types to start", "R")
        c.visit(page, "web:procedure_start", "opened by a GET (405 page)", "R", code="aide-au-logement")
        if c.step("start a housing aid as R", start):
            c.check(page, "web:procedure_step", "first step, empty", "R")
            c.submitted_empty(page, "web:procedure_step", role="R")
            if c.step("web:procedure_step [logement filled] as R", lambda: c.submit(page, HOUSING["logement"])):
                c.step(
                    "web:procedure_step [step with a date and choices, saved] as R",
                    lambda: (
                        visit_step("logement"),
                        c.check(page, "web:procedure_step", "step with a date and choices, saved", "R"),
                    ),
                )
            # Two devices on the rent step: the second one saves other values.
            other = c.page()
            if c.step("sign-in as R on a second device", lambda: c.sign_in(other, *procedure_data["R"])):
                c.step("open the rent step on both", lambda: (visit_step("loyer"), other.goto(url("loyer"))))
                c.step("save the rent step", lambda: c.submit(page, HOUSING["loyer"]))
                c.check(page, "web:procedure_step", "identity step of a signed-in person", "R")
                if c.step(
                    "save the rent step otherwise on the second device",
                    lambda: c.submit(other, {**HOUSING["loyer"], "rent": "720"}),
                ):
                    c.check(other, "web:procedure_step", "conflict (saved on another device)", "R")
                    c.submitted_empty(other, "web:procedure_step", "conflict submitted without a choice", "R")
            if c.step("confirm the identity", lambda: c.submit(page, HOUSING["identite"])):
                c.check(page, "web:procedure_step", "pre-filled step, partners not answering", "R")
            if c.step("fill the resources", lambda: c.submit(page, HOUSING["ressources"])):
                c.check(page, "web:procedure_summary", "every step filled", "R")
                c.submitted_empty(page, "web:procedure_summary", "submitted without the attestation", "R")
                c.visit(page, "web:procedure_cancel", "what abandoning a draft means", "R", pk=found["pk"])
                page.goto(c.url("web:procedure_summary", pk=found["pk"]))
            if c.step("send the request", lambda: c.submit(page, {"attestation": "on"})):
                c.check(page, "web:procedure_receipt", "sent", "R")
    page = c.page()
    if c.step("sign-in as S", lambda: c.sign_in(page, *procedure_data["S"])):
        c.visit(page, "web:procedures", "none of the household's, only their own to start", "S")
        if "pk" in found:
            c.visit(
                page,
                "web:procedure_step",
                "a household draft (404 page)",
                "S",
                refusal=True,
                pk=found["pk"],
                step="logement",
            )
    c.finish()


@pytest.fixture
def claire(live_site):  # noqa: F811
    """Built before the browser starts."""
    return make_household().responsible


def _fill(page, values: dict[str, str]) -> None:
    """Type ``values`` by field name; a DSFR radio or box is drawn by its label, which takes the click."""
    form = page.locator("main form[method=post]").first
    for name, value in values.items():
        inputs = form.locator(f"[name='{name}']")
        kind = (inputs.first.get_attribute("type") or "").lower()
        if kind in ("radio", "checkbox"):
            choice = form.locator(f"[name='{name}'][value='{value}']")
            if not choice.is_checked():
                page.locator(f"label[for='{choice.get_attribute('id')}']").click()
        else:
            inputs.first.fill(value)


def _continue(page) -> None:
    with page.expect_navigation():
        page.locator("main form[method=post]").first.locator("button[type=submit]").first.click()


def test_a_procedure_needs_no_javascript_from_its_start_to_its_receipt(claire, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_site + "/connexion/")
        _fill(page, {"identifier": claire.credentials[0], "password": claire.credentials[1]})
        _continue(page)
        page.goto(live_site + "/mon-compte/demarches/")
        with page.expect_navigation():
            page.get_by_role("button", name="Commencer : Demande d'aide au logement").click()
        for slug in ("logement", "loyer", "identite", "ressources"):
            expect(page).to_have_url(re.compile(rf"/{slug}/$"))
            _fill(page, HOUSING[slug])
            _continue(page)
        expect(page.get_by_role("heading", level=1)).to_contain_text("récapitulatif")
        _fill(page, {"attestation": "on"})
        _continue(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Accusé de réception")
        expect(page.get_by_role("heading", name="Demande envoyée")).to_be_visible()
        expect(page.get_by_text(re.compile(r"AL-\d{4}-[0-9A-Z]{8}")).first).to_be_visible()
    finally:
        context.close()
