"""Our OpenID provider in process (Django's test client): discovery, the code flow with PKCE S256,
the id_token checked against our JWKS with joserfc (Authlib's JOSE library), refresh rotation and
reuse, every way the app's session ends, consent, logout, and hostile requests.

The real client against a live server is tests/integration/test_oidc_client.py.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from oauth2_provider.models import get_application_model, get_refresh_token_model

from config import secrets as secrets_list
from moncompte.accounts.models import AccountSession
from moncompte.accounts.recovery import password_change, password_reset_complete
from moncompte.accounts.services import account_deactivate
from moncompte.accounts.sessions import session_end
from moncompte.accounts.tokens import api_session_key
from moncompte.api.oidc.claims import subject_of
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.web.signin.targets import after_signin
from tests.conftest import sign_in
from tests.factories import AccountFactory, ContactFactory, bearer

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "http://testserver"
REDIRECT_URI = "http://127.0.0.1/retour"
AFTER_LOGOUT_URI = "http://127.0.0.1/au-revoir"
# No run of letters a name could contain (the password may not hold the person's random names).
NEW_PASSWORD = "Kx4-Wq9z-Vp2m-Th7j"


def make_client(*, first_party=True, confidential=False, name="Caf – Mon Compte (essai)"):
    """A client as oidc_client_create registers it (the command is tested below)."""
    model = get_application_model()
    application = model(
        name=name,
        client_type=model.CLIENT_CONFIDENTIAL if confidential else model.CLIENT_PUBLIC,
        authorization_grant_type=model.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
        post_logout_redirect_uris=AFTER_LOGOUT_URI,
        skip_authorization=first_party,
        algorithm=model.RS256_ALGORITHM,
        client_secret="un-secret-de-test-assez-long-0123456789" if confidential else "",
    )
    application.raw_secret = application.client_secret
    application.save()
    return application


def signed_in_browser(account) -> Client:
    browser = Client()
    response = sign_in(browser, account.person.raw_identifier, account.raw_password)
    assert response.status_code == 302
    return browser


def authorization_params(application, *, verifier=None, **changes) -> dict:
    params = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email phone",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": create_s256_code_challenge(verifier or "v" * 50),
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return {key: value for key, value in params.items() if value is not None}


def authorize(browser, application, **changes):
    return browser.get("/o/authorize/?" + urlencode(authorization_params(application, **changes)))


def redirect_query(response) -> dict:
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


class Flow:
    """One sign-in of the app: the authorization with PKCE, then the code exchange."""

    def __init__(self, account, application, *, scope="openid profile email phone", browser=None):
        self.account = account
        self.application = application
        self.browser = browser or signed_in_browser(account)
        self.verifier = secrets.token_urlsafe(48)
        self.nonce = secrets.token_urlsafe(16)
        answer = redirect_query(
            authorize(self.browser, application, verifier=self.verifier, nonce=self.nonce, scope=scope)
        )
        assert "error" not in answer, answer
        self.state_answer = answer
        self.tokens = exchange(application, answer["code"], self.verifier)
        # The family of this sign-in: its API session's key (kept, as revocations delete the tokens).
        self.family = (
            get_refresh_token_model().objects.get(access_token__token_checksum=checksum(self.access)).token_family
        )

    @property
    def access(self) -> str:
        return self.tokens["access_token"]

    @property
    def refresh(self) -> str:
        return self.tokens["refresh_token"]

    def session(self) -> AccountSession:
        return AccountSession.objects.get(session_key=api_session_key(self.family))


def checksum(token: str) -> str:
    """How the provider stores a token: its SHA-256 only."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_request(application, **data):
    if application.client_type == application.CLIENT_CONFIDENTIAL:
        data["client_secret"] = application.raw_secret
    return Client().post("/o/token/", {"client_id": application.client_id, **data})


def exchange(application, code, verifier) -> dict:
    response = token_request(
        application, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier
    )
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    return response.json()


def refresh(application, refresh_token):
    return token_request(application, grant_type="refresh_token", refresh_token=refresh_token)


def userinfo(access_token):
    return Client().get("/o/userinfo/", **bearer(access_token))


def verified_id_token(id_token: str, application, nonce: str) -> dict:
    keys = KeySet.import_key_set(Client().get("/.well-known/jwks.json").json())
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    assert token.header["alg"] == "RS256"
    JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": application.client_id},
        sub={"essential": True},
        exp={"essential": True},
        nonce={"essential": True, "value": nonce},
    ).validate(token.claims)
    return token.claims


