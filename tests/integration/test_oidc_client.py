"""A real OpenID Connect client that is not ours signs in to our provider over HTTP.

Authlib's ``OAuth2Session`` (requests) is the app: PKCE S256, the authorization URL, the code
exchange, the refresh, bearer calls. A ``requests`` session is the person's browser: it signs in
on our own /connexion/ page (its form and CSRF token, as a browser would) and follows the
redirects back to the app's redirect URI. The id_token is checked with joserfc against the keys
the discovery document points to. The client is registered by ``manage.py oidc_client_create``.

Runs on pytest-django's live server: SQLite locally, PostgreSQL (and Redis) in CI.
"""

from __future__ import annotations

import html.parser
import io
import re
import uuid
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from moncompte.accounts.models import AccountSession
from moncompte.api.oidc.claims import subject_of
from moncompte.core.actors import Channel
from tests.factories import AccountFactory

REDIRECT_URI = "http://127.0.0.1/app/retour"
# No run of letters a name could contain (the password may not hold the person's random names).
NEW_PASSWORD = "Qv8-Zk3w-Xp7j-Hm4t"
TIMEOUT = 30


@pytest.fixture
def site(transactional_db, live_server, settings):
    """The live server's address, with a cache of this test's own (as tests/browser do)."""
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-oidc-{uuid.uuid4().hex}"
    settings.CACHES = caches
    yield live_server.url
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")


@pytest.fixture
def sessions():
    """Every HTTP session a test opens, closed at its end: a kept-alive connection left to the
    live server's threads would outlive the test's database."""
    opened: list[requests.Session] = []

    def session(kind=requests.Session, *args, **kwargs):
        opened.append(kind(*args, **kwargs))
        return opened[-1]

    yield session
    for session in opened:
        session.close()


@pytest.fixture
def client_id(site) -> str:
    """The mobile app, registered as an operator would: public, first party."""
    out = io.StringIO()
    call_command(
        "oidc_client_create",
        "--name",
        "Caf – Mon Compte",
        "--redirect-uri",
        REDIRECT_URI,
        "--public",
        "--first-party",
        stdout=out,
        stderr=io.StringIO(),
    )
    return re.search(r"^client_id : (\S+)$", out.getvalue(), re.MULTILINE).group(1)


class _Forms(html.parser.HTMLParser):
    """The forms of a page: action and the values of their inputs."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def page_form(response: requests.Response, action_path: str) -> tuple[str, dict]:
    """The form of the page posting to ``action_path``: its absolute action and its fields."""
    parser = _Forms()
    parser.feed(response.text)
    for form in parser.forms:
        action = urljoin(response.url, form["action"])
        if urlsplit(action).path == action_path:
            return action, form["fields"]
    raise AssertionError(f"no form posting to {action_path} on {response.url}")


def follow_to_app(browser: requests.Session, response: requests.Response) -> str:
    """Follow redirects until one leads to the app's redirect URI; that URI (with the code)."""
    for _ in range(10):
        assert response.status_code in (301, 302, 303), (response.status_code, response.url, response.text[:300])
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(REDIRECT_URI):
            return location
        response = browser.get(location, allow_redirects=False, timeout=TIMEOUT)
    raise AssertionError("too many redirects")


def sign_in_through_our_page(sessions, site: str, authorization_url: str, account):
    """The person's browser: the authorization sends it to /connexion/, which it fills in.
    Returns the app's redirect URI with the code, and the browser (signed in)."""
    browser = sessions()
    response = browser.get(authorization_url, allow_redirects=False, timeout=TIMEOUT)
    signin_url = urljoin(site, response.headers["Location"])
    assert urlsplit(signin_url).path == "/connexion/"
    page = browser.get(signin_url, timeout=TIMEOUT)
    action, fields = page_form(page, "/connexion/")
    assert fields.get("csrfmiddlewaretoken") and fields.get("next", "").startswith("/o/authorize/?")
    fields.update(identifier=account.person.raw_identifier, password=account.raw_password)
    response = browser.post(action, data=fields, allow_redirects=False, timeout=TIMEOUT)
    return follow_to_app(browser, response), browser


def discovery(site: str) -> dict:
    response = requests.get(site + "/.well-known/openid-configuration", timeout=TIMEOUT)
    assert response.status_code == 200
    return response.json()


def app_session(sessions, client_id: str) -> OAuth2Session:
    return sessions(
        OAuth2Session,
        client_id,
        scope="openid profile email moncompte",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
        default_timeout=TIMEOUT,
    )


