"""The local FranceConnect v2 provider (tools/franceconnect/provider.mjs) as a real server for the tests.

A fixture plugin (registered in tests/conftest.py): ``franceconnect_provider`` starts the provider
with Node in a subprocess on a free loopback port once per test session (on first use; skipped
locally, failed in CI, when Node or node_modules/oidc-provider is missing: tests/support/services.py).
For each test that takes it, it resets the provider (no misbehaviour, no next identity, calls
cleared), points the FranceConnect settings at it, and empties the cache (the JWKS cached under
``franceconnect:``). The object it gives drives the provider through its control API, over HTTP,
and plays the browser's part of the flow (``authorize``, ``end_session``) with ``requests``:

    def test_claire_signs_in(client, franceconnect_provider):
        franceconnect_provider.next_identity(franceconnect_provider.identity("claire"))
        to_provider = client.get(start_url)["Location"]            # our redirection to the provider
        callback = franceconnect_provider.authorize(to_provider)  # .../franceconnect/retour/?code=…&state=…&iss=…
        response = client.get(callback)

Misbehaviours (``misbehave(mode)``, the modes of tools/franceconnect/misbehaviour.mjs) last until
the next test. docs/franceconnect.md describes the provider.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from tests.support.services import require_or_skip

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ROOT / "tools" / "franceconnect" / "provider.mjs"
IDENTITIES = ROOT / "tools" / "franceconnect" / "identities.json"
OIDC_PROVIDER_PACKAGE = ROOT / "node_modules" / "oidc-provider" / "package.json"
CLIENT_ID = "moncompte-tests"
TIMEOUT = 10


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FranceConnectProvider:
    """A running provider: its coordinates, its control API and the browser's side of the flow."""

    def __init__(self, url: str, client_secret: str):
        self.url = url
        self.issuer = f"{url}/api/v2"
        self.client_id = CLIENT_ID
        self.rs256_client_id = f"{CLIENT_ID}-rs256"
        self.client_secret = client_secret
        self._identities = json.loads(IDENTITIES.read_text(encoding="utf-8"))
        self.browser = requests.Session()  # the person's browser at the provider (its cookies)

    # Control API -------------------------------------------------------------------------------

    def _control(self, what: str, body: dict | None = None) -> dict:
        response = requests.post(f"{self.url}/_control/{what}", json=body or {}, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._control("reset")

    def identity(self, name: str) -> dict:
        """The claims of identities.json's entry ``name`` (claire, marc, lea, tom, sofia, julien, inconnu)."""
        return dict(self._identities[name]["claims"])

    def sub_of(self, name: str) -> str:
        """The ``sub`` the provider gives identities.json's entry ``name``."""
        return self._identities[name]["sub"]

    def next_identity(self, claims: dict, sub: str | None = None) -> str:
        """Every sign-in of this test signs in that person; returns the ``sub`` they get
        (``sub`` when given, else identities.json's for those claims, else one derived from them)."""
        body = {"claims": claims} if sub is None else {"claims": claims, "sub": sub}
        return self._control("next-identity", body)["sub"]

    def misbehave(self, mode: str) -> None:
        """From now on the provider misbehaves so (``none`` to stop): wrong_nonce, wrong_audience,
        expired, unknown_key, bad_signature, wrong_issuer, wrong_acr, missing_acr, access_denied,
        server_error, userinfo_bad_signature, userinfo_unknown_key, userinfo_wrong_issuer,
        userinfo_wrong_audience."""
        self._control("misbehave", {"mode": mode})

    def rotate_keys(self) -> list[str]:
        """New signing keys; returns their kids (the former ones leave the JWKS)."""
        return self._control("rotate-keys")["kids"]

    def calls(self) -> dict:
        """What the provider was asked since the reset: ``authorize`` (the query parameters),
        ``token``, ``userinfo``, ``session_end`` (state, id_token_hint_given, id_token_hint_valid,
        post_logout_redirect_uri, session_ended), ``jwks`` (each fetch) and ``sign_ins``."""
        response = requests.get(f"{self.url}/_control/calls", timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    # The browser's side ------------------------------------------------------------------------

    def authorize(self, url: str, choose: str | None = None) -> str:
        """Follows the browser from the authorization URL our site redirected to, through the
        provider's interaction, to the redirection back to our callback, and returns that
        Location (``http://testserver/franceconnect/retour/?code=…&state=…&iss=…``, or an
        ``error=…``); the Django test client goes on with ``client.get(location)``.

        With a next identity set the sign-in completes at once; otherwise the provider shows its
        page of demo identities, and ``choose`` (an identities.json key, "" to cancel) is the
        button pressed."""
        response = self.browser.get(url, allow_redirects=False, timeout=TIMEOUT)
        for _ in range(10):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if not location.startswith(self.url + "/"):
                    return location
                response = self.browser.get(location, allow_redirects=False, timeout=TIMEOUT)
            elif response.status_code == 200 and (form := _form(response.text)) is not None:
                action, fields = form
                if "identity" in fields:  # the page of demo identities: press a button
                    if choose is None:
                        raise AssertionError("the FranceConnect provider asks to choose an identity: next_identity()?")
                    fields, choose = {"identity": choose}, None
                # else oidc-provider's self-submitting form (ending a session of another person first)
                action = urljoin(response.url, action)
                response = self.browser.post(action, data=fields, allow_redirects=False, timeout=TIMEOUT)
            else:
                raise AssertionError(
                    f"the FranceConnect provider did not send the browser back: {response.status_code} "
                    f"at {response.url}: {response.text[:500]}"
                )
        raise AssertionError("the FranceConnect provider redirected the browser more than 10 times")

    def end_session(self, url: str) -> requests.Response:
        """The browser sent to the provider's session end (the URL our logout redirected to):
        the provider's answer, whose Location (a 302) goes back to our post-logout page."""
        return self.browser.get(url, allow_redirects=False, timeout=TIMEOUT)


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and self.action is None and (attributes.get("method") or "").lower() == "post":
            self.action = attributes.get("action") or ""
        elif tag in {"input", "button"} and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""


def _form(page: str) -> tuple[str, dict[str, str]] | None:
    """The first POST form of a page of the provider: its action and its fields (or None)."""
    parser = _FormParser()
    parser.feed(page)
    return None if parser.action is None else (parser.action, parser.fields)


def _start_provider(port: int, client_secret: str, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            shutil.which("node") or "node",
            str(PROVIDER),
            "--port",
            str(port),
            f"--client-id={CLIENT_ID}",
            # One argument: a random secret may start with "-", which would read as an option.
            f"--client-secret={client_secret}",
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture(scope="session")
def franceconnect_provider_server():
    """(url, client secret) of the provider process of this test session."""
    if shutil.which("node") is None:
        require_or_skip("the FranceConnect provider needs Node (apt-get install nodejs npm)")
    if not OIDC_PROVIDER_PACKAGE.is_file():
        require_or_skip("the FranceConnect provider needs oidc-provider in node_modules/ (npm ci)")
    port = _free_port()
    client_secret = secrets.token_urlsafe(32)
    url = f"http://127.0.0.1:{port}"
    # Its output goes to a file, not a pipe nobody reads (a full pipe would block it).
    with tempfile.TemporaryFile(mode="w+") as log:
        process = _start_provider(port, client_secret, log)
        deadline = time.monotonic() + 30
        while True:  # its start, not a test's synchronisation: poll until discovery answers
            try:
                requests.get(f"{url}/api/v2/.well-known/openid-configuration", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait(10)
                    log.seek(0)
                    raise RuntimeError(f"the FranceConnect provider did not start: {log.read()!r}") from None
                time.sleep(0.05)
        yield url, client_secret
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture
def franceconnect_provider(franceconnect_provider_server, settings):
    from django.core.cache import cache

    url, client_secret = franceconnect_provider_server
    provider = FranceConnectProvider(url, client_secret)
    provider.reset()
    settings.MONCOMPTE_FRANCECONNECT_ISSUER = provider.issuer
    settings.MONCOMPTE_FRANCECONNECT_CLIENT_ID = provider.client_id
    settings.MONCOMPTE_FRANCECONNECT_CLIENT_SECRET = provider.client_secret
    cache.clear()  # the provider's JWKS and discovery cached under franceconnect:
    yield provider
    provider.browser.close()
    provider.reset()
    cache.clear()
