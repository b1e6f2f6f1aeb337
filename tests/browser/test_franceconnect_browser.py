"""FranceConnect in Chromium: the button on /connexion/, the local provider (panva's oidc-provider
on Node, tests/support/franceconnect_provider.py), the way back, the confirmation, the person's
page, and the sign-out through the provider's session end (docs/franceconnect.md).

The person comes from the factories; the provider is told who signs in (``next_identity``) with
that person's claims, or the person picks an identity on the provider's own page. Skipped
locally, failed in CI, without Chromium, Node or node_modules/oidc-provider.
"""

import copy
import datetime
import re
from urllib.parse import urlsplit

import pytest

from tests.browser.test_signin_browser import _open_page, browser, chromium, live_site  # noqa: F401
from tests.factories import AccountFactory, DossierFactory, MemberFactory, PersonFactory, make_household
from tests.integration.test_franceconnect_flow import claims_of

pytestmark = [pytest.mark.browser]

DESKTOP = {"width": 1280, "height": 900}
FRANCECONNECT_BUTTON = re.compile("FranceConnect")


@pytest.fixture
def franceconnect_site(live_site, franceconnect_provider, settings):  # noqa: F811
    """FranceConnect on for the live server, at the local provider.

    config/settings.py adds the issuer's origin to the CSP's form-action when the issuer is
    configured at start-up (the button's answer redirects there, and so does the sign-out); the
    fixture sets the issuer later, so it adds the origin the same way.
    """
    issuer = urlsplit(franceconnect_provider.issuer)
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = [*policy["DIRECTIVES"]["form-action"], f"{issuer.scheme}://{issuer.netloc}"]
    settings.CONTENT_SECURITY_POLICY = policy
    return franceconnect_provider


@pytest.fixture
def claire(franceconnect_site):
    """A responsible person with an account; built before the browser
    (see tests.browser.test_signin_browser.site_family)."""
    return make_household()


def press_the_franceconnect_button(page) -> None:
    """The button's form posts, the browser goes through the provider and comes back."""
    with page.expect_navigation():
        page.get_by_role("button", name=FRANCECONNECT_BUTTON).click()


def _csp_problems(problems: list[str]) -> list[str]:
    return [problem for problem in problems if "Content Security Policy" in problem]


def test_claire_signs_in_and_out_through_franceconnect(claire, franceconnect_site, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    provider = franceconnect_site
    person, numero = claire.responsible.person, claire.dossier.numero
    provider.next_identity(claims_of(person))
    context, page, problems = _open_page(browser, viewport=DESKTOP)
    try:
        page.goto(live_site + "/connexion/")
        press_the_franceconnect_button(page)

        # Back from the provider: recognised, asked to confirm, and nothing of the file shown yet.
        expect(page).to_have_url(live_site + "/franceconnect/confirmation/")
        first_name = person.first_names.split()[0]
        expect(page.locator("#franceconnect-reconnu")).to_contain_text(f"{first_name} {person.birth_name}")
        expect(page.get_by_role("main")).not_to_contain_text(numero)
        asked = provider.calls()["authorize"]
        assert len(asked) == 1 and asked[0]["acr_values"] == "eidas1"
        assert asked[0]["redirect_uri"] == live_site + "/franceconnect/retour/"

        page.get_by_role("button", name="Oui, c'est bien moi").click()
        expect(page).to_have_url(live_site + "/mon-compte/")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {person.display_name}")
        expect(page.get_by_role("main")).to_contain_text(f"Mon dossier n° {numero}")

        # The sign-out goes through the provider's session end, then back to "déconnecté".
        page.get_by_role("banner").get_by_role("button", name="Se déconnecter").click()
        expect(page).to_have_url(live_site + "/connexion/?deconnecte=1")
        expect(page.get_by_role("status")).to_have_text("Vous êtes déconnecté(e).")
        ended = provider.calls()["session_end"]
        assert len(ended) == 1, ended
        assert ended[0]["id_token_hint_valid"] and ended[0]["session_ended"]
        assert ended[0]["post_logout_redirect_uri"] == live_site + "/franceconnect/deconnexion/retour/"
        page.goto(live_site + "/mon-compte/")
        expect(page).to_have_url(re.compile(r"/connexion/"))

        # The next time, the link is known: no confirmation, her page at once.
        press_the_franceconnect_button(page)
        expect(page).to_have_url(live_site + "/mon-compte/")
        expect(page.get_by_role("main")).to_contain_text(f"Mon dossier n° {numero}")
        assert _csp_problems(problems) == [], problems
    finally:
        context.close()


@pytest.fixture
def claire_of_the_provider(franceconnect_site):
    """The person of the provider's "claire" identity (tools/franceconnect/identities.json), in a
    file, with an account: the one a newcomer picks on the provider's page under `make run`."""
    claims = franceconnect_site.identity("claire")
    person = PersonFactory(
        first_names=claims["given_name"],
        birth_name=claims["family_name"],
        birth_date=datetime.date.fromisoformat(claims["birthdate"]),
        sex="F" if claims["gender"] == "female" else "M",
        birth_place_code=claims["birthplace"],
    )
    MemberFactory(dossier=DossierFactory(), person=person)
    AccountFactory(person=person)
    return person, claims


def test_claire_picks_her_identity_on_the_providers_page(claire_of_the_provider, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    person, claims = claire_of_the_provider
    context, page, problems = _open_page(browser, viewport=DESKTOP)
    try:
        page.goto(live_site + "/connexion/")
        press_the_franceconnect_button(page)
        expect(page.get_by_role("heading", level=1)).to_have_text("Choisissez une identité de démonstration")
        name = f"{claims['given_name']} {claims['family_name']}"
        with page.expect_navigation(url=live_site + "/franceconnect/confirmation/"):
            page.get_by_role("button", name=re.compile(re.escape(name))).click()
        expect(page.locator("#franceconnect-reconnu")).to_contain_text(
            f"{person.first_names.split()[0]} {person.birth_name}"
        )
        assert _csp_problems(problems) == [], problems
    finally:
        context.close()
