"""Bad input on every page of the agents' console: whatever is posted or put in a URL, the
answer is a page or a refusal (2xx, 3xx, 4xx), never a 500 (issue 12; the web's own sweep is
tests/web/test_fuzz.py, the APIs' are the schemathesis tests).

Every console URL pattern is requested, its ids filled with those of real objects of the
agent's Caf (a counter service of the agent's session, an identity check, a rectification, a
separation, a Caf's request) and with junk, by an agent holding every role a Caf's agent may
hold, by GET and by POST with hostile values in every field name the console's forms use."""

import datetime
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from moncompte.access.agents import AgentRole
from moncompte.counter.services import counter_search
from moncompte.households.services import separation_declare
from moncompte.identity.own_data import rectification_request
from tests.factories import AgentFactory, CafRequestFactory, make_household, sign_in_agent
from tests.identity_checks.helpers import signup
from tests.queues.conftest import actor_of, web_actor

JUNK_VALUES = ["", "\x00", "é" * 5000, "<script>alert(1)</script>", "-1", "99999999999999999999", "1e9", "0"]
FIELDS = [
    "email", "password", "code", "channel", "numero", "caf_code", "identifier", "dossier", "person",
    "proof", "document_kind", "reference", "reason", "reason_choice", "answer", "keeper", "new_file",
    "state", "title", "body", "due_on", "due_on_day", "due_on_month", "due_on_year", "kind",
    "addressed_to", "roles", "first_names", "last_name", "new_password", "new_password_confirm",
    "current_password", "action", "current_identifier", "new_identifier", "confirm", "page", "field",
    "birth_name", "birth_date", "sex", "usage_name",
]  # fmt: skip
ROLES = [AgentRole.COUNTER.value, AgentRole.IDENTITY_CHECKER.value, AgentRole.ADMINISTRATOR.value]


def _console_patterns():
    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return [route for route in walk(get_resolver().url_patterns, "") if route.startswith("agents/")]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
def test_no_console_input_reaches_a_500(client):
    family = make_household()
    caf = family.dossier.caf
    agent = AgentFactory(caf=caf, roles=ROLES)
    session = sign_in_agent(client, agent)
    # Real objects of the agent's Caf, so that the ids reach the views' own parsing.
    from moncompte.agents.sessions import agent_actor

    service = counter_search(actor=agent_actor(session), channel="counter", numero=family.dossier.numero)
    check = signup().identity_check
    rectification = rectification_request(actor=web_actor(family.spouse), field="sex", message="Erreur.")
    change = separation_declare(
        actor=web_actor(family.responsible),
        dossier=family.dossier,
        separated_on=timezone.localdate() - datetime.timedelta(days=3),
        leaving_person=family.spouse.person,
        new_address={"address_line1": "3 rue des Acacias", "postal_code": "69003", "city": "Lyon"},
    )
    caf_request = CafRequestFactory(dossier=family.dossier)
    other_agent = AgentFactory(caf=caf)
    actor_of(other_agent)
    ids = sorted({service.pk, check.pk, rectification.pk, change.pk, caf_request.pk, other_agent.pk, 0, 999999})

    seen: set[int] = set()
    routes = _console_patterns()
    assert len(routes) > 20
    for route in routes:
        paths = {"/" + re.sub(r"<int:\w+>", str(i), route) for i in ids}
        for path in sorted(paths):
            assert client.get(path).status_code < 500, ("get", path)
            assert client.get(path, {f: JUNK_VALUES[2] for f in FIELDS}).status_code < 500, ("get", path)
            for value in JUNK_VALUES:
                data = {field: value for field in FIELDS}
                response = client.post(path, data)
                assert response.status_code < 500, ("post", path, value[:20])
                seen.add(response.status_code)
                if response.status_code == 302 and response["Location"] == "/agents/connexion/":
                    # A post that ended the session (the sign-out): open it again.
                    session = sign_in_agent(client, agent)
    # The sweep reached the views' own checks: forms refused (400), objects not found (404).
    assert {400, 404} <= seen, seen