def journaled(action: JournalAction, account) -> list[JournalEntry]:
    return list(JournalEntry.objects.filter(action=action.value, actor_person=account.person).order_by("id"))


# --- Discovery and keys -----------------------------------------------------------------------


def test_discovery_says_what_the_provider_does():
    response = Client().get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    document = response.json()
    assert document["issuer"] == ISSUER
    assert document["authorization_endpoint"] == f"{ISSUER}/o/authorize/"
    assert document["token_endpoint"] == f"{ISSUER}/o/token/"
    assert document["userinfo_endpoint"] == f"{ISSUER}/o/userinfo/"
    assert document["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert document["end_session_endpoint"] == f"{ISSUER}/o/logout/"
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in document["id_token_signing_alg_values_supported"]
    assert {"openid", "profile", "email", "phone"} <= set(document["scopes_supported"])
    assert {"sub", "given_name", "family_name", "birthdate", "email", "phone_number"} <= set(
        document["claims_supported"]
    )
    assert "none" in document["token_endpoint_auth_methods_supported"]


def test_the_keys_are_public_rsa_keys_only():
    response = Client().get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    (key,) = response.json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key), "a private part of the key is published"


# --- The code flow ----------------------------------------------------------------------------


def test_the_code_flow_with_pkce_gives_tokens_and_an_id_token_signed_by_our_keys(settings):
    account = AccountFactory()
    ContactFactory(account=account, phone=True)
    application = make_client()
    flow = Flow(account, application)

    assert flow.tokens["token_type"] == "Bearer"
    assert flow.tokens["expires_in"] == settings.MONCOMPTE_OIDC_ACCESS_TOKEN_SECONDS
    assert "iss" in flow.state_answer and flow.state_answer["iss"] == ISSUER
    claims = verified_id_token(flow.tokens["id_token"], application, flow.nonce)
    person = account.person
    assert claims["sub"] == subject_of(account)
    assert claims["acr"] == settings.MONCOMPTE_OIDC_ACR
    assert claims["given_name"] == person.first_names
    assert claims["birthdate"] == person.birth_date.isoformat()

    answer = userinfo(flow.access)
    assert answer.status_code == 200, answer.content
    assert "no-store" in answer["Cache-Control"]
    info = answer.json()
    assert info["sub"] == claims["sub"]
    assert info["family_name"] == (person.usage_name or person.birth_name)
    assert info["email"] == account.contacts.get(kind="email").value and info["email_verified"] is True
    assert info["phone_number"] == account.contacts.get(kind="phone").value


def test_the_id_token_does_not_verify_against_another_key():
    from joserfc.jwk import RSAKey

    account = AccountFactory()
    flow = Flow(account, make_client())
    with pytest.raises(BadSignatureError):
        jwt.decode(flow.tokens["id_token"], RSAKey.generate_key(2048), algorithms=["RS256"])


def test_claims_follow_the_scopes():
    account = AccountFactory()
    ContactFactory(account=account, phone=True)
    flow = Flow(account, make_client(), scope="openid")
    info = userinfo(flow.access).json()
    assert set(info) == {"sub"}
    claims = verified_id_token(flow.tokens["id_token"], flow.application, flow.nonce)
    assert not {"given_name", "family_name", "birthdate", "email", "phone_number"} & set(claims)


def test_sub_is_opaque_stable_and_never_the_nir():
    account, other = AccountFactory(), AccountFactory()
    sub = Flow(account, make_client()).tokens["id_token"] and subject_of(account)
    assert sub == subject_of(account)  # the same at every sign-in, in every client
    assert sub != subject_of(other)
    person = account.person
    assert person.identifier_value not in sub and str(person.pk) != sub and str(account.pk) != sub
    assert len(sub) == 32 and int(sub, 16) >= 0


def test_sub_needs_the_subject_key(settings):
    """A keyed HMAC: whoever lacks the key cannot compute a person's sub from their id."""
    account = AccountFactory()
    sub = subject_of(account)
    settings.MONCOMPTE_OIDC_SUBJECT_KEY += "-une-autre-cle"
    assert subject_of(account) != sub


