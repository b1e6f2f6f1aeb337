"""The local FranceConnect provider itself (tools/franceconnect/provider.mjs), over HTTP.

What the FranceConnect client's tests rely on: FranceConnect v2's discovery and paths, a code
flow giving an ES256 (or RS256) id_token and a signed userinfo verifying against the JWKS with
the pivot identity, each misbehaviour altering exactly what it says, the session end going back
with the state, the control API. One provider process for the whole session (the fixture's).
"""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

CALLBACK = "http://testserver/franceconnect/retour/"
LOGOUT_CALLBACK = "http://testserver/franceconnect/deconnexion/retour/"
FC_SCOPES = "openid given_name family_name birthdate gender birthplace birthcountry email"
PIVOT = ("given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry")


def _authorization_url(fc, client_id=None, redirect_uri=CALLBACK, scope=FC_SCOPES) -> tuple[str, str, str]:
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    query = {
        "response_type": "code",
        "client_id": client_id or fc.client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "acr_values": "eidas1",
        "state": state,
        "nonce": nonce,
    }
    return f"{fc.issuer}/authorize?{urlencode(query)}", state, nonce


def _callback_params(location: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def _redeem(fc, code: str, client_id=None, basic=False) -> requests.Response:
    client_id = client_id or fc.client_id
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    if basic:
        return requests.post(f"{fc.issuer}/token", data=data, auth=(client_id, fc.client_secret), timeout=10)
    data |= {"client_id": client_id, "client_secret": fc.client_secret}
    return requests.post(f"{fc.issuer}/token", data=data, timeout=10)


def _sign_in(fc, client_id=None, basic=False, scope=FC_SCOPES) -> dict:
    """A whole code flow: the callback's parameters, the token answer, the sent state and nonce."""
    url, state, nonce = _authorization_url(fc, client_id, scope=scope)
    callback = _callback_params(fc.authorize(url))
    token = _redeem(fc, callback["code"], client_id, basic)
    assert token.status_code == 200, token.text
    return {"callback": callback, "token": token.json(), "state": state, "nonce": nonce}


def _userinfo(fc, access_token: str) -> requests.Response:
    return requests.get(f"{fc.issuer}/userinfo", headers={"Authorization": f"Bearer {access_token}"}, timeout=10)


def _jwks(fc) -> dict:
    return requests.get(f"{fc.issuer}/jwks", timeout=10).json()


def _unverified(jwt: str) -> tuple[dict, dict]:
    compact = jws.extract_compact(jwt.encode())
    return compact.headers(), json.loads(compact.payload)


def _problems(fc, jwt: str, client_id: str, nonce: str | None = None) -> set[str]:
    """What a careful client would find wrong with the JWT (empty: nothing)."""
    header, claims = _unverified(jwt)
    jwks = _jwks(fc)
    found = set()
    if header["kid"] not in {key["kid"] for key in jwks["keys"]}:
        found.add("kid")
    else:
        try:
            jws.deserialize_compact(jwt, KeySet.import_key_set(jwks), algorithms=[header["alg"]])
        except BadSignatureError:
            found.add("signature")
    if claims.get("iss") != fc.issuer:
        found.add("iss")
    if claims.get("aud") != client_id:
        found.add("aud")
    if claims.get("exp", 0) <= time.time():
        found.add("exp")
    if nonce is not None:
        if claims.get("nonce") != nonce:
            found.add("nonce")
        if claims.get("acr") != "eidas1":
            found.add("acr")
    return found


# --- Discovery ----------------------------------------------------------------------------------


def test_discovery_is_franceconnect_v2s(franceconnect_provider):
    fc = franceconnect_provider
    discovery = requests.get(f"{fc.issuer}/.well-known/openid-configuration", timeout=10).json()

    assert discovery["issuer"] == fc.issuer == f"{fc.url}/api/v2"
    for name, path in {
        "authorization_endpoint": "/authorize",
        "token_endpoint": "/token",
        "userinfo_endpoint": "/userinfo",
        "end_session_endpoint": "/session/end",
        "jwks_uri": "/jwks",
    }.items():
        assert discovery[name] == fc.issuer + path
    assert "ES256" in discovery["id_token_signing_alg_values_supported"]
    assert "ES256" in discovery["userinfo_signing_alg_values_supported"]
    assert discovery["acr_values_supported"] == ["eidas1"]
    assert discovery["authorization_response_iss_parameter_supported"] is True
    assert {"client_secret_post", "client_secret_basic"} <= set(discovery["token_endpoint_auth_methods_supported"])
    assert set(FC_SCOPES.split()) | {"identite_pivot", "preferred_username"} <= set(discovery["scopes_supported"])
    assert discovery["response_types_supported"] == ["code"]

    keys = _jwks(fc)["keys"]
    assert {key["alg"] for key in keys} == {"ES256", "RS256"}
    assert all(key["kid"] and "d" not in key for key in keys)


# --- The code flow ------------------------------------------------------------------------------


def test_a_code_flow_gives_an_es256_id_token_and_a_signed_userinfo(franceconnect_provider):
    fc = franceconnect_provider
    claire = fc.identity("claire")
    assert fc.next_identity(claire) == fc.sub_of("claire")

    flow = _sign_in(fc)

    assert flow["callback"]["state"] == flow["state"] and flow["callback"]["iss"] == fc.issuer
    assert set(flow["callback"]) == {"code", "state", "iss"}
    id_token, token = flow["token"]["id_token"], flow["token"]
    assert token["token_type"].lower() == "bearer" and token["expires_in"] == 60 and "refresh_token" not in token
    header, claims = _unverified(id_token)
    assert header["alg"] == "ES256"
    assert _problems(fc, id_token, fc.client_id, flow["nonce"]) == set()
    assert claims["sub"] == fc.sub_of("claire") and claims["exp"] - claims["iat"] == 60

    userinfo = _userinfo(fc, token["access_token"])
    assert userinfo.headers["Content-Type"].startswith("application/jwt")
    assert _unverified(userinfo.text)[0]["alg"] == "ES256"
    assert _problems(fc, userinfo.text, fc.client_id) == set()
    identity = jws.deserialize_compact(userinfo.text, KeySet.import_key_set(_jwks(fc)), algorithms=["ES256"])
    person = json.loads(identity.payload)
    assert {name: person[name] for name in claire} == claire and person["sub"] == fc.sub_of("claire")

    calls = fc.calls()
    asked = calls["authorize"][-1]
    assert asked["state"] == flow["state"] and asked["nonce"] == flow["nonce"]
    assert asked["acr_values"] == "eidas1" and asked["scope"] == FC_SCOPES
    assert calls["token"][-1]["auth_method"] == "client_secret_post" and calls["token"][-1]["status"] == 200
    assert calls["userinfo"][-1]["bearer"] and calls["userinfo"][-1]["content_type"] == "application/jwt"
    assert calls["sign_ins"] == [{"sub": fc.sub_of("claire"), "via": "control"}]


def test_the_rs256_client_gets_rs256_and_client_secret_basic_is_accepted(franceconnect_provider):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("marc"))

    flow = _sign_in(fc, client_id=fc.rs256_client_id, basic=True)

    assert _unverified(flow["token"]["id_token"])[0]["alg"] == "RS256"
    assert _problems(fc, flow["token"]["id_token"], fc.rs256_client_id, flow["nonce"]) == set()
    userinfo = _userinfo(fc, flow["token"]["access_token"]).text
    assert _unverified(userinfo)[0]["alg"] == "RS256"
    assert _problems(fc, userinfo, fc.rs256_client_id) == set()
    assert fc.calls()["token"][-1]["auth_method"] == "client_secret_basic"


