"""The person's side: /mon-compte/code-telephone/ (shown once, or by SMS to a verified mobile)
and POST /api/v1/me/phone-code/; and the command that registers the platform's client."""

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from moncompte.notifications.models import Message
from moncompte.telephony.models import PhoneCode, TelephonyClient
from moncompte.telephony.services import phone_authenticate_code, telephony_client_authenticate
from tests.conftest import sign_in
from tests.factories import AccountFactory, ContactFactory, api_token_for, bearer
from tests.telephony.helpers import LINE, phone_actor

pytestmark = pytest.mark.django_db
PAGE = "/mon-compte/code-telephone/"
API = "/api/v1/me/phone-code/"
SHOWN = re.compile(r'id="code-telephone">(\d{3}) (\d{3})<')


@pytest.fixture
def signed_in(db):
    account = AccountFactory()
    client = Client()
    assert sign_in(client, account.person.raw_identifier, account.raw_password).status_code == 302
    return client, account


def test_the_page_explains_and_shows_a_code_once(signed_in):
    client, account = signed_in
    page = client.get(PAGE)
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "<h1>Code téléphone</h1>" in text and "09 69 32 52 52" in text and "30 minutes" in text
    assert "Afficher un code" in text
    # No validated mobile: no SMS button, the way to add one instead.
    assert "Recevoir le code par SMS" not in text and "Mes coordonnées" in text
    shown = client.post(PAGE, {"envoi": "affichage"})
    assert shown.status_code == 200 and "no-store" in shown["Cache-Control"]
    match = SHOWN.search(shown.content.decode())
    code = match.group(1) + match.group(2)
    assert "il ne sera plus affiché" in shown.content.decode()
    # Not shown again: the page knows only the code's keyed hash.
    assert code not in client.get(PAGE).content.decode()
    authentication = phone_authenticate_code(
        actor=phone_actor(), identifier=account.person.raw_identifier, code=code, calling_line=LINE
    )
    assert authentication.person == account.person


def test_the_sms_button_sends_to_the_verified_mobile(signed_in, deliver_messages):
    client, account = signed_in
    mobile = ContactFactory(account=account, phone=True)
    page = client.get(PAGE).content.decode()
    assert "Recevoir le code par SMS" in page and mobile.value[-2:] in page and mobile.value not in page
    response = client.post(PAGE, {"envoi": "sms"}, follow=True)
    text = response.content.decode()
    assert response.redirect_chain[-1][0] == PAGE
    assert "Un code téléphone a été envoyé par SMS" in text and not SHOWN.search(text)
    message = Message.objects.get(channel="sms", template="phone_code")
    assert message.recipient == mobile.value
    assert PhoneCode.objects.get().delivered_by == "sms"


def test_the_sms_is_refused_without_a_verified_mobile(signed_in):
    client, account = signed_in
    ContactFactory(account=account, phone=True, unverified=True)
    response = client.post(PAGE, {"envoi": "sms"})
    assert response.status_code == 400 and "mobile validé" in response.content.decode()
    assert not PhoneCode.objects.exists()


def test_too_many_codes_on_the_page(signed_in, settings):
    settings.MONCOMPTE_PHONE_CODE_MAX_PER_HOUR = 1
    client, _ = signed_in
    assert client.post(PAGE, {"envoi": "affichage"}).status_code == 200
    response = client.post(PAGE, {"envoi": "affichage"})
    assert response.status_code == 429 and "trop de codes téléphone" in response.content.decode()


def test_the_page_needs_a_signed_in_person(db):
    response = Client().get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


def test_the_home_page_links_to_it(signed_in):
    client, _ = signed_in
    assert f'href="{PAGE}"' in client.get("/mon-compte/").content.decode()


# The REST API ----------------------------------------------------------------------------------


def test_the_app_gets_a_code(db):
    account = AccountFactory()
    response = Client().post(API, {}, content_type="application/json", **bearer(api_token_for(account)))
    body = response.json()
    assert response.status_code == 201 and "no-store" in response["Cache-Control"]
    assert re.fullmatch(r"\d{6}", body["code"]) and body["delivered_by"] == "api"
    assert "30 minutes" in body["message"]
    authentication = phone_authenticate_code(
        actor=phone_actor(), identifier=account.person.raw_identifier, code=body["code"], calling_line=LINE
    )
    assert authentication.person == account.person


def test_the_app_asks_for_an_sms(db):
    account = AccountFactory()
    headers = bearer(api_token_for(account))
    refused = Client().post(API, {"sms": True}, content_type="application/json", **headers)
    assert refused.status_code == 400 and refused.json()["code"] == "no_verified_mobile"
    ContactFactory(account=account, phone=True)
    response = Client().post(API, {"sms": True}, content_type="application/json", **headers)
    assert response.status_code == 201 and response.json()["code"] is None
    assert "par SMS" in response.json()["message"]
    assert Message.objects.filter(channel="sms", template="phone_code").count() == 1


def test_the_app_is_throttled_with_retry_after(db, settings):
    settings.MONCOMPTE_PHONE_CODE_MAX_PER_HOUR = 1
    headers = bearer(api_token_for(AccountFactory()))
    assert Client().post(API, {}, content_type="application/json", **headers).status_code == 201
    response = Client().post(API, {}, content_type="application/json", **headers)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"


def test_the_api_needs_a_token(db):
    assert Client().post(API, {}, content_type="application/json").status_code == 401


# The command -----------------------------------------------------------------------------------


def test_the_command_prints_the_secret_once_and_stores_its_keyed_hash(db):
    out = io.StringIO()
    call_command("phone_client_create", "--name", "Plateforme de test", stdout=out)
    client_id = re.search(r"Identifiant du client : (\S+)", out.getvalue()).group(1)
    secret = re.search(r"une seule fois, à conserver dans la plateforme\) : (\S+)", out.getvalue()).group(1)
    client = TelephonyClient.objects.get(client_id=client_id)
    assert client.name == "Plateforme de test" and secret not in client.secret_digest and len(secret) >= 43
    assert telephony_client_authenticate(client_id=client_id, secret=secret) == client
    assert telephony_client_authenticate(client_id=client_id, secret=secret + "x") is None


def test_the_apis_phone_code_endpoint_conforms_to_its_schema(db, settings):
    """Generated requests (valid and invalid) to POST /api/v1/me/phone-code/ only, through
    /api/v1/schema/: no 5xx, every answer as documented (201, 400, 429 included)."""
    import schemathesis
    from django.core.wsgi import get_wsgi_application
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    settings.MONCOMPTE_PHONE_CODE_MAX_PER_HOUR = 3
    account = AccountFactory()
    ContactFactory(account=account, phone=True)
    loaded = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
    (operation,) = [
        result.ok() for result in loaded.include(path_regex="^/api/v1/me/phone-code/$").get_all_operations()
    ]
    statuses = set()
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=30, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
        )
        def answers_as_documented(case):
            headers = {"Authorization": f"Bearer {api_token_for(account)}"}
            response = case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
            statuses.add(response.status_code)

        answers_as_documented()
    assert 201 in statuses and 429 in statuses and 400 in statuses
