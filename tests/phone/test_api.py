"""The telephony API, /api/phone/v1/: the platform's credentials only, the identification by old
code or phone code, what the answer tells for each standing (never the data), the caps as 429
with Retry-After, French JSON errors, nothing stored by a cache."""

import json

import pytest
import time_machine
from django.test import Client

from moncompte.telephony.models import TelephonyClient
from moncompte.telephony.services import phone_code_issue
from tests.factories import MemberFactory, api_token_for, bearer, make_household
from tests.phone.conftest import basic
from tests.telephony.helpers import AFTER_END, BEFORE_END, LEGACY_CODE, LINE, other_code, web_actor

pytestmark = pytest.mark.django_db
LEGACY = "/api/phone/v1/authentications/legacy-code/"
CODE = "/api/phone/v1/authentications/phone-code/"


def _post(path, body, headers):
    return Client().post(path, json.dumps(body), content_type="application/json", **headers)


def _legacy_body(family, code=LEGACY_CODE, line=LINE):
    return {"caf": family.caf.code, "numero": family.dossier.numero, "code": code, "calling_line": line}


@pytest.fixture
def family(db):
    with time_machine.travel(BEFORE_END, tick=False):
        return make_household(delegated=True, legacy_code=LEGACY_CODE)


# The platform's credentials ---------------------------------------------------------------------


@pytest.mark.parametrize("case", ["none", "wrong-secret", "unknown-client", "inactive", "usager-token", "garbage"])
def test_only_the_platform_credentials_open_the_api(platform, family, case):
    headers = {
        "none": {},
        "wrong-secret": basic(platform.client_id, platform.secret + "x"),
        "unknown-client": basic("tel-inconnu", platform.secret),
        "inactive": platform.headers,
        "usager-token": bearer(api_token_for(family.responsible.account)),
        "garbage": {"HTTP_AUTHORIZATION": "Basic ???"},
    }[case]
    if case == "inactive":
        TelephonyClient.objects.filter(pk=platform.pk).update(is_active=False)
    with time_machine.travel(BEFORE_END, tick=False):
        response = _post(LEGACY, _legacy_body(family), headers)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith('Basic realm="telephonie"')
    body = response.json()
    assert body["code"] in ("not_authenticated", "authentication_failed")
    assert "Identifiants du client de la plateforme téléphonique" in body["message"]
    assert "no-store" in response["Cache-Control"]


# The old code -----------------------------------------------------------------------------------


def test_the_old_code_identifies_the_responsible_person(platform, family):
    with time_machine.travel(BEFORE_END, tick=False):
        response = _post(LEGACY, _legacy_body(family), platform.headers)
    assert response.status_code == 201 and "no-store" in response["Cache-Control"]
    body = response.json()
    person = family.responsible.person
    assert body["method"] == "legacy_code" and body["reference"].startswith("TEL-")
    assert body["person"] == {"first_names": person.first_names, "last_name": person.usage_name or person.birth_name}
    assert body["files"] == [
        {
            "caf": family.caf.code,
            "numero": family.dossier.numero,
            "standing": "Responsable du dossier",
            "file_information": True,
            "own_information": True,
            "hidden_reason": "",
        }
    ]


def test_after_the_end_date_the_answer_says_how_to_get_a_phone_code(platform, family):
    with time_machine.travel(AFTER_END, tick=False):
        response = _post(LEGACY, _legacy_body(family), platform.headers)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "legacy_code_ended" and "rubrique « Code téléphone »" in body["message"]


def test_wrong_and_unknown_get_the_same_answer(platform, family):
    with time_machine.travel(BEFORE_END, tick=False):
        wrong = _post(LEGACY, _legacy_body(family, code=other_code(LEGACY_CODE)), platform.headers)
        unknown = _post(LEGACY, {**_legacy_body(family), "numero": "1999999"}, platform.headers)
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert wrong.json()["message"].startswith("Numéro allocataire ou code confidentiel incorrect")