def test_the_sign_in_opens_an_api_session_listed_with_the_devices_and_journaled():
    account = AccountFactory()
    application = make_client()
    flow = Flow(account, application)
    session = flow.session()
    assert session.channel == Channel.API and session.ended_at is None
    assert session.account == account
    assert session.device.startswith(application.name)
    (entry,) = journaled(JournalAction.OIDC_SIGNIN, account)
    assert entry.channel == Channel.API


def test_a_code_serves_once():
    account = AccountFactory()
    application = make_client()
    browser = signed_in_browser(account)
    verifier = secrets.token_urlsafe(48)
    code = redirect_query(authorize(browser, application, verifier=verifier))["code"]
    exchange(application, code, verifier)
    again = token_request(
        application, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_wrong_code_verifier_is_refused():
    account = AccountFactory()
    application = make_client()
    code = redirect_query(authorize(signed_in_browser(account), application, verifier="a" * 50))["code"]
    response = token_request(
        application, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier="b" * 50
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


# --- PKCE: S256 only, for every client ----------------------------------------------------------


@pytest.mark.parametrize("method", ["plain", None])
def test_plain_pkce_is_refused(method):
    """``plain`` named, or no method at all (which means plain): invalid_request, no code."""
    account = AccountFactory()
    application = make_client()
    answer = redirect_query(
        authorize(signed_in_browser(account), application, code_challenge="p" * 50, code_challenge_method=method)
    )
    assert answer["error"] == "invalid_request"
    assert "S256" in answer["error_description"]
    assert "code" not in answer


@pytest.mark.parametrize("confidential", [False, True], ids=["public", "confidential"])
def test_a_missing_challenge_is_refused(confidential):
    account = AccountFactory()
    application = make_client(confidential=confidential)
    answer = redirect_query(
        authorize(signed_in_browser(account), application, code_challenge=None, code_challenge_method=None)
    )
    assert answer["error"] == "invalid_request"
    assert "code" not in answer


def test_a_malformed_s256_challenge_is_refused():
    account = AccountFactory()
    answer = redirect_query(authorize(signed_in_browser(account), make_client(), code_challenge="x" * 200))
    assert answer["error"] == "invalid_request"


def test_a_confidential_client_with_pkce_gets_its_tokens():
    account = AccountFactory()
    application = make_client(confidential=True, first_party=True)
    flow = Flow(account, application)
    assert userinfo(flow.access).status_code == 200


# --- Refresh: rotation, reuse ---------------------------------------------------------------------


def test_a_refresh_rotates_both_tokens_and_keeps_the_session():
    account = AccountFactory()
    application = make_client()
    flow = Flow(account, application)
    response = refresh(application, flow.refresh)
    assert response.status_code == 200, response.content
    rotated = response.json()
    assert rotated["refresh_token"] != flow.refresh and rotated["access_token"] != flow.access
    assert userinfo(rotated["access_token"]).status_code == 200
    assert userinfo(flow.access).status_code == 401
    newest = get_refresh_token_model().objects.get(access_token__token_checksum=checksum(rotated["access_token"]))
    assert newest.token_family == flow.family
    assert flow.session().ended_at is None
    assert AccountSession.objects.filter(account=account, channel=Channel.API).count() == 1


def test_a_refresh_token_used_twice_revokes_the_whole_family_and_ends_the_session():
    account = AccountFactory()
    application = make_client()
    flow = Flow(account, application)
    family = flow.family
    rotated = refresh(application, flow.refresh).json()

    replay = refresh(application, flow.refresh)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # The newest tokens of the family die too: the thief and the rightful app both start over.
    assert userinfo(rotated["access_token"]).status_code == 401
    assert refresh(application, rotated["refresh_token"]).status_code == 400
    assert not get_refresh_token_model().objects.filter(token_family=family, revoked__isnull=True).exists()
    session = AccountSession.objects.get(session_key=api_session_key(family))
    assert session.ended_at is not None and session.end_reason == "refresh_token_reused"
    # Journaled once: the tries that follow (the app's own newest token) find the session ended.
    (entry,) = journaled(JournalAction.OIDC_REFRESH_REUSED, account)
    assert entry.detail == {"reason": "refresh_token_reused", "ended": 1}
    assert entry.channel == Channel.API


def test_a_reuse_leaves_the_other_sessions_alone():
    account = AccountFactory()
    application = make_client()
    first, second = Flow(account, application), Flow(account, application)
    refresh(application, first.refresh)
    refresh(application, first.refresh)
    assert userinfo(second.access).status_code == 200
    assert second.session().ended_at is None


def test_a_refresh_token_of_another_client_is_refused():
    account = AccountFactory()
    application, other = make_client(), make_client(name="Autre service")
    flow = Flow(account, application)
    assert refresh(other, flow.refresh).status_code == 400
    assert refresh(application, flow.refresh).status_code == 200


def test_an_unused_refresh_token_expires(settings):
    account = AccountFactory()
    application = make_client()
    flow = Flow(account, application)
    access = get_refresh_token_model().objects.get(token_family=flow.family).access_token
    unused = datetime.timedelta(days=settings.MONCOMPTE_OIDC_REFRESH_TOKEN_DAYS, seconds=1)
    access.expires = timezone.now() - unused
    access.save(update_fields=["expires"])
    assert refresh(application, flow.refresh).status_code == 400


# --- Every other end of the app's session revokes its tokens -----------------------------------


def _web_actor(browser, account) -> Actor:
    return Actor(channel=Channel.WEB, account=account, session_key=browser.session.session_key)


def _assert_revoked(flow, reason):
    assert userinfo(flow.access).status_code == 401
    assert refresh(flow.application, flow.refresh).status_code == 400
    session = AccountSession.objects.get(session_key=api_session_key(flow.family))
    assert session.ended_at is not None and session.end_reason == reason


def _flow(account=None):
    return Flow(account or AccountFactory(), make_client())


def test_a_password_change_revokes_the_tokens():
    flow = _flow()
    password_change(
        actor=_web_actor(flow.browser, flow.account),
        current_password=flow.account.raw_password,
        new_password=NEW_PASSWORD,
    )
    _assert_revoked(flow, "password_changed")
    # The app trying its refresh token afterwards is no reuse to tell the person about.
    assert journaled(JournalAction.OIDC_REFRESH_REUSED, flow.account) == []


def test_a_password_reset_revokes_the_tokens():
    flow = _flow()
    password_reset_complete(
        actor=Actor.visitor(channel=Channel.WEB, client_address="127.0.0.1"),
        account=flow.account,
        password=NEW_PASSWORD,
    )
    _assert_revoked(flow, "password_reset")


def test_a_deactivation_revokes_the_tokens_and_the_account_gets_no_new_ones():
    flow = _flow()
    account_deactivate(actor=Actor.system(), account=flow.account)
    _assert_revoked(flow, "account_deactivated")


def test_a_deactivated_account_is_refused_even_with_a_token_left_behind():
    """The deactivation revokes; and a token that escaped it is refused anyway."""
    flow = _flow()
    type(flow.account).objects.filter(pk=flow.account.pk).update(is_active=False)
    assert userinfo(flow.access).status_code == 401
    assert refresh(flow.application, flow.refresh).status_code == 400


def test_ending_the_session_from_my_devices_revokes_the_tokens():
    flow = _flow()
    session_end(actor=_web_actor(flow.browser, flow.account), session_id=flow.session().id)
    _assert_revoked(flow, "ended_by_person")


def test_the_my_devices_page_lists_and_ends_the_app_session():
    flow = _flow()
    page = flow.browser.get("/mon-compte/appareils/")
    assert flow.application.name in page.content.decode()
    response = flow.browser.post(f"/mon-compte/appareils/{flow.session().id}/fermer/")
    assert response.status_code == 302
    _assert_revoked(flow, "ended_by_person")


# --- Revocation and logout --------------------------------------------------------------------


@pytest.mark.parametrize("which", ["refresh_token", "access_token"])
def test_the_revocation_endpoint_ends_the_family_and_the_session(which):
    flow = _flow()
    token = flow.refresh if which == "refresh_token" else flow.access
    response = Client().post(
        "/o/revoke_token/", {"token": token, "token_type_hint": which, "client_id": flow.application.client_id}
    )
    assert response.status_code == 200
    _assert_revoked(flow, "revoked")
    (entry,) = journaled(JournalAction.OIDC_REVOKED, flow.account)
    assert entry.detail["ended"] == 1


def test_another_client_cannot_revoke_the_tokens():
    flow = _flow()
    other = make_client(name="Autre service")
    Client().post("/o/revoke_token/", {"token": flow.refresh, "client_id": other.client_id})
    assert userinfo(flow.access).status_code == 200
    assert flow.session().ended_at is None


def test_the_app_logout_without_a_web_session_ends_the_app_session_and_returns_to_the_app():
    flow = _flow()
    state = secrets.token_urlsafe(8)
    response = Client().get(
        "/o/logout/?"
        + urlencode(
            {"id_token_hint": flow.tokens["id_token"], "post_logout_redirect_uri": AFTER_LOGOUT_URI, "state": state}
        )
    )
    assert response.status_code == 302
    assert response["Location"] == f"{AFTER_LOGOUT_URI}?state={state}"
    _assert_revoked(flow, "logout")
    (entry,) = journaled(JournalAction.OIDC_LOGOUT, flow.account)
    assert entry.detail == {"reason": "logout", "ended": 1}


def test_the_app_logout_in_a_signed_in_browser_asks_then_signs_out_everywhere_it_said():
    flow = _flow()
    other_app = Flow(flow.account, make_client(name="Autre service"), browser=flow.browser)
    query = urlencode({"id_token_hint": flow.tokens["id_token"], "post_logout_redirect_uri": AFTER_LOGOUT_URI})
    page = flow.browser.get("/o/logout/?" + query)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Se déconnecter de Mon Compte" in text and flow.application.name in text
    assert "http://127.0.0.1" in page["Content-Security-Policy"].split("form-action")[1].split(";")[0]
    assert userinfo(flow.access).status_code == 200  # nothing done before the confirmation

    fields = {name: value for name, value in page.context["form"].initial.items() if value}
    response = flow.browser.post("/o/logout/", {**fields, "allow": "on"})
    assert response.status_code == 302 and response["Location"] == AFTER_LOGOUT_URI
    _assert_revoked(flow, "logout")
    # The web session ended (journaled as a sign-out); the other app's session is its own.
    assert flow.browser.get("/mon-compte/").status_code == 302
    assert journaled(JournalAction.SIGNOUT, flow.account)
    assert userinfo(other_app.access).status_code == 200


def test_a_logout_with_a_forged_hint_is_refused_with_a_french_page():
    flow = _flow()
    header, payload, _ = flow.tokens["id_token"].split(".")
    for hint in [f"{header}.{payload}.{'A' * 342}", "pas.un.jeton", "%%%", "a" * 5000]:
        response = Client().get("/o/logout/?" + urlencode({"id_token_hint": hint}))
        assert response.status_code == 400, hint
        assert "La déconnexion n'a pas pu aboutir" in response.content.decode()
    assert userinfo(flow.access).status_code == 200


def test_a_logout_naming_an_unknown_client_is_refused():
    response = Client().get("/o/logout/?client_id=inconnu&post_logout_redirect_uri=" + AFTER_LOGOUT_URI)
    assert response.status_code == 400


def test_a_logout_to_an_unregistered_address_is_refused():
    flow = _flow()
    response = Client().get(
        "/o/logout/?"
        + urlencode({"id_token_hint": flow.tokens["id_token"], "post_logout_redirect_uri": "https://ailleurs.example/"})
    )
    assert response.status_code == 400
    assert userinfo(flow.access).status_code == 200


# --- Sign-in, contact, consent -----------------------------------------------------------------


def test_a_visitor_signs_in_on_our_page_and_comes_back_to_the_authorization():
    account = AccountFactory()
    application = make_client()
    browser = Client()
    params = authorization_params(application)
    start = browser.get("/o/authorize/?" + urlencode(params))
    assert start.status_code == 302
    signin_url = urlsplit(start["Location"])
    assert signin_url.path == "/connexion/"
    next_path = parse_qs(signin_url.query)["next"][0]
    assert next_path.startswith("/o/authorize/?")
    assert after_signin(next_path) == next_path, "the sign-in page would drop the authorization"

    signed = browser.post(
        "/connexion/",
        {"identifier": account.person.raw_identifier, "password": account.raw_password, "next": next_path},
    )
    assert signed.status_code == 302 and signed["Location"] == next_path
    answer = redirect_query(browser.get(next_path))
    assert answer["state"] == params["state"] and answer["code"]


def test_an_account_without_a_validated_contact_is_sent_to_the_contact_validation():
    account = AccountFactory(with_contact=False)
    browser = Client()
    sign_in(browser, account.person.raw_identifier, account.raw_password)
    response = authorize(browser, make_client())
    assert response.status_code == 302 and response["Location"] == "/mon-compte/coordonnees/valider/"


def test_a_first_party_client_skips_the_consent():
    account = AccountFactory()
    answer = redirect_query(authorize(signed_in_browser(account), make_client(first_party=True)))
    assert answer["code"]


def test_a_third_party_client_gets_the_french_consent_page():
    account = AccountFactory()
    application = make_client(first_party=False, name="Service partenaire")
    browser = signed_in_browser(account)
    verifier = secrets.token_urlsafe(48)
    page = authorize(browser, application, verifier=verifier)
    assert page.status_code == 200
    text = page.content.decode()
    assert "« Service partenaire » demande l'accès à vos informations" in text
    assert "Vos nom, prénoms et date de naissance" in text
    assert account.person.identifier_value not in text
    # The form's answer redirects to the client: form-action lets the browser follow it.
    assert "http://127.0.0.1" in page["Content-Security-Policy"].split("form-action")[1].split(";")[0]

    fields = {name: value for name, value in page.context["form"].initial.items() if value}
    refused = redirect_query(browser.post("/o/authorize/", fields))
    assert refused["error"] == "access_denied" and "code" not in refused

    allowed = redirect_query(browser.post("/o/authorize/", {**fields, "allow": "on"}))
    assert exchange(application, allowed["code"], verifier)["access_token"]


def test_only_a_first_party_client_gets_the_api_scope():
    """The REST API's scope (the whole Mon Compte) is refused to another Caf service, even with the
    person's consent; a token without it reads nothing of the API."""
    account = AccountFactory()
    third_party = make_client(first_party=False, name="Service partenaire")
    refused = redirect_query(authorize(signed_in_browser(account), third_party, scope="openid moncompte"))
    assert refused["error"] == "invalid_scope" and "code" not in refused

    identity_only = Flow(account, make_client(first_party=True), scope="openid profile")
    answer = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {identity_only.access}")
    assert answer.status_code == 403 and answer.json()["code"] == "insufficient_scope"
    assert identity_only.session().ended_at is None  # refused, not signed out

    app = Flow(account, make_client(first_party=True), scope="openid moncompte")
    answer = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {app.access}")
    assert answer.status_code == 200


def test_prompt_none_skips_the_consent_for_a_first_party_client_only():
    """Without a page to show (prompt=none), a third-party client gets consent_required, no code."""
    browser = signed_in_browser(AccountFactory())
    first_party = redirect_query(authorize(browser, make_client(first_party=True), prompt="none"))
    assert first_party["code"]
    third_party = redirect_query(
        authorize(browser, make_client(first_party=False, name="Service partenaire"), prompt="none")
    )
    assert third_party["error"] == "consent_required" and "code" not in third_party


def test_a_consent_form_changed_to_plain_pkce_is_refused():
    account = AccountFactory()
    application = make_client(first_party=False)
    browser = signed_in_browser(account)
    page = authorize(browser, application)
    fields = {name: value for name, value in page.context["form"].initial.items() if value}
    fields.update(code_challenge="p" * 50, code_challenge_method="plain", allow="on")
    answer = redirect_query(browser.post("/o/authorize/", fields))
    assert answer["error"] == "invalid_request" and "code" not in answer


def test_an_unknown_client_gets_a_french_error_page_and_no_redirect():
    account = AccountFactory()
    browser = signed_in_browser(account)
    application = make_client()
    response = authorize(browser, application, client_id="inconnu")
    assert response.status_code in (400, 401)
    assert "La connexion à l'application n'a pas pu aboutir" in response.content.decode()
    response = authorize(browser, application, redirect_uri="https://ailleurs.example/retour")
    assert response.status_code == 400 and "Location" not in response


# --- Hostile requests: 4xx, never 5xx -------------------------------------------------------------


def test_undecodable_or_unexpected_requests_get_4xx():
    account = AccountFactory()
    browser = signed_in_browser(account)
    application = make_client()
    assert browser.get("/o/authorize/?client_id=%zz&state=%").status_code == 400
    assert Client().get("/o/userinfo/?x=%zz", **bearer("abc")).status_code in (400, 401)
    device = Client().post("/o/token/", {"grant_type": "urn:ietf:params:oauth:grant-type:device_code"})
    assert device.status_code == 400 and device.json()["error"] == "unsupported_grant_type"
    for grant_type in ["password", "client_credentials", "implicit", ""]:
        response = Client().post("/o/token/", {"grant_type": grant_type, "client_id": application.client_id})
        assert response.status_code == 400, grant_type
    too_long = authorize(browser, application, nonce="n" * 300)
    assert redirect_query(too_long)["error"] == "invalid_request"
    assert authorize(browser, application, response_type="token").status_code == 302
    assert redirect_query(authorize(browser, application, response_type="token"))["error"]
    assert Client().get("/o/userinfo/?access_token=" + "x" * 20).status_code == 401


def test_hostile_requests_to_the_provider_never_get_a_5xx():
    """Parameters of every kind, too long, malformed or for another client, on every endpoint
    (the site-wide fuzzer, tests/web/test_fuzz.py, knows no client of ours)."""
    account = AccountFactory()
    first, third, confidential = make_client(), make_client(first_party=False), make_client(confidential=True)
    browser = signed_in_browser(account)
    browser.raise_request_exception = False
    anonymous = Client(raise_request_exception=False)
    flow = Flow(account, first)
    long = "x" * 20_000
    answers = []

    for change in [
        {"client_id": long},
        {"redirect_uri": long},
        {"scope": long},
        {"state": long},
        {"nonce": long},
        {"claims": "{pas du json"},
        {"claims": '{"userinfo": 3}'},
        {"prompt": "none"},
        {"prompt": "login"},
        {"prompt": "create"},
        {"max_age": "abc"},
        {"response_mode": "form_post"},
        {"code_challenge": long},
        {"code_challenge_method": long},
        {"id_token_hint": "abc"},
        {"resource": "pas-une-adresse"},
        {"request": "eyJ.abc.def"},
        {"scope": "openid inconnu"},
        {"response_type": "code id_token"},
        {"scope": ""},
        {"redirect_uri": None},
    ]:
        for application in (first, third, confidential):
            query = urlencode(authorization_params(application, **change))
            answers.append(browser.get("/o/authorize/?" + query))
            answers.append(anonymous.get("/o/authorize/?" + query))

    page = browser.get("/o/authorize/?" + urlencode(authorization_params(third)))
    fields = {name: value for name, value in page.context["form"].initial.items() if value}
    for change in [
        {"client_id": "inconnu"},
        {"client_id": long},
        {"redirect_uri": "https://ailleurs.example/"},
        {"scope": "openid admin"},
        {"response_type": "token"},
        {"claims": "{pas du json"},
        {"resource": "x"},
        {"nonce": long},
    ]:
        answers.append(browser.post("/o/authorize/", {**fields, **change, "allow": "on"}))

    for data in [
        {"grant_type": "authorization_code", "code": long, "client_id": first.client_id, "code_verifier": long},
        {"grant_type": "authorization_code", "code": "x", "client_id": long},
        {"grant_type": "refresh_token", "refresh_token": long, "client_id": first.client_id},
        {"grant_type": "refresh_token", "refresh_token": flow.refresh, "client_id": first.client_id, "scope": "admin"},
        {"grant_type": "refresh_token", "refresh_token": flow.refresh, "client_id": confidential.client_id},
        {"grant_type": "authorization_code", "client_id": confidential.client_id, "client_secret": long},
    ]:
        answers.append(anonymous.post("/o/token/", data))
    for authorization in ["Basic %%%", "Basic Zm9vOmJhcjpiYXo=", "Basic /w==", "Bearer " + long]:
        answers.append(anonymous.post("/o/token/", {"grant_type": "refresh_token"}, HTTP_AUTHORIZATION=authorization))
    answers.append(anonymous.post("/o/token/", "pas du json", content_type="application/json"))
    answers.append(anonymous.get("/o/token/"))

    for data in [
        {"token": long, "client_id": first.client_id},
        {"token": "x"},
        {"token": "x", "client_id": long},
        {"token": "x", "client_id": confidential.client_id, "client_secret": "faux"},
        {"token": flow.access, "token_type_hint": "autre", "client_id": third.client_id},
    ]:
        answers.append(anonymous.post("/o/revoke_token/", data))

    for authorization in ["Bearer " + long, "Bearer", "Basic abc", "bearer " + flow.access]:
        answers.append(anonymous.get("/o/userinfo/", HTTP_AUTHORIZATION=authorization))
    answers.append(anonymous.post("/o/userinfo/", {"access_token": flow.access}))

    for query in [
        {"id_token_hint": long},
        {"client_id": long},
        {"client_id": first.client_id, "post_logout_redirect_uri": "javascript:alert(1)"},
        {"client_id": first.client_id, "post_logout_redirect_uri": long},
        {"id_token_hint": flow.tokens["id_token"], "client_id": third.client_id},
        {"id_token_hint": flow.tokens["id_token"], "post_logout_redirect_uri": "x"},
        {"logout_hint": long, "ui_locales": long},
    ]:
        answers.append(anonymous.get("/o/logout/?" + urlencode(query)))
        answers.append(browser.get("/o/logout/?" + urlencode(query)))
        answers.append(browser.post("/o/logout/", {**query, "allow": "on"}))

    failures = [(answer.request["PATH_INFO"], answer.status_code) for answer in answers if answer.status_code >= 500]
    assert failures == []


# --- Registering clients; production settings -----------------------------------------------------


def test_oidc_client_create_registers_a_confidential_client_and_shows_its_secret_once():
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "oidc_client_create",
        "--name",
        "Service de la Caf",
        "--redirect-uri",
        "https://service.caf.example/retour",
        "--confidential",
        stdout=out,
        stderr=err,
    )
    printed = out.getvalue()
    client_id = re.search(r"^client_id : (\S+)$", printed, re.MULTILINE).group(1)
    secret = re.search(r"^client_secret .*: (\S+)$", printed, re.MULTILINE).group(1)
    application = get_application_model().objects.get(client_id=client_id)
    assert application.client_type == "confidential" and not application.skip_authorization
    assert application.algorithm == "RS256"
    assert application.client_secret != secret, "the secret is stored in clear"
    assert "https://service.caf.example" in err.getvalue()  # not yet in form-action: said so


def test_oidc_client_create_registers_a_first_party_public_client_without_secret():
    out = io.StringIO()
    call_command(
        "oidc_client_create",
        "--name",
        "Caf – Mon Compte",
        "--redirect-uri",
        "fr.caf.moncompte:/connexion",
        "--public",
        "--first-party",
        "--client-id",
        "moncompte-mobile",
        stdout=out,
        stderr=io.StringIO(),
    )
    assert "client_secret" not in out.getvalue()
    application = get_application_model().objects.get(client_id="moncompte-mobile")
    assert application.client_type == "public" and application.skip_authorization


@pytest.mark.parametrize(
    "redirect_uri", ["javascript:alert(1)", "ftp://ailleurs.example/", "https://ailleurs.example/#fragment"]
)
def test_oidc_client_create_refuses_a_redirect_uri_the_provider_would_not_follow(redirect_uri):
    with pytest.raises(CommandError, match="Client refusé"):
        call_command(
            "oidc_client_create", "--name", "X", "--redirect-uri", redirect_uri, "--public", stdout=io.StringIO()
        )
    assert not get_application_model().objects.exists()


def test_production_settings_of_the_provider(tmp_path):
    """No plain http redirect, the public address as issuer, no loopback in form-action, and a
    key given with "\\n" for its line breaks read as a PEM."""
    code = (
        "import json, config.settings as s; print(json.dumps([s.MONCOMPTE_OIDC_ISSUER,"
        " s.MONCOMPTE_OIDC_REDIRECT_SCHEMES, s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'],"
        " s.OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY']]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONCOMPTE_", "DJANGO_", "EMAIL_"))}
    env.update(
        {
            "MONCOMPTE_ENV": "production",
            "MONCOMPTE_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://user:password@127.0.0.1:5432/moncompte",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "DJANGO_ALLOWED_HOSTS": "moncompte.example",
            "EMAIL_HOST": "smtp.example",
            "DEFAULT_FROM_EMAIL": "Mon Compte <ne-pas-repondre@moncompte.example>",
            "MONCOMPTE_SMS_URL": "https://sms.example/v1/sms",
            "MONCOMPTE_PUBLIC_URL": "https://moncompte.example",
            **{s.variable: f"prod{index}:" + "p" * 44 for index, s in enumerate(secrets_list.SECRETS)},
            "MONCOMPTE_OIDC_RSA_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\\nABC\\n-----END PRIVATE KEY-----",
        }
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    issuer, schemes, form_action, key = json.loads(done.stdout.strip().splitlines()[-1])
    assert issuer == "https://moncompte.example"
    assert "http" not in schemes and "https" in schemes
    assert not any("127.0.0.1" in source for source in form_action)
    assert key == "-----BEGIN PRIVATE KEY-----\nABC\n-----END PRIVATE KEY-----"
