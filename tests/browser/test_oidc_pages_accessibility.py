"""Our OpenID provider's pages (moncompte/web/templates/oauth2_provider/) checked by axe-core (WCAG
2.1 A and AA) and for horizontal overflow at 320 px, in Chromium, as tests/browser/test_accessibility.py
checks the web channel's pages: the consent page of a third-party client, the confirmation of a
logout asked by an application, and the French pages of a refused request.

Each page is reached for real on the live server, in a browser signed in through our sign-in form,
with the requests an application would send (tests/api/test_oidc_provider.py builds them). Each one
must also say it is in French (``<html lang="fr">``) and carry its French title.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.api.test_oidc_provider import AFTER_LOGOUT_URI, authorization_params, make_client
from tests.browser.test_accessibility import Crawler, axe  # noqa: F401
from tests.browser.test_signin_browser import browser, chromium, live_site  # noqa: F401
from tests.factories import AccountFactory

pytestmark = [pytest.mark.browser]

SITE_TITLE = " — Mon Compte — Caf"
CLIENT_NAME = "Service partenaire"
# The pages and states this crawl must reach: (page, state, role), as the crawler counts them.
CHECKS = {
    ("oauth2_provider:authorize", "consent of a third-party client", "R"),
    ("oauth2_provider:authorize", "unknown client (error page)", "R"),
    ("oauth2_provider:authorize", "undecodable request (error page)", "R"),
    ("oauth2_provider:rp-initiated-logout", "forged id_token_hint (error page)", "R"),
    ("oauth2_provider:rp-initiated-logout", "confirmation, signed in", "R"),
}


@pytest.fixture
def oidc_data(live_site):  # noqa: F811
    """A person with an account and a third-party client, built before the browser starts (see
    tests.browser.test_signin_browser.site_family)."""
    account = AccountFactory()
    application = make_client(first_party=False, name=CLIENT_NAME)
    return {
        "credentials": (account.person.raw_identifier, account.raw_password),
        "authorize": "/o/authorize/?" + urlencode(authorization_params(application)),
        "unknown client": "/o/authorize/?" + urlencode(authorization_params(application, client_id="inconnu")),
        "logout": "/o/logout/?"
        + urlencode({"client_id": application.client_id, "post_logout_redirect_uri": AFTER_LOGOUT_URI}),
    }


def test_the_providers_pages_are_accessible_and_in_french(oidc_data, browser, live_site, axe):  # noqa: F811
    c = Crawler(browser, live_site, axe, "oidc-provider")
    c.expected = CHECKS  # not web pages: tests/browser/pages.py lists the web channel only
    page = c.page()

    def visit(name: str, state: str, path: str, *, status: int, title: str, heading: str) -> None:
        def action():
            response = page.goto(live_site + path)
            assert response is not None and response.status == status, f"GET {path} answered {response.status}"
            lang = page.evaluate("document.documentElement.lang")
            assert lang == "fr", f'<html lang="{lang}">, not "fr"'
            assert page.title() == title + SITE_TITLE, f"title {page.title()!r}"
            shown = page.locator("main h1").inner_text()
            assert shown == heading, f"heading {shown!r}"
            c.check(page, name, state, "R")

        c.step(f"{name} [{state}]", action)

    refused_sign_in = "La connexion à l'application n'a pas pu aboutir"
    authorize, logout = "oauth2_provider:authorize", "oauth2_provider:rp-initiated-logout"
    # (name, state, path, status, title, heading); the logout confirmation last, as it is shown to
    # a signed-in browser only (nothing is done before it is answered).
    visits = [
        (
            authorize,
            "consent of a third-party client",
            oidc_data["authorize"],
            200,
            "Autoriser l'accès à vos informations",
            f"« {CLIENT_NAME} » demande l'accès à vos informations",
        ),
        (
            authorize,
            "unknown client (error page)",
            oidc_data["unknown client"],
            400,
            "Demande refusée",
            refused_sign_in,
        ),
        (
            authorize,
            "undecodable request (error page)",
            "/o/authorize/?client_id=%zz&state=%",
            400,
            "Demande refusée",
            refused_sign_in,
        ),
        (
            logout,
            "forged id_token_hint (error page)",
            "/o/logout/?" + urlencode({"id_token_hint": "pas.un.jeton"}),
            400,
            "Demande refusée",
            "La déconnexion n'a pas pu aboutir",
        ),
        (logout, "confirmation, signed in", oidc_data["logout"], 200, "Se déconnecter", "Se déconnecter de Mon Compte"),
    ]
    if c.step("sign-in", lambda: c.sign_in(page, *oidc_data["credentials"])):
        for name, state, path, status, title, heading in visits:
            visit(name, state, path, status=status, title=title, heading=heading)
    c.finish()