def test_the_caps_answer_429_with_retry_after(platform, family, settings):
    settings.MONCOMPTE_PHONE_MAX_FAILURES_PER_FILE = 2
    with time_machine.travel(BEFORE_END, tick=False):
        for n in range(2):
            _post(LEGACY, _legacy_body(family, code="00000000", line=f"+3361200000{n}"), platform.headers)
        response = _post(LEGACY, _legacy_body(family, line="+33612000009"), platform.headers)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "capped" and body["wait_seconds"] == 24 * 3600
    assert response["Retry-After"] == str(24 * 3600) and "Réessayez dans 24 heures" in body["message"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"caf": "75"}, "caf"),
        ({"numero": "12345678"}, "numero"),
        ({"code": "1234567\n"}, "code"),
        ({"code": 12345678}, "code"),
        ({"calling_line": "0" * 33}, "calling_line"),
    ],
)
def test_malformed_bodies_are_400_in_french_and_not_a_try(platform, family, change, field):
    with time_machine.travel(BEFORE_END, tick=False):
        response = _post(LEGACY, {**_legacy_body(family), **change}, platform.headers)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["errors"]
    assert any(word in " ".join(body["errors"][field]) for word in ("chiffres", "caractères", "texte"))


def test_an_unknown_caf_is_said(platform, family):
    with time_machine.travel(BEFORE_END, tick=False):
        response = _post(LEGACY, {**_legacy_body(family), "caf": "999"}, platform.headers)
    assert response.status_code == 400 and response.json()["field"] == "caf"
    assert "Aucune Caf" in response.json()["message"]


# The phone code, and what is told for each standing --------------------------------------------


def _code_body(person, code):
    return {"identifier": person.raw_identifier, "code": code, "calling_line": "masqué"}


def test_what_the_answer_tells_for_each_standing(platform, family):
    plain = make_household(caf=family.caf)  # S without the delegation, M
    former = MemberFactory(dossier=plain.dossier, spouse=True, ended=True)
    from tests.factories import AccountFactory

    former_account = AccountFactory(person=former.person)
    cases = [
        (family.responsible.account, "Responsable du dossier", True),
        (family.spouse.account, "Conjoint ou conjointe, avec autorisation de gestion", True),
        (plain.spouse.account, "Conjoint ou conjointe, sans autorisation de gestion", False),
        (plain.child.account, "Membre du foyer", False),
        (former_account, "Ancien conjoint ou ancienne conjointe", False),
    ]
    payment = family.dossier.payments.first()
    for account, label, told in cases:
        _, code = phone_code_issue(actor=web_actor(account), by_sms=False)
        response = _post(CODE, _code_body(account.person, code), platform.headers)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["method"] == "phone_code"
        (row,) = body["files"]
        assert row["standing"] == label and row["file_information"] is told
        assert row["own_information"] is True
        assert (row["hidden_reason"] == "") is told and ("aucune information" in row["hidden_reason"]) is not told
        # Never the data itself: no address, no amount, no other member.
        text = response.content.decode()
        for dossier in (family.dossier, plain.dossier):
            assert dossier.address_line1 not in text and dossier.city not in text
        assert str(payment.amount_cents) not in text and "Allocations familiales" not in text
        assert set(body) == {"reference", "expires_at", "method", "person", "files"}


def test_the_phone_code_once(platform, family):
    account = family.spouse.account
    _, code = phone_code_issue(actor=web_actor(account), by_sms=False)
    first = _post(CODE, _code_body(account.person, code), platform.headers)
    again = _post(CODE, _code_body(account.person, code), platform.headers)
    assert first.status_code == 201 and again.status_code == 400
    assert again.json()["code"] == "wrong_credentials" and "déjà utilisé" in again.json()["message"]


def test_a_malformed_nir_says_what_is_wrong(platform):
    response = _post(CODE, {"identifier": "12345", "code": "123456", "calling_line": ""}, platform.headers)
    assert response.status_code == 400 and response.json()["field"] == "identifier"
    assert "chiffres" in response.json()["message"]


def test_not_a_json_body_and_other_methods(platform):
    form = Client().post(CODE, {"identifier": "x"}, **platform.headers)
    assert form.status_code == 415 and form.json()["code"] == "unsupported_media_type"
    get = Client().get(CODE, **platform.headers)
    assert get.status_code == 405 and get.json()["code"] == "method_not_allowed"
    missing = Client().get("/api/phone/v1/nulle-part/", **platform.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
