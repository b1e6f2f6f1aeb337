"""Schemathesis against /api/v1/schema/: generated requests to every operation, with a live token.

Positive cases (what the schema says is valid) and negative ones (what it says is not), through
Django's WSGI application in-process, on the test database: the responsible person of a household
with a draft, a Caf's request and a second session, so that the reads find something. Every answer
is checked by schemathesis's checks (no 5xx, status code, content type, headers and body conform
to the schema, invalid data refused, the token required) and by ours (private, never stored).
At least 1,000 cases run (CASES), counted.

Each case gets a new token of its own: an operation that ends sessions (sessions/end-all/,
DELETE sessions/{id}/) then ends only that case's session, and the next case is still signed in.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.factories import CafRequestFactory, api_token_for

pytestmark = pytest.mark.django_db(transaction=False)

# Positive and negative cases, at least 1,000 in all (the acceptance).
CASES = {GenerationMode.POSITIVE: 700, GenerationMode.NEGATIVE: 500}


@pytest.fixture
def api_schema(db):
    return schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture
def signed_in(family):
    """The responsible person's account, with something behind every read."""
    from moncompte.core.actors import Actor, Channel
    from moncompte.procedures.services import procedure_start, types_startable

    account = family.responsible.account
    actor = Actor(channel=Channel.API, account=account)
    startable = types_startable(actor=actor)
    if startable:
        procedure_start(actor=actor, type_code=startable[0].code)
    CafRequestFactory(dossier=family.dossier)
    api_token_for(account)  # another session, for the sessions list
    return account


def _private(response) -> None:
    # schemathesis's response: lower-case header names, each with the list of its values.
    cache_control = ", ".join(response.headers.get("cache-control", []))
    assert "private" in cache_control and "no-store" in cache_control, cache_control


@pytest.mark.parametrize("mode", list(CASES), ids=lambda mode: mode.value)
def test_every_answer_conforms_to_the_schema(api_schema, signed_in, mode):
    ran = []

    @given(case=api_schema.as_strategy(generation_mode=mode))
    @settings(
        max_examples=CASES[mode],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        token = api_token_for(signed_in)
        # Every check but "valid data is accepted": a schema cannot say everything the services
        # refuse (an address that is not an email, a step's rules), and those refusals are 4xx JSON.
        response = case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"}, excluded_checks=[positive_data_acceptance]
        )
        _private(response)
        ran.append(case.operation.label)

    check()
    assert len(ran) >= CASES[mode], len(ran)
    operations = {result.ok().label for result in api_schema.get_all_operations()}
    assert operations - set(ran) == set(), "operations never called"