def test_a_wrong_client_secret_gets_no_token(franceconnect_provider):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("marc"))
    url, _, _ = _authorization_url(fc)
    code = _callback_params(fc.authorize(url))["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    data |= {"client_id": fc.client_id, "client_secret": "pas-le-bon"}

    answer = requests.post(f"{fc.issuer}/token", data=data, timeout=10)

    assert answer.status_code == 401 and "id_token" not in answer.text


def test_the_identite_pivot_scope_gives_the_pivot_claims(franceconnect_provider):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("sofia"))

    flow = _sign_in(fc, scope="openid identite_pivot")

    person = _unverified(_userinfo(fc, flow["token"]["access_token"]).text)[1]
    sofia = fc.identity("sofia")
    assert {name: person[name] for name in PIVOT} == {name: sofia[name] for name in PIVOT}
    assert "email" not in person


def test_a_given_identity_keeps_its_sub_and_claims_give_a_stable_one(franceconnect_provider):
    fc = franceconnect_provider
    claims = {**fc.identity("inconnu"), "given_name": "Ninon"}

    derived = fc.next_identity(claims)
    assert fc.next_identity(dict(claims)) == derived != fc.sub_of("inconnu")
    assert fc.next_identity(claims, sub="sub-choisi-par-le-test") == "sub-choisi-par-le-test"

    flow = _sign_in(fc)
    assert _unverified(flow["token"]["id_token"])[1]["sub"] == "sub-choisi-par-le-test"
    assert _unverified(_userinfo(fc, flow["token"]["access_token"]).text)[1]["given_name"] == "Ninon"


