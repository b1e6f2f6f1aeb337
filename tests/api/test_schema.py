"""The OpenAPI 3 schema (/api/v1/schema/) and its documentation page (/api/v1/docs/).

- reachable without a token, in French, with the bearer scheme and our provider's OAuth 2 flow;
  ``manage.py spectacular --validate --fail-on-warn`` passes;
- every operation documents the error shape for its statuses (moncompte.api.v1.schema's hook);
- the answers match it: real answers of every endpoint of me, files, delegation and sessions,
  then schemathesis' generated requests (valid and invalid ones): no 5xx, every status, header
  and body as documented, invalid data refused;
- the documentation page is Swagger UI from our own static files, without inline script, and
  runs in Chromium under the site's Content-Security-Policy.
"""

import json
import re

import pytest
import schemathesis
import yaml
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given, settings

from moncompte.households.models import Member
from tests.browser.test_signin_browser import _open_page, browser, chromium, live_site  # noqa: F401
from tests.factories import ContactFactory, api_token_for, make_household

pytestmark = pytest.mark.django_db

SCHEMA = "/api/v1/schema/"
DOCS = "/api/v1/docs/"
# The resources of this part of the API (the procedures and the Caf's requests are tested with theirs).
OURS = r"^/api/v1/(me|files|delegation|sessions)/"


@pytest.fixture
def schema() -> dict:
    response = Client().get(SCHEMA, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(schema: dict, pattern: str = OURS):
    for path, operations in schema["paths"].items():
        if re.match(pattern, path):
            for method, operation in operations.items():
                yield path, method, operation


def test_the_schema_is_public_in_french_and_secured_by_our_provider(schema):
    response = Client().get(SCHEMA)  # no token, no web session
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert "private" in response["Cache-Control"]
    assert yaml.safe_load(response.content)["openapi"] == schema["openapi"] == "3.0.3"
    assert schema["info"]["title"] == "API Mon Compte"
    assert "Les erreurs sont en JSON" in schema["info"]["description"]
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Jeton d'accès délivré par le fournisseur d'identité de Mon Compte.",
    }
    flow = schemes["oauth2"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"].endswith("/authorize/") and flow["tokenUrl"].endswith("/token/")
    assert "openid" in flow["scopes"]
    # Neither the schema nor its page is in it.
    assert not [path for path in schema["paths"] if path.startswith((SCHEMA, DOCS))]


def test_the_schema_validates_without_a_warning(tmp_path):
    output = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(output))
    assert output.read_text().startswith("openapi: 3.0.3")


def test_every_operation_documents_its_answers_and_the_error_shape(schema):
    error = {"$ref": "#/components/schemas/Error"}
    operations = list(_operations(schema))
    assert len(operations) == 17
    for path, method, operation in operations:
        label = f"{method.upper()} {path}"
        responses = operation["responses"]
        assert operation["summary"] and operation["tags"], label
        assert operation["security"] == [{"bearer": []}, {"oauth2": []}], label
        success = [status for status in responses if status.startswith("2")]
        assert len(success) == 1, label
        if success != ["204"]:
            assert responses[success[0]]["content"]["application/json"]["schema"], label
        for status in ("401", "403", "404", "406", "429"):
            assert responses[status]["content"]["application/json"]["schema"] == error, (label, status)
        assert "Retry-After" in responses["429"]["headers"], label
        if "requestBody" in operation:
            assert list(operation["requestBody"]["content"]) == ["application/json"], label
            assert responses["400"]["content"]["application/json"]["schema"] == error, label
            assert "415" in responses, label
    bodies = {f"{method.upper()} {path}" for path, method, operation in operations if "requestBody" in operation}
    assert "DELETE /api/v1/me/contacts/{contact_id}/" in bodies  # the password, in the body
    # The paginated lists say so, with their parameters' bounds.
    files = schema["paths"]["/api/v1/files/"]["get"]
    assert files["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginatedFileList"
    }
    parameters = {p["name"]: p["schema"] for p in files["parameters"]}
    assert parameters == {
        "page": {"type": "integer", "minimum": 1},
        "taille": {"type": "integer", "minimum": 1, "maximum": 100},
    }
    # The error shape itself.
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "field", "message"]


# The answers match the schema ---------------------------------------------------------------


def _api_schema():
    from django.core.wsgi import get_wsgi_application

    loaded = schemathesis.openapi.from_wsgi(SCHEMA + "?format=json", get_wsgi_application())
    return loaded.include(path_regex=OURS)


# Where a valid request may still be refused by a rule (a wrong password: 400): not a schema matter.
NOT_SCHEMA_CHECKS = [schemathesis.checks.positive_data_acceptance]


@pytest.fixture
def household(db):
    """A file whose every answer has content: a delegated spouse, two contacts, a web session."""
    family = make_household(delegated=True)
    ContactFactory(account=family.responsible.account, phone=True, value="+33611223344")
    return family


