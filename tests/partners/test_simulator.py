"""The partner simulator itself (tools/partner_simulator.py): its demo data is of the agreed
shapes, it checks the token, and its control API does what docs/partners.md says."""

import json
import urllib.error
import urllib.request

import pytest

from moncompte.households.management.commands.load_demo import PEOPLE
from moncompte.identity.identifiers import parse_identifier
from moncompte.partners.client import PartnerFailure, PartnerNotFound, lookup
from moncompte.partners.services import Source
from tests.support.partner_simulator import ROOT

DEMO_FILE = ROOT / "tools" / "partner_simulator_demo.json"
CLAIRE = parse_identifier("2 85 05 75 115 042 95").value


def post(url: str, body, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_every_demo_answer_is_of_the_agreed_shape_and_for_a_demo_person(partner_simulator):
    demo_nirs = {parse_identifier(person[1]).value for person in PEOPLE}
    data = json.loads(DEMO_FILE.read_text())
    for source in Source:
        assert data[source.value], source
        for nir in data[source.value]:
            assert nir in demo_nirs
            lookup(source, nir)  # over HTTP, checked as in production; raises if malformed
    assert partner_simulator.calls("impots") == len(data["impots"])


def test_claire_of_the_demo_has_every_partner(partner_simulator):
    months = lookup(Source.DRM, CLAIRE)["mois"]
    assert len(months) == 3 and months[0]["salaires_cents"] == 162000
    assert lookup(Source.QUOTIENT_FAMILIAL, CLAIRE)["quotient_familial"] == 612


def test_a_lookup_needs_the_partners_token(partner_simulator_url, partner_simulator):
    url = f"{partner_simulator_url}/impots/v1/revenus"
    assert post(url, {"nir": CLAIRE})[0] == 401
    assert post(url, {"nir": CLAIRE}, {"Authorization": "Bearer demo-drm"})[0] == 401  # another partner's
    status, answer = post(url, {"nir": CLAIRE}, {"Authorization": "Bearer demo-impots"})
    assert status == 200 and answer["revenu_fiscal_de_reference"] == 21350
    assert post(url, {"nir": "1" * 13}, {"Authorization": "Bearer demo-impots"})[0] == 404


@pytest.mark.parametrize(
    ("what", "body"),
    [
        ("latency", {"partner": "nobody", "latency_ms": 10}),
        ("latency", {"partner": "drm", "latency_ms": -1}),
        ("error_rate", {"partner": "drm", "error_rate": 1.5}),
        ("fail", {"partner": "drm", "count": "two"}),
        ("data", {"partner": "drm", "nir": CLAIRE, "data": [1, 2]}),
    ],
)
def test_the_control_api_refuses_what_it_cannot_do(partner_simulator_url, partner_simulator, what, body):
    assert post(f"{partner_simulator_url}/_control/{what}", body)[0] == 400


def test_an_unknown_control_is_404(partner_simulator_url, partner_simulator):
    assert post(f"{partner_simulator_url}/_control/explode", {"partner": "drm"})[0] == 404


def test_reset_brings_the_demo_data_back_and_reset_calls_only_the_counters(partner_simulator):
    partner_simulator.person("drm", CLAIRE, None)
    partner_simulator.latency("impots", 1)
    with pytest.raises(PartnerNotFound):
        lookup(Source.DRM, CLAIRE)
    assert partner_simulator.calls("drm") == 1
    partner_simulator.control("reset_calls")
    seen = partner_simulator.seen()
    assert seen == {"calls": dict.fromkeys([s.value for s in Source], 0), "paths": ["/_control/calls"]}
    partner_simulator.reset()
    assert lookup(Source.DRM, CLAIRE)["mois"]
    answer = partner_simulator.control("behaviour", {"partner": "impots"})
    assert answer["behaviour"]["latency_ms"] == 0


def test_the_next_calls_fail_or_are_malformed_as_asked_then_answer_again(partner_simulator, settings):
    settings.MONCOMPTE_PARTNER_RETRIES = 0
    settings.MONCOMPTE_PARTNER_BREAKER_FAILURES = 10
    partner_simulator.fail("impots", 2)
    partner_simulator.malformed("impots", 1)
    kinds = []
    for _ in range(3):
        with pytest.raises(PartnerFailure) as failure:
            lookup(Source.IMPOTS, CLAIRE)
        kinds.append(str(failure.value))
    assert kinds == ["status 500", "status 500", "malformed"]
    assert lookup(Source.IMPOTS, CLAIRE)["revenu_fiscal_de_reference"] == 21350
    assert partner_simulator.calls("impots") == 4