def test_a_next_identity_or_an_error_applies_even_to_a_browser_signed_in_at_the_provider(franceconnect_provider):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("claire"))
    _sign_in(fc)  # the browser now holds a session of the provider for Claire

    fc.next_identity(fc.identity("marc"))
    assert _unverified(_sign_in(fc)["token"]["id_token"])[1]["sub"] == fc.sub_of("marc")
    fc.misbehave("access_denied")
    url, _, _ = _authorization_url(fc)
    assert _callback_params(fc.authorize(url))["error"] == "access_denied"


def test_a_browser_signed_in_at_the_provider_consents_at_once_to_more_scopes(franceconnect_provider):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("julien"))
    _sign_in(fc, scope="openid email")
    fc.reset()  # no next identity: the provider session signs in again, without a page

    flow = _sign_in(fc, scope="openid identite_pivot")

    assert _unverified(_userinfo(fc, flow["token"]["access_token"]).text)[1]["family_name"] == "PETIT"
    assert fc.calls()["sign_ins"] == []


# --- The demo page (no next identity) ------------------------------------------------------------


def test_without_a_next_identity_the_person_chooses_on_a_french_page(franceconnect_provider):
    fc = franceconnect_provider
    url, state, _ = _authorization_url(fc)

    page = fc.browser.get(url, timeout=10)  # following the redirections, as a browser
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert "Choisissez une identité de démonstration" in page.text and '<form method="post"' in page.text
    for name in ("claire", "marc", "lea", "tom", "sofia", "julien", "inconnu"):
        assert f'value="{name}"' in page.text

    callback = _callback_params(fc.authorize(url, choose="sofia"))
    assert callback["state"] == state
    token = _redeem(fc, callback["code"]).json()
    assert _unverified(token["id_token"])[1]["sub"] == fc.sub_of("sofia")
    assert fc.calls()["sign_ins"][-1] == {"sub": fc.sub_of("sofia"), "via": "page"}


def test_cancelling_on_the_page_answers_access_denied_with_the_state(franceconnect_provider):
    fc = franceconnect_provider
    url, state, _ = _authorization_url(fc)

    location = fc.authorize(url, choose="")

    assert location.startswith(CALLBACK)
    callback = _callback_params(location)
    assert callback["error"] == "access_denied" and callback["state"] == state and "code" not in callback


# --- Misbehaviours ---------------------------------------------------------------------------------

ID_TOKEN_MISBEHAVIOURS = {
    "wrong_nonce": {"nonce"},
    "wrong_audience": {"aud"},
    "expired": {"exp"},
    "unknown_key": {"kid"},
    "bad_signature": {"signature"},
    "wrong_issuer": {"iss"},
    "wrong_acr": {"acr"},
    "missing_acr": {"acr"},
}
USERINFO_MISBEHAVIOURS = {
    "userinfo_bad_signature": {"signature"},
    "userinfo_unknown_key": {"kid"},
    "userinfo_wrong_issuer": {"iss"},
    "userinfo_wrong_audience": {"aud"},
}


