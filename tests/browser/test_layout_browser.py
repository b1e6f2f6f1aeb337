"""The page skeleton in a real Chromium: on a 320 px screen a signed-in person can sign out from
any page, with or without JavaScript, and never sees the header's tools twice (issue 9).

The DSFR hides the header's tools below its lg breakpoint and its script copies them into the
menu; without JavaScript that menu never opens, so web/_header.html shows them in a bar of their
own, which web/layout.css hides once the script runs. Screenshots are left in /tmp.
"""

import re

import pytest

from tests.browser.test_signin_browser import (  # noqa: F401
    _open_page,
    _sign_in,
    browser,
    chromium,
    live_site,
    site_family,
)

pytestmark = [pytest.mark.browser]

SMALL = {"width": 320, "height": 640}


def _sign_out_buttons(page):
    # get_by_role leaves out what is hidden (display: none, a closed modal): what a person can reach.
    return page.get_by_role("button", name="Se déconnecter")


def test_without_javascript_on_a_small_screen_one_can_sign_out_from_any_page(site_family, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    context, page, _ = _open_page(browser, java_script_enabled=False, viewport=SMALL)
    try:
        _sign_in(page, live_site, *site_family.responsible.credentials)
        page.goto(live_site + "/aide/")
        bar = page.locator(".moncompte-tools-nojs")
        expect(bar).to_be_visible()
        expect(bar.get_by_role("link", name="Aide")).to_be_visible()
        expect(bar).to_contain_text(site_family.responsible.person.display_name)
        expect(_sign_out_buttons(page)).to_have_count(1)
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()  # it would open nothing
        page.screenshot(path="/tmp/moncompte-layout-320-sans-js.png", full_page=False)
        # No horizontal overflow at 320 px with the bar shown.
        assert page.evaluate("document.documentElement.scrollWidth") <= 320

        _sign_out_buttons(page).click()
        page.wait_for_load_state("load")
        expect(page).to_have_url(re.compile(r"/connexion/\?deconnecte=1$"))
        page.goto(live_site + "/mon-compte/")
        expect(page).to_have_url(re.compile(r"/connexion/"))  # signed out for real
        expect(_sign_out_buttons(page)).to_have_count(0)
    finally:
        context.close()


def test_with_javascript_on_a_small_screen_the_tools_are_in_the_menu_only(site_family, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems = _open_page(browser, viewport=SMALL)
    try:
        _sign_in(page, live_site, *site_family.responsible.credentials)
        page.goto(live_site + "/aide/")
        page.wait_for_function("document.documentElement.getAttribute('data-fr-js') === 'true'")
        expect(page.locator(".moncompte-tools-nojs")).to_be_hidden()
        expect(_sign_out_buttons(page)).to_have_count(0)  # the menu is closed
        page.screenshot(path="/tmp/moncompte-layout-320-avec-js.png", full_page=False)

        page.get_by_role("button", name="Menu").click()
        menu = page.locator("#menu-mobile")
        expect(menu.get_by_role("button", name="Se déconnecter")).to_be_visible()
        expect(_sign_out_buttons(page)).to_have_count(1)
        page.screenshot(path="/tmp/moncompte-layout-320-avec-js-menu.png", full_page=False)
        menu.get_by_role("button", name="Se déconnecter").click()
        page.wait_for_load_state("load")
        expect(page).to_have_url(re.compile(r"/connexion/\?deconnecte=1$"))
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        context.close()


def test_on_a_large_screen_without_javascript_the_header_tools_show_once(site_family, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    context, page, _ = _open_page(browser, java_script_enabled=False, viewport={"width": 1280, "height": 800})
    try:
        _sign_in(page, live_site, *site_family.responsible.credentials)
        page.goto(live_site + "/plan-du-site/")
        expect(page.locator(".moncompte-tools-nojs")).to_be_hidden()
        expect(page.locator(".fr-header__tools").get_by_role("button", name="Se déconnecter")).to_be_visible()
        expect(_sign_out_buttons(page)).to_have_count(1)
        expect(page.get_by_role("banner").get_by_role("link", name="Aide")).to_have_count(1)
    finally:
        context.close()