def app_sign_in(sessions, site: str, metadata: dict, client_id: str, account):
    """The app's sign-in: authorization URL with PKCE and nonce, the person signs in, the code is
    exchanged. Returns the app's session (holding its token), the nonce, the browser."""
    app = app_session(sessions, client_id)
    verifier = generate_token(64)
    nonce = generate_token(24)
    url, state = app.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    assert "code_challenge_method=S256" in url and "code_challenge=" in url
    callback, browser = sign_in_through_our_page(sessions, site, url, account)
    answer = parse_qs(urlsplit(callback).query)
    assert answer["iss"] == [metadata["issuer"]]  # RFC 9207: the mix-up defence
    app.fetch_token(metadata["token_endpoint"], authorization_response=callback, state=state, code_verifier=verifier)
    return app, nonce, browser


def verified_claims(metadata: dict, client_id: str, id_token: str, nonce: str) -> dict:
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=TIMEOUT).json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    ).validate(token.claims)
    return token.claims


def test_an_outside_client_signs_in_with_pkce_and_calls_the_api(site, client_id, sessions):
    account = AccountFactory()
    metadata = discovery(site)
    assert metadata["issuer"] == site
    app, nonce, _ = app_sign_in(sessions, site, metadata, client_id, account)

    claims = verified_claims(metadata, client_id, app.token["id_token"], nonce)
    assert claims["sub"] == subject_of(account)
    assert claims["family_name"] == (account.person.usage_name or account.person.birth_name)

    info = app.get(metadata["userinfo_endpoint"])
    assert info.status_code == 200 and info.json()["sub"] == claims["sub"]
    assert "no-store" in info.headers["Cache-Control"]
    # The REST API with the same token: the person it belongs to, nobody else.
    answer = app.get(site + reverse("api_v1:me"))
    assert answer.status_code == 200, answer.text[:300]
    assert "no-store" in answer.headers["Cache-Control"]
    assert answer.json()["first_names"] == account.person.first_names

    (session,) = AccountSession.objects.filter(account=account, channel=Channel.API)
    assert session.ended_at is None and session.device.startswith("Caf – Mon Compte")


def test_a_refresh_token_used_twice_revokes_the_family(site, client_id, sessions):
    account = AccountFactory()
    metadata = discovery(site)
    app, _, _ = app_sign_in(sessions, site, metadata, client_id, account)
    first = dict(app.token)

    rotated = app.refresh_token(metadata["token_endpoint"], refresh_token=first["refresh_token"])
    assert rotated["refresh_token"] != first["refresh_token"]
    assert app.get(metadata["userinfo_endpoint"]).status_code == 200

    # The old refresh token again (a copy stolen before the rotation): the whole family dies.
    with pytest.raises(OAuthError) as refused:
        app_session(sessions, client_id).refresh_token(metadata["token_endpoint"], refresh_token=first["refresh_token"])
    assert refused.value.error == "invalid_grant"
    assert app.get(metadata["userinfo_endpoint"]).status_code == 401
    with pytest.raises(OAuthError):
        app.refresh_token(metadata["token_endpoint"], refresh_token=rotated["refresh_token"])
    (session,) = AccountSession.objects.filter(account=account, channel=Channel.API)
    assert session.end_reason == "refresh_token_reused"


def test_a_password_change_on_the_site_revokes_the_tokens(site, client_id, sessions):
    account = AccountFactory()
    metadata = discovery(site)
    app, _, browser = app_sign_in(sessions, site, metadata, client_id, account)
    assert app.get(metadata["userinfo_endpoint"]).status_code == 200

    page = browser.get(site + "/mon-compte/mot-de-passe/", timeout=TIMEOUT)
    action, fields = page_form(page, "/mon-compte/mot-de-passe/")
    fields.update(current_password=account.raw_password, password=NEW_PASSWORD, password_confirm=NEW_PASSWORD)
    changed = browser.post(action, data=fields, allow_redirects=False, timeout=TIMEOUT)
    assert changed.status_code == 302, changed.text[:500]

    assert app.get(metadata["userinfo_endpoint"]).status_code == 401
    with pytest.raises(OAuthError):
        app.refresh_token(metadata["token_endpoint"], refresh_token=app.token["refresh_token"])
    (session,) = AccountSession.objects.filter(account=account, channel=Channel.API)
    assert session.end_reason == "password_changed"