@pytest.mark.parametrize(("mode", "problems"), ID_TOKEN_MISBEHAVIOURS.items())
def test_each_id_token_misbehaviour_alters_what_it_says(franceconnect_provider, mode, problems):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("claire"))
    fc.misbehave(mode)

    flow = _sign_in(fc)

    id_token = flow["token"]["id_token"]
    assert _problems(fc, id_token, fc.client_id, flow["nonce"]) == problems
    claims = _unverified(id_token)[1]
    assert claims["sub"] == fc.sub_of("claire")
    if mode == "wrong_acr":
        assert claims["acr"] == "eidas0"
    if mode == "missing_acr":
        assert "acr" not in claims
    # The userinfo is left alone.
    assert _problems(fc, _userinfo(fc, flow["token"]["access_token"]).text, fc.client_id) == set()


@pytest.mark.parametrize(("mode", "problems"), USERINFO_MISBEHAVIOURS.items())
def test_each_userinfo_misbehaviour_alters_the_signed_userinfo_only(franceconnect_provider, mode, problems):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("claire"))
    fc.misbehave(mode)

    flow = _sign_in(fc)

    assert _problems(fc, flow["token"]["id_token"], fc.client_id, flow["nonce"]) == set()
    userinfo = _userinfo(fc, flow["token"]["access_token"])
    assert userinfo.headers["Content-Type"].startswith("application/jwt")
    assert _problems(fc, userinfo.text, fc.client_id) == problems


@pytest.mark.parametrize("mode", ["access_denied", "server_error"])
def test_an_authorization_error_comes_back_to_the_callback_with_the_state(franceconnect_provider, mode):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("claire"))
    fc.misbehave(mode)
    url, state, _ = _authorization_url(fc)

    location = fc.authorize(url)

    assert location.startswith(CALLBACK)
    callback = _callback_params(location)
    assert callback["error"] == mode and callback["state"] == state and callback["iss"] == fc.issuer
    assert "code" not in callback


def test_an_unknown_mode_is_refused(franceconnect_provider):
    answer = requests.post(f"{franceconnect_provider.url}/_control/misbehave", json={"mode": "nimporte"}, timeout=10)
    assert answer.status_code == 400


def test_the_reset_ends_misbehaviour_next_identity_and_calls(franceconnect_provider):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("claire"))
    fc.misbehave("wrong_nonce")
    _sign_in(fc)

    fc.reset()

    assert fc.calls() == {"authorize": [], "token": [], "userinfo": [], "session_end": [], "jwks": [], "sign_ins": []}
    flow_url, _, _ = _authorization_url(fc)
    fc.browser.cookies.clear()
    assert "Choisissez une identité" in fc.browser.get(flow_url, timeout=10).text  # no next identity
    fc.next_identity(fc.identity("claire"))
    flow = _sign_in(fc)
    assert _problems(fc, flow["token"]["id_token"], fc.client_id, flow["nonce"]) == set()


# --- Keys ----------------------------------------------------------------------------------------


def test_rotating_the_keys_changes_the_kids(franceconnect_provider):
    fc = franceconnect_provider
    before = {key["kid"] for key in _jwks(fc)["keys"]}

    kids = fc.rotate_keys()

    after = {key["kid"] for key in _jwks(fc)["keys"]}
    assert after == set(kids) and not after & before
    fc.next_identity(fc.identity("claire"))
    flow = _sign_in(fc)
    assert _unverified(flow["token"]["id_token"])[0]["kid"] in after
    assert _problems(fc, flow["token"]["id_token"], fc.client_id, flow["nonce"]) == set()
    assert fc.calls()["jwks"][-1]["kids"] == kids


