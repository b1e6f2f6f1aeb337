"""Test clients of the REST API (tests/api): DRF's test client carrying one account's bearer
token, and the check of the one error shape (moncompte.api.errors)."""

from __future__ import annotations

from rest_framework.test import APIClient

from tests.factories import api_token_for, bearer


def api_client(account, **token_options) -> APIClient:
    """A client whose every request carries a fresh access token of ``account`` (its own API
    session: tests.factories.api_token_for)."""
    client = APIClient()
    client.credentials(**bearer(api_token_for(account, **token_options)))
    return client


def json_of(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response["Content-Type"])
    return response.json()


def assert_error(response, status: int, code: str, *, field: str | None = None) -> dict:
    """The answer is the API's error: this status, this code, a French message, the field."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = json_of(response)
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    assert body["field"] == field, body
    return body