def test_the_real_answers_match_the_schema(household):
    family = household
    api_schema = _api_schema()
    token = api_token_for(family.responsible.account)
    headers = {"Authorization": f"Bearer {token}"}
    file_id = family.dossier.pk
    contact = family.responsible.account.contacts.get(kind="phone")
    calls = [
        ("/api/v1/me/", "GET", {}, None),
        ("/api/v1/me/contacts/", "GET", {}, None),
        ("/api/v1/files/", "GET", {}, None),
        ("/api/v1/files/{file_id}/", "GET", {"file_id": file_id}, None),
        ("/api/v1/files/{file_id}/payments/", "GET", {"file_id": file_id}, None),
        ("/api/v1/files/{file_id}/members/", "GET", {"file_id": file_id}, None),
        ("/api/v1/delegation/", "GET", {}, None),
        ("/api/v1/sessions/", "GET", {}, None),
        ("/api/v1/me/contacts/", "POST", {}, {"kind": "email", "value": "x@example.org", "password": "non"}),
        ("/api/v1/me/contacts/{contact_id}/", "DELETE", {"contact_id": contact.pk}, {"password": "non"}),
        ("/api/v1/delegation/revoke/", "POST", {}, {"password": family.responsible.password}),
        ("/api/v1/delegation/", "GET", {}, None),
        ("/api/v1/sessions/end-all/", "POST", {}, {}),
    ]
    statuses = []
    for path, method, path_parameters, body in calls:
        operation = api_schema[path][method]
        kwargs = {"path_parameters": path_parameters, "headers": headers}
        if body is not None:
            kwargs.update(body=body, media_type="application/json")
        response = operation.Case(**kwargs).call_and_validate(excluded_checks=NOT_SCHEMA_CHECKS)
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 200, 200, 200, 200, 200, 400, 400, 200, 200, 200]
    assert Member.objects.get(pk=family.spouse.member.pk).delegation_granted_at is None
    # A file seen without its content (the child): its empty parts as documented too.
    child = {"Authorization": f"Bearer {api_token_for(family.child.account)}"}
    response = (
        api_schema["/api/v1/files/"]["GET"].Case(headers=child).call_and_validate(excluded_checks=NOT_SCHEMA_CHECKS)
    )
    assert response.json()["results"][0]["visible"] is False


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_generated_requests_get_answers_that_match_the_schema(household, mode):
    """Schemathesis' requests to every operation of ours, valid ones then invalid ones: no 5xx, the
    status, headers and body as documented, invalid data refused (25 derandomized examples each)."""
    family = household
    generation = schemathesis.GenerationMode.POSITIVE if mode == "positive" else schemathesis.GenerationMode.NEGATIVE
    operations = [result.ok() for result in _api_schema().get_all_operations()]
    assert len(operations) == 17
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=generation))
        @settings(
            max_examples=25,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_documented(case):
            # A token of its own each time: a generated "end all my sessions" ends only its own.
            token = api_token_for(family.responsible.account)
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=NOT_SCHEMA_CHECKS)

        answers_as_documented()


# The documentation page -----------------------------------------------------------------------


def test_the_docs_page_is_swagger_ui_from_our_static_files_without_inline_script():
    client = Client()
    response = client.get(DOCS)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert '<html lang="fr">' in page and "<title>Documentation de l&#x27;API Mon Compte</title>" in page
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert len(scripts) == 3 and all('src="' in attributes and not body.strip() for attributes, body in scripts)
    assert "<style" not in page and " style=" not in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    for source in sources:
        assert source.startswith(("/static/drf_spectacular_sidecar/", DOCS)), source
        answer = client.get(source)
        assert answer.status_code == 200, source
        body = b"".join(answer.streaming_content) if answer.streaming else answer.content
        assert body, source
    starter = client.get(DOCS + "?script=")
    assert starter["Content-Type"].startswith("application/javascript")
    assert f'url: "{SCHEMA}"' in starter.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp


@pytest.mark.browser
def test_the_docs_page_runs_in_chromium_under_the_content_security_policy(browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems = _open_page(browser, viewport={"width": 1280, "height": 900})
    refused = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    try:
        response = page.goto(live_site + DOCS)
        assert response is not None and response.status == 200
        expect(page.get_by_role("heading", name=re.compile("API Mon Compte"))).to_be_visible()
        # The operations, grouped by their French tags, read from the schema.
        expect(page.get_by_text("/api/v1/files/{file_id}/payments/", exact=True)).to_be_visible()
        expect(page.locator(".opblock-tag", has_text="Mes dossiers")).to_be_visible()
        expect(page.get_by_role("button", name=re.compile("Authorize"))).to_be_visible()
        assert refused == [] and problems == [], refused + problems
    finally:
        context.close()