# --- Redirect URIs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri", ["http://127.0.0.1:8000/franceconnect/retour/", "http://localhost:43210/franceconnect/retour/"]
)
def test_our_callback_on_a_loopback_port_is_accepted(franceconnect_provider, redirect_uri):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("claire"))
    url, state, _ = _authorization_url(fc, redirect_uri=redirect_uri)

    location = fc.authorize(url)

    assert location.startswith(redirect_uri) and _callback_params(location)["state"] == state


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://example.com/franceconnect/retour/",
        "http://127.0.0.1:8000/ailleurs/",
        "http://127.0.0.1/franceconnect/retour/",
        "http://testserver/franceconnect/retour/?suite=1",
        "https://testserver.evil.example/franceconnect/retour/",
    ],
)
def test_any_other_redirect_uri_is_refused_without_a_redirection(franceconnect_provider, redirect_uri):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("claire"))
    url, _, _ = _authorization_url(fc, redirect_uri=redirect_uri)

    answer = fc.browser.get(url, allow_redirects=False, timeout=10)

    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "Une erreur est survenue" in answer.text


# --- Session end -------------------------------------------------------------------------------


def _session_end_url(fc, id_token: str, state: str, post_logout_redirect_uri: str = LOGOUT_CALLBACK) -> str:
    query = {"id_token_hint": id_token, "state": state, "post_logout_redirect_uri": post_logout_redirect_uri}
    return f"{fc.issuer}/session/end?{urlencode(query)}"


def test_the_session_end_goes_back_with_the_state_and_ends_the_provider_session(franceconnect_provider):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("claire"))
    id_token = _sign_in(fc)["token"]["id_token"]
    fc.reset()  # no next identity: the browser's provider session alone signs in again
    url, _, _ = _authorization_url(fc)
    assert "code" in _callback_params(fc.authorize(url))
    state = secrets.token_urlsafe(32)
    cookies_before = fc.browser.cookies.copy()

    answer = fc.end_session(_session_end_url(fc, id_token, state))

    assert answer.status_code == 302
    assert answer.headers["Location"] == f"{LOGOUT_CALLBACK}?{urlencode({'state': state})}"
    [call] = fc.calls()["session_end"]
    assert call["state"] == state and call["id_token_hint_given"] and call["id_token_hint_valid"]
    assert call["session_ended"] and call["sub"] == fc.sub_of("claire") and call["client_id"] == fc.client_id
    assert "Choisissez une identité" in fc.browser.get(url, timeout=10).text  # signed out at the provider
    with requests.Session() as replay:  # the former session cookie is worth nothing now
        replay.cookies.update(cookies_before)
        assert "Choisissez une identité" in replay.get(url, timeout=10).text


def test_the_session_end_refuses_a_bad_hint_or_an_unregistered_return(franceconnect_provider):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("claire"))
    id_token = _sign_in(fc)["token"]["id_token"]
    header, payload, signature = id_token.split(".")
    tampered = ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])

    refused = [
        fc.end_session(_session_end_url(fc, tampered, "s1")),
        fc.end_session(
            f"{fc.issuer}/session/end?{urlencode({'state': 's2', 'post_logout_redirect_uri': LOGOUT_CALLBACK})}"
        ),
        fc.end_session(_session_end_url(fc, id_token, "s3", "http://example.com/franceconnect/deconnexion/retour/")),
    ]

    assert [answer.status_code for answer in refused] == [400, 400, 400]
    assert all("Location" not in answer.headers for answer in refused)
    calls = fc.calls()["session_end"]
    assert [(call["state"], call["id_token_hint_given"], call["id_token_hint_valid"]) for call in calls] == [
        ("s1", True, False),
        ("s2", False, False),
        ("s3", True, True),
    ]
    assert not any(call["session_ended"] for call in calls)


def test_a_hint_signed_before_a_key_rotation_is_still_valid(franceconnect_provider):
    fc = franceconnect_provider
    fc.next_identity(fc.identity("claire"))
    id_token = _sign_in(fc)["token"]["id_token"]
    fc.rotate_keys()

    answer = fc.end_session(_session_end_url(fc, id_token, "apres-rotation"))

    assert answer.status_code == 302 and fc.calls()["session_end"][-1]["id_token_hint_valid"]
