"""Signing in with a real browser (Debian's Chromium driven by Playwright) on the demo data.

Runs on the default settings through pytest-django's live server: SQLite on a laptop,
PostgreSQL and Redis in CI. The screenshot of the home page is left in /tmp for a human to see.
"""

import io
import re
import uuid

import pytest
from django.core.cache import cache
from django.core.management import call_command

from tests.support.services import chromium_path, require_or_skip

pytestmark = [pytest.mark.browser]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = "/tmp/moncompte-home.png"
IDENTIFIER_LABEL = "Numéro de sécurité sociale ou identifiant provisoire"
PASSWORD_LABEL = "Mot de passe"
CLAIRE = "2 85 05 75 115 042 95"
CLAIRE_PASSWORD = "Soleil2021bleu"
WRONG_CREDENTIALS = "Numéro de sécurité sociale, identifiant provisoire ou mot de passe incorrect."


@pytest.fixture
def chromium():
    path = chromium_path()
    if path is None:
        require_or_skip("Chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture
def demo_site(transactional_db, live_server, settings):
    """The live server's address, with the demo households loaded and a cache of this test's own.

    The throttling counters live in the cache: with a Redis shared by several runs, a prefix of
    our own keeps one run's failed sign-ins from counting against the next.
    """
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-browser-{uuid.uuid4().hex}"
    settings.CACHES = caches
    call_command("load_demo", stdout=io.StringIO())
    yield live_server.url
    if hasattr(cache, "delete_pattern"):  # django-redis: drop this test's sessions and counters
        cache.delete_pattern("*")


@pytest.fixture
def browser(monkeypatch, chromium, demo_site):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test database's set-up and
    # flush are synchronous Django calls made from the same thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _open_page(browser, **context_options):
    context = browser.new_context(locale="fr-FR", **context_options)
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    return context, page, problems


def _sign_in(page, base_url: str, identifier: str, password: str) -> None:
    response = page.goto(base_url + "/connexion/")
    assert response is not None and response.status == 200, f"/connexion/ answered {response and response.status}"
    page.get_by_label(IDENTIFIER_LABEL).fill(identifier)
    page.get_by_label(PASSWORD_LABEL).fill(password)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    page.wait_for_load_state("load")


def test_claire_signs_in_and_sees_her_file(browser, demo_site):
    from playwright.sync_api import expect

    context, page, problems = _open_page(browser, viewport={"width": 1280, "height": 900})
    try:
        _sign_in(page, demo_site, CLAIRE, CLAIRE_PASSWORD)

        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Claire MARTIN")
        main = page.get_by_role("main")
        expect(main).to_contain_text("Claire")
        expect(main).to_contain_text("MARTIN")
        expect(main).to_contain_text("Mon dossier n° 1234567")
        expect(page.get_by_role("table")).to_contain_text("Allocations familiales")
        page.screenshot(path=SCREENSHOT, full_page=True)
        # Chromium reports a script or style refused by the Content Security Policy on its console.
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        context.close()


def test_wrong_password_shows_the_french_error_and_keeps_the_identifier(browser, demo_site):
    from playwright.sync_api import expect

    context, page, _ = _open_page(browser)
    try:
        _sign_in(page, demo_site, CLAIRE, "PasLeBonMotDePasse1")

        expect(page).to_have_url(re.compile(r"/connexion/$"))
        expect(page.get_by_role("alert")).to_contain_text(WRONG_CREDENTIALS)
        expect(page.get_by_label(IDENTIFIER_LABEL)).to_have_value(CLAIRE)
        expect(page.get_by_label(PASSWORD_LABEL)).to_have_value("")
        expect(page).to_have_title(re.compile(r"^Erreur"))
    finally:
        context.close()


def test_sign_in_works_without_javascript(browser, demo_site):
    from playwright.sync_api import expect

    context, page, _ = _open_page(browser, java_script_enabled=False)
    try:
        _sign_in(page, demo_site, CLAIRE, CLAIRE_PASSWORD)

        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Claire MARTIN")
        expect(page.get_by_role("main")).to_contain_text("Mon dossier n° 1234567")
    finally:
        context.close()


def test_pages_run_dsfr_scripts_without_errors(browser, demo_site):
    context, page, problems = _open_page(browser)
    try:
        page.goto(demo_site + "/connexion/")
        page.wait_for_load_state("load")
        _sign_in(page, demo_site, CLAIRE, CLAIRE_PASSWORD)
        assert problems == []
    finally:
        context.close()
