"""The telephony API's own OpenAPI schema (/api/phone/v1/schema/), apart from the REST API's, and
schemathesis on it: generated requests, valid and invalid, with the platform's credentials:
no 5xx, every status, header and body as documented, the credentials required, never stored."""

import json

import pytest
import schemathesis
import time_machine
from django.core.wsgi import get_wsgi_application
from django.test import Client
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from moncompte.telephony.services import phone_code_issue
from tests.factories import make_household
from tests.telephony.helpers import BEFORE_END, LEGACY_CODE, web_actor

pytestmark = pytest.mark.django_db
SCHEMA = "/api/phone/v1/schema/"
OPERATIONS = {
    ("post", "/api/phone/v1/authentications/legacy-code/"),
    ("post", "/api/phone/v1/authentications/phone-code/"),
}
CASES = {GenerationMode.POSITIVE: 120, GenerationMode.NEGATIVE: 120}


@pytest.fixture
def schema() -> dict:
    response = Client().get(SCHEMA, HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    return json.loads(response.content)


def test_the_schema_is_its_own_public_french_and_valid(schema):
    validate_schema(schema)
    assert schema["info"]["title"] == "API de la plateforme téléphonique Mon Compte"
    assert "jamais les données elles-mêmes" in schema["info"]["description"]
    assert schema["components"]["securitySchemes"] == {
        "basic": {
            "type": "http",
            "scheme": "basic",
            "description": schema["components"]["securitySchemes"]["basic"]["description"],
        }
    }
    found = {(method, path) for path, operations in schema["paths"].items() for method in operations}
    assert found == OPERATIONS
    for method, path in OPERATIONS:
        operation = schema["paths"][path][method]
        assert operation["security"] == [{"basic": []}] and operation["summary"]
        responses = operation["responses"]
        for status in ("201", "400", "401", "406", "415", "429"):
            assert status in responses, (path, status)
        assert responses["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer"}
        assert responses["400"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_rest_apis_schema_leaves_the_telephony_api_out():
    rest = json.loads(Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json").content)
    assert not [path for path in rest["paths"] if path.startswith("/api/phone/")]
    assert "basic" not in rest["components"].get("securitySchemes", {})
    assert rest["info"]["title"] == "API Mon Compte"


@pytest.fixture
def api_schema(db):
    return schemathesis.openapi.from_wsgi(SCHEMA, get_wsgi_application())


@pytest.fixture
def world(platform):
    """A file with its old code, and a live phone code, so that something is behind the reads."""
    family = make_household(legacy_code=LEGACY_CODE)
    phone_code_issue(actor=web_actor(family.responsible.account), by_sms=False)
    return family


@pytest.mark.parametrize("mode", list(CASES), ids=lambda mode: mode.value)
def test_every_answer_conforms_to_the_schema(api_schema, world, platform, mode):
    ran = []
    header = platform.headers["HTTP_AUTHORIZATION"]

    @given(case=api_schema.as_strategy(generation_mode=mode))
    @settings(
        max_examples=CASES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        # Every check but "valid data is accepted": a NIR or a code of the right shape is still
        # refused when it is nobody's (400 JSON, as documented).
        response = case.call_and_validate(headers={"Authorization": header}, excluded_checks=[positive_data_acceptance])
        cache_control = ", ".join(response.headers.get("cache-control", []))
        assert "private" in cache_control and "no-store" in cache_control
        assert response.status_code < 500
        ran.append((case.operation.method.lower(), case.operation.path))

    with time_machine.travel(BEFORE_END, tick=True):
        check()
    assert len(ran) >= CASES[mode]
    assert {
        (method, f"/api/phone/v1{path}" if not path.startswith("/api/") else path) for method, path in ran
    } == OPERATIONS


def test_real_answers_conform_to_the_schema(api_schema, world, platform, settings):
    """The answers random data cannot reach: an identification (201) by each method, and a cap (429)."""
    settings.MONCOMPTE_PHONE_MAX_FAILURES_PER_FILE = 1
    family = world
    headers = {"Authorization": platform.headers["HTTP_AUTHORIZATION"]}
    legacy = api_schema["/api/phone/v1/authentications/legacy-code/"]["POST"]
    by_code = api_schema["/api/phone/v1/authentications/phone-code/"]["POST"]
    _, code = phone_code_issue(actor=web_actor(family.spouse.account), by_sms=False)
    body = {"caf": family.caf.code, "numero": family.dossier.numero, "calling_line": "masqué"}
    statuses = []
    with time_machine.travel(BEFORE_END, tick=True):
        for operation, data in (
            (legacy, {**body, "code": LEGACY_CODE}),
            (by_code, {"identifier": family.spouse.identifier, "code": code, "calling_line": "0612345678"}),
            (legacy, {**body, "code": "00000000"}),
            (legacy, {**body, "code": LEGACY_CODE}),
        ):
            case = operation.Case(body=data, media_type="application/json", headers=headers)
            statuses.append(case.call_and_validate(excluded_checks=[positive_data_acceptance]).status_code)
    assert statuses == [201, 201, 400, 429]
