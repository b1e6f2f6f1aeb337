"""Signing in with a real browser (Debian's Chromium driven by Playwright) on data built by the
factories (tests.factories), like every other test.

Runs on the default settings through pytest-django's live server: SQLite on a laptop,
PostgreSQL and Redis in CI. The screenshot of the home page is left in /tmp for a human to see.
"""

import re
import uuid

import pytest
from django.core.cache import cache

from tests.factories import make_household
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
WRONG_CREDENTIALS = "Numéro de sécurité sociale, identifiant provisoire ou mot de passe incorrect."


@pytest.fixture
def chromium():
    path = chromium_path()
    if path is None:
        require_or_skip("Chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture
def live_site(transactional_db, live_server, settings):
    """The live server's address, with a cache of this test's own; each test builds its data.

    The throttling counters live in the cache: with a Redis shared by several runs, a prefix of
    our own keeps one run's failed sign-ins from counting against the next.
    """
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-browser-{uuid.uuid4().hex}"
    settings.CACHES = caches
    yield live_server.url
    if hasattr(cache, "delete_pattern"):  # django-redis: drop this test's sessions and counters
        cache.delete_pattern("*")


@pytest.fixture
def site_family(live_site):
    """A family (tests.factories.make_household) for the live server.

    Requested before ``browser``: an ORM call once Playwright's event loop runs in this thread
    would open a second database connection that nobody closes.
    """
    return make_household()


@pytest.fixture
def browser(monkeypatch, chromium, live_site):
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


def test_the_responsible_person_signs_in_and_sees_the_file(site_family, browser, live_site):
    from playwright.sync_api import expect

    person = site_family.responsible.person
    context, page, problems = _open_page(browser, viewport={"width": 1280, "height": 900})
    try:
        _sign_in(page, live_site, *site_family.responsible.credentials)

        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {person.display_name}")
        main = page.get_by_role("main")
        expect(main).to_contain_text(person.first_names)
        expect(main).to_contain_text(person.birth_name)
        expect(main).to_contain_text(f"Mon dossier n° {site_family.dossier.numero}")
        expect(page.get_by_role("table")).to_contain_text("Allocations familiales")
        page.screenshot(path=SCREENSHOT, full_page=True)
        # Chromium reports a script or style refused by the Content Security Policy on its console.
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        context.close()


def test_wrong_password_shows_the_french_error_and_keeps_the_identifier(site_family, browser, live_site):
    from playwright.sync_api import expect

    identifier = site_family.responsible.identifier
    context, page, _ = _open_page(browser)
    try:
        _sign_in(page, live_site, identifier, "PasLeBonMotDePasse1")

        expect(page).to_have_url(re.compile(r"/connexion/$"))
        expect(page.get_by_role("alert")).to_contain_text(WRONG_CREDENTIALS)
        expect(page.get_by_label(IDENTIFIER_LABEL)).to_have_value(identifier)
        expect(page.get_by_label(PASSWORD_LABEL)).to_have_value("")
        expect(page).to_have_title(re.compile(r"^Erreur"))
    finally:
        context.close()


def test_sign_in_works_without_javascript(site_family, browser, live_site):
    from playwright.sync_api import expect

    context, page, _ = _open_page(browser, java_script_enabled=False)
    try:
        _sign_in(page, live_site, *site_family.responsible.credentials)

        expect(page).to_have_url(re.compile(r"/mon-compte/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Bonjour {site_family.responsible.person.display_name}"
        )
        expect(page.get_by_role("main")).to_contain_text(f"Mon dossier n° {site_family.dossier.numero}")
    finally:
        context.close()


def test_pages_run_dsfr_scripts_without_errors(site_family, browser, live_site):
    context, page, problems = _open_page(browser)
    try:
        page.goto(live_site + "/connexion/")
        page.wait_for_load_state("load")
        _sign_in(page, live_site, *site_family.responsible.credentials)
        assert problems == []
    finally:
        context.close()
