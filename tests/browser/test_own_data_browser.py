"""The own-data export at 320 px, and the focus after a failed submit, in a real Chromium."""

import pytest

from tests.browser.test_signin_browser import (  # noqa: F401  (fixtures)
    _open_page,
    _sign_in,
    browser,
    chromium,
    live_site,
    site_family,
)
from tests.web.test_signup_pages import identity_data

pytestmark = [pytest.mark.browser]

EXPORT = "/mon-compte/mes-donnees/export/"


def _widths(page) -> dict:
    return page.evaluate(
        """() => ({
            scroll: document.documentElement.scrollWidth,
            client: document.documentElement.clientWidth,
            wide: [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                             && !e.closest('.fr-table'))
                .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 40)),
        })"""
    )


@pytest.mark.parametrize("javascript", [True, False])
def test_the_export_fits_a_320_px_screen(site_family, browser, live_site, javascript):  # noqa: F811
    # The journal's long action labels and addresses, the identifier, the tables: nothing may
    # widen the page (the tables scroll inside their own DSFR wrapper).
    person = site_family.responsible.person
    person.birth_place_code = "75115"
    person.save()
    context, page, _ = _open_page(browser, viewport={"width": 320, "height": 640}, java_script_enabled=javascript)
    try:
        _sign_in(page, live_site, *site_family.responsible.credentials)
        response = page.goto(live_site + EXPORT)
        assert response is not None and response.status == 200
        page.wait_for_load_state("load")
        widths = _widths(page)
        assert widths["scroll"] <= 320, widths
        assert "Paris 15e Arrondissement (75)" in page.inner_text("main")
        page.screenshot(path=f"/tmp/moncompte-export-320-{javascript}.png", full_page=True)
    finally:
        context.close()


def test_the_focus_moves_to_the_error_summary_without_javascript(site_family, browser, live_site):  # noqa: F811
    context, page, _ = _open_page(browser, java_script_enabled=False, viewport={"width": 1024, "height": 768})
    try:
        page.goto(live_site + "/creer-mon-compte/")
        for name, value in identity_data(has_nir="non", identifier="", birth_day="31", birth_month="02").items():
            field = page.locator(f'[name="{name}"]')
            if name in {"has_nir", "sex"}:
                page.locator(f'[name="{name}"][value="{value}"]').check(force=True)
            elif name == "birth_country":
                field.select_option(value)
            else:
                field.fill(value)
        page.get_by_role("button", name="Continuer").click()
        page.wait_for_load_state("load")
        focused = page.evaluate(
            "() => document.activeElement && document.activeElement.hasAttribute('data-error-summary')"
        )
        assert focused, page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
        summary = page.locator("[data-error-summary]")
        assert "Date de naissance" in summary.inner_text() or "date" in summary.inner_text()
        day = page.locator('[name="birth_day"]')
        assert day.get_attribute("aria-invalid") == "true"
        assert "date-naissance-erreur" in day.get_attribute("aria-describedby")
    finally:
        context.close()
