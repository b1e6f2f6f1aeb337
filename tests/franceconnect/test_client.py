"""The checks of the OpenID Connect client (moncompte.franceconnect.client), one by one.

The whole flow runs against the Node provider in tests/integration/test_franceconnect_flow.py;
here a small local HTTP server answers what each test sets (discovery, keys, token, userinfo),
so that the cases the provider does not produce are covered too: ``alg: none``, a token signed
with the client secret (HS256), several audiences, a token issued in the future, an unsigned
userinfo, an unreachable or silent server.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from moncompte.franceconnect import client
from moncompte.franceconnect.client import FranceConnectFailure, FranceConnectUnavailable, SignInTokens

CLIENT_ID = "moncompte-unit"
NONCE = "n" * 43


class _Provider:
    """What the local server answers; ``seen`` counts the requests per path."""

    def __init__(self, url: str):
        self.url = url
        self.issuer = f"{url}/api/v2"
        self.keys = [ECKey.generate_key("P-256", parameters={"kid": "es-1", "alg": "ES256"})]
        self.answers: dict[str, tuple[int, str, bytes]] = {}
        self.seen: dict[str, int] = {}
        self.release = threading.Event()
        self.hang = False
        self.discovery(self.issuer)

    def discovery(self, issuer: str) -> None:
        document = {
            "issuer": issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/session/end",
        }
        self.answer("/api/v2/.well-known/openid-configuration", document)

    def answer(self, path: str, body, status: int = 200, content_type: str = "application/json") -> None:
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.answers[path] = (status, content_type, raw)

    def jwks(self) -> dict:
        return {"keys": [key.as_dict(private=False) for key in self.keys]}

    def sign(self, claims: dict, *, key=None, alg: str = "ES256") -> str:
        key = key or self.keys[0]
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])

    def id_claims(self, **changes) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": "sub-1",
            "iat": now,
            "exp": now + 60,
            "nonce": NONCE,
            "acr": "eidas1",
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}


def _handler(provider: _Provider):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            path = self.path.split("?")[0]
            provider.seen[path] = provider.seen.get(path, 0) + 1
            if provider.hang:
                provider.release.wait(30)
                return
            if path == "/api/v2/jwks" and path not in provider.answers:
                status, content_type, raw = 200, "application/json", json.dumps(provider.jwks()).encode()
            else:
                status, content_type, raw = provider.answers.get(path, (404, "text/plain", b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _serve

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def provider(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    fake = _Provider(f"http://127.0.0.1:{server.server_port}")
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.MONCOMPTE_FRANCECONNECT_ISSUER = fake.issuer
    settings.MONCOMPTE_FRANCECONNECT_CLIENT_ID = CLIENT_ID
    settings.MONCOMPTE_FRANCECONNECT_CLIENT_SECRET = "s" * 40
    settings.MONCOMPTE_FRANCECONNECT_TIMEOUT = 0.5
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()


def reason_of(call) -> str:
    with pytest.raises(FranceConnectFailure) as failure:
        call()
    return failure.value.reason


def _unsigned(claims: dict) -> str:
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


# The id_token ----------------------------------------------------------------------------------


def test_a_good_id_token_passes(provider):
    assert client.verify_id_token(provider.sign(provider.id_claims()), nonce=NONCE)["sub"] == "sub-1"


def test_an_rs256_id_token_passes(provider):
    provider.keys.append(RSAKey.generate_key(2048, parameters={"kid": "rs-1", "alg": "RS256"}))
    token = provider.sign(provider.id_claims(), key=provider.keys[-1], alg="RS256")
    assert client.verify_id_token(token, nonce=NONCE)["sub"] == "sub-1"


def test_alg_none_and_symmetric_algorithms_are_refused(provider):
    assert reason_of(lambda: client.verify_id_token(_unsigned(provider.id_claims()), nonce=NONCE)) == (
        "id_token_algorithm_refused"
    )
    # Signed with our own client secret (HS256): anyone holding the secret could forge it.
    secret = OctKey.import_key("s" * 40, parameters={"kid": "es-1"})
    forged = jwt.encode({"alg": "HS256", "kid": "es-1"}, provider.id_claims(), secret, algorithms=["HS256"])
    assert reason_of(lambda: client.verify_id_token(forged, nonce=NONCE)) == "id_token_algorithm_refused"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"nonce": "m" * 43}, "id_token_wrong_nonce"),
        ({"nonce": None}, "id_token_missing_claim"),
        ({"aud": "another-service"}, "id_token_wrong_aud"),
        ({"iss": "https://fc.example/api/v2"}, "id_token_wrong_iss"),
        ({"acr": "eidas0"}, "id_token_wrong_acr"),
        ({"acr": None}, "id_token_missing_claim"),
        ({"exp": -120}, "id_token_expired"),  # times: seconds from now, when the test runs
        ({"iat": 600}, "id_token_wrong_iat"),
        ({"sub": None}, "id_token_missing_claim"),
        ({"aud": [CLIENT_ID, "another-service"]}, "id_token_wrong_azp"),
    ],
)
def test_each_claim_is_checked(provider, changes, reason):
    # Read now, not when the tests were collected (a long run would make a future "iat" past).
    changes = {name: int(time.time()) + value if name in ("exp", "iat") else value for name, value in changes.items()}
    token = provider.sign(provider.id_claims(**changes))
    assert reason_of(lambda: client.verify_id_token(token, nonce=NONCE)) == reason


def test_several_audiences_need_us_as_the_authorized_party(provider):
    token = provider.sign(provider.id_claims(aud=[CLIENT_ID, "another-service"], azp=CLIENT_ID))
    assert client.verify_id_token(token, nonce=NONCE)["sub"] == "sub-1"


def test_stronger_levels_are_accepted_and_clocks_may_differ_a_little(provider, settings):
    now = int(time.time())
    token = provider.sign(
        provider.id_claims(acr="eidas2", exp=now - settings.MONCOMPTE_FRANCECONNECT_LEEWAY_SECONDS // 2)
    )
    assert client.verify_id_token(token, nonce=NONCE)["acr"] == "eidas2"


def test_a_bad_signature_is_refused(provider):
    header, payload, signature = provider.sign(provider.id_claims()).split(".")
    tampered = f"{header}.{payload}.{signature[::-1]}"
    assert reason_of(lambda: client.verify_id_token(tampered, nonce=NONCE)) == "id_token_bad_signature"
    other_payload = base64.urlsafe_b64encode(json.dumps(provider.id_claims(sub="sub-2")).encode()).rstrip(b"=")
    swapped = f"{header}.{other_payload.decode()}.{signature}"
    assert reason_of(lambda: client.verify_id_token(swapped, nonce=NONCE)) == "id_token_bad_signature"


@pytest.mark.parametrize("token", [None, "", "not-a-jwt", "a.b.c", 42])
def test_a_malformed_id_token_is_refused(provider, token):
    assert reason_of(lambda: client.verify_id_token(token, nonce=NONCE)).startswith("id_token_")


# Keys ------------------------------------------------------------------------------------------


def test_keys_are_cached_and_fetched_again_for_an_unknown_kid(provider):
    client.verify_id_token(provider.sign(provider.id_claims()), nonce=NONCE)
    client.verify_id_token(provider.sign(provider.id_claims()), nonce=NONCE)
    assert provider.seen["/api/v2/jwks"] == 1
    provider.keys = [ECKey.generate_key("P-256", parameters={"kid": "es-2", "alg": "ES256"})]  # rotated
    assert client.verify_id_token(provider.sign(provider.id_claims()), nonce=NONCE)["sub"] == "sub-1"
    assert provider.seen["/api/v2/jwks"] == 2


def test_a_kid_still_unknown_after_fetching_again_is_refused(provider):
    rogue = ECKey.generate_key("P-256", parameters={"kid": "rogue", "alg": "ES256"})
    token = provider.sign(provider.id_claims(), key=rogue)
    assert reason_of(lambda: client.verify_id_token(token, nonce=NONCE)) == "id_token_unknown_key"
    assert provider.seen["/api/v2/jwks"] == 2


def test_the_discovery_document_is_cached_and_must_be_the_issuers(provider, settings):
    client.metadata()
    client.metadata()
    assert provider.seen["/api/v2/.well-known/openid-configuration"] == 1
    cache.clear()
    provider.discovery("https://fc.example/api/v2")
    assert reason_of(client.metadata) == "discovery_wrong_issuer"


# The code exchange and userinfo ----------------------------------------------------------------


def test_the_code_is_exchanged_and_its_id_token_checked(provider):
    provider.answer(
        "/api/v2/token", {"access_token": "at", "token_type": "Bearer", "id_token": provider.sign(provider.id_claims())}
    )
    tokens = client.sign_in_tokens(code="c", redirect_uri="http://testserver/franceconnect/retour/", nonce=NONCE)
    assert tokens.sub == "sub-1" and tokens.access_token == "at"
    provider.answer("/api/v2/token", {"error": "invalid_grant"}, status=400)
    assert reason_of(lambda: client.sign_in_tokens(code="c", redirect_uri="http://x/", nonce=NONCE)) == "token_refused"
    provider.answer("/api/v2/token", {"access_token": "at", "token_type": "Bearer"})
    assert (
        reason_of(lambda: client.sign_in_tokens(code="c", redirect_uri="http://x/", nonce=NONCE)) == "id_token_missing"
    )


def test_userinfo_must_be_a_signed_jwt_about_the_same_person(provider):
    tokens = SignInTokens(id_token="", id_claims={"sub": "sub-1"}, access_token="at")
    claims = {"iss": provider.issuer, "aud": CLIENT_ID, "sub": "sub-1", "given_name": "Claire"}
    provider.answer("/api/v2/userinfo", provider.sign(claims), content_type="application/jwt")
    assert client.userinfo(tokens)["given_name"] == "Claire"
    provider.answer("/api/v2/userinfo", claims)  # plain JSON: not signed
    assert reason_of(lambda: client.userinfo(tokens)) == "userinfo_not_signed"
    provider.answer("/api/v2/userinfo", provider.sign({**claims, "sub": "sub-2"}), content_type="application/jwt")
    assert reason_of(lambda: client.userinfo(tokens)) == "userinfo_wrong_sub"
    provider.answer("/api/v2/userinfo", _unsigned(claims), content_type="application/jwt")
    assert reason_of(lambda: client.userinfo(tokens)) == "userinfo_algorithm_refused"


# FranceConnect away ----------------------------------------------------------------------------


def test_an_unreachable_provider_is_unavailable(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nobody listens there
    settings.MONCOMPTE_FRANCECONNECT_ISSUER = f"http://127.0.0.1:{port}/api/v2"
    with pytest.raises(FranceConnectUnavailable) as unavailable:
        client.metadata()
    assert unavailable.value.reason == "discovery_unreachable" and unavailable.value.status == 503


def test_a_silent_provider_is_unavailable(provider):
    provider.hang = True
    with pytest.raises(FranceConnectUnavailable) as unavailable:
        client.metadata()
    assert unavailable.value.reason == "discovery_unreachable"


def test_a_provider_answering_an_error_fails(provider):
    provider.answer("/api/v2/.well-known/openid-configuration", "oops", status=500, content_type="text/plain")
    assert reason_of(client.metadata) == "discovery_http_error"


def test_the_session_end_url_carries_the_hint_the_state_and_our_return(provider):
    url = client.end_session_url(id_token_hint="tok", state="st", post_logout_redirect_uri="http://testserver/r/")
    assert url.startswith(f"{provider.issuer}/session/end?")
    assert (
        "id_token_hint=tok" in url
        and "state=st" in url
        and "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2Fr%2F" in url
    )
