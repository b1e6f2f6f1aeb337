"""Partner data over HTTP against the simulator (tools/partner_simulator.py): answers, failures,
retries, the circuit breaker, the page's budget and the per-person cache (docs/partners.md)."""

import datetime
import logging

import pytest
from django.core.cache.backends.base import BaseCache

from moncompte.partners.client import PartnerFailure, breaker, lookup
from moncompte.partners.services import Source, lookups_settle, partner_data
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

TAX = {
    "revenu_fiscal_de_reference": 21350,
    "nombre_de_parts": "2.5",
    "situation_familiale": "marie",
    "annee_des_revenus": datetime.date.today().year - 1,
}
MONTHS = {
    "mois": [
        {"mois": "2026-09", "salaires_cents": 150000, "indemnites_chomage_cents": 0, "pensions_cents": 0},
        {"mois": "2026-10", "salaires_cents": 162000, "indemnites_chomage_cents": 0, "pensions_cents": 1200},
    ]
}
JOB_SEEKER = {
    "inscrit": True,
    "categorie": "A",
    "date_inscription": "2026-06-02",
    "indemnise": True,
    "allocation_journaliere_cents": 4870,
}
QUOTIENT = {"quotient_familial": 612, "mois": "2026-11"}


def nir(person) -> str:
    return person.identifier.value


@pytest.fixture
def claire(partner_simulator):
    person = PersonFactory()
    partner_simulator.person("impots", nir(person), TAX)
    partner_simulator.person("drm", nir(person), MONTHS)
    partner_simulator.person("france_travail", nir(person), JOB_SEEKER)
    partner_simulator.person("quotient_familial", nir(person), QUOTIENT)
    return person


@pytest.fixture
def one_try(settings):
    settings.MONCOMPTE_PARTNER_RETRIES = 0


# Answers --------------------------------------------------------------------------------------


def test_each_partner_answers_with_its_values_its_label_and_its_date(claire, partner_simulator):
    before = datetime.datetime.now(datetime.UTC)
    report = partner_data(person=claire, sources=list(Source), budget_seconds=10)
    assert report.missing == {}
    tax = report.results[Source.IMPOTS]
    assert tax.data == TAX and tax.source is Source.IMPOTS and not tax.from_cache
    assert tax.label == Source.IMPOTS.label == "Direction générale des Finances publiques (impôts)"
    assert tax.fetched_at.tzinfo is not None and tax.fetched_at >= before
    # The months come most recent first, whatever order the partner gave.
    assert [m["mois"] for m in report.results[Source.DRM].data["mois"]] == ["2026-10", "2026-09"]
    assert report.results[Source.DRM].data["mois"][0]["pensions_cents"] == 1200
    assert report.results[Source.FRANCE_TRAVAIL].data == JOB_SEEKER
    assert report.results[Source.QUOTIENT_FAMILIAL].data == QUOTIENT
    assert {source: result.label for source, result in report.results.items()} == {
        Source.IMPOTS: "Direction générale des Finances publiques (impôts)",
        Source.FRANCE_TRAVAIL: "France Travail",
        Source.DRM: "Dispositif de ressources mensuelles (DRM)",
        Source.QUOTIENT_FAMILIAL: "Caf — quotient familial",
    }


def test_the_sources_may_be_named_by_their_codes(claire, partner_simulator):
    report = partner_data(person=claire, sources=["impots"], budget_seconds=10)
    assert set(report.results) == {Source.IMPOTS}


def test_an_unknown_person_is_said_unknown_and_not_asked_again(partner_simulator, settings):
    settings.MONCOMPTE_PARTNER_RETRIES = 2
    report = partner_data(person=PersonFactory(), sources=[Source.IMPOTS], budget_seconds=10)
    assert report.results == {}
    assert report.missing[Source.IMPOTS] == (
        "Direction générale des Finances publiques (impôts) ne connaît pas votre situation."
    )
    assert partner_simulator.calls("impots") == 1  # a 404 is an answer: no retry
    assert breaker(Source.IMPOTS).snapshot()["failures"] == 0  # nor a failure of the partner


# Failures and retries -------------------------------------------------------------------------


def test_a_500_is_retried_then_answered(claire, partner_simulator, settings):
    settings.MONCOMPTE_PARTNER_RETRIES = 1
    partner_simulator.fail("impots", 1)
    report = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    assert report.results[Source.IMPOTS].data == TAX
    assert partner_simulator.calls("impots") == 2


def test_failures_past_the_retries_say_the_partner_is_unavailable(claire, partner_simulator, settings, caplog):
    settings.MONCOMPTE_PARTNER_RETRIES = 2
    partner_simulator.fail("impots", 5)
    with caplog.at_level(logging.WARNING, logger="moncompte.partners"):
        report = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    assert (
        report.missing[Source.IMPOTS]
        == "Direction générale des Finances publiques (impôts) est momentanément indisponible."
    )
    assert partner_simulator.calls("impots") == 3  # the first try and two retries
    assert [r.getMessage() for r in caplog.records] == ["partner impots failed: status 500"]


def test_a_lookup_not_declared_idempotent_is_not_retried(claire, partner_simulator, settings):
    settings.MONCOMPTE_PARTNER_RETRIES = 2
    partner_simulator.fail("impots", 1)
    with pytest.raises(PartnerFailure) as failure:
        lookup(Source.IMPOTS, nir(claire), idempotent=False)
    assert str(failure.value) == "status 500"
    assert partner_simulator.calls("impots") == 1


def test_a_refused_token_is_a_failure_not_retried(claire, partner_simulator, settings):
    settings.MONCOMPTE_PARTNER_RETRIES = 2
    settings.MONCOMPTE_PARTNERS = {
        **settings.MONCOMPTE_PARTNERS,
        "impots": {**settings.MONCOMPTE_PARTNERS["impots"], "token": "not-the-partners"},
    }
    report = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    assert report.missing[Source.IMPOTS].endswith("est momentanément indisponible.")
    assert partner_simulator.calls("impots") == 1


def test_a_partner_slower_than_the_timeout_is_a_failure(claire, partner_simulator, settings, one_try, caplog):
    settings.MONCOMPTE_PARTNER_TIMEOUT_MS = 200
    partner_simulator.hang("impots", ms=30_000)
    with caplog.at_level(logging.WARNING, logger="moncompte.partners"):
        report = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=20)
    assert report.missing[Source.IMPOTS].endswith("est momentanément indisponible.")
    assert [r.getMessage() for r in caplog.records] == ["partner impots failed: timeout"]


def test_a_partner_that_cannot_be_reached_is_unavailable(claire, partner_simulator, settings, one_try):
    from tests.support.server import free_port

    settings.MONCOMPTE_PARTNERS = {
        **settings.MONCOMPTE_PARTNERS,
        "drm": {**settings.MONCOMPTE_PARTNERS["drm"], "url": f"http://127.0.0.1:{free_port()}"},
    }
    report = partner_data(person=claire, sources=[Source.DRM, Source.IMPOTS], budget_seconds=10)
    assert report.missing[Source.DRM].endswith("est momentanément indisponible.")
    assert Source.IMPOTS in report.results


def test_a_malformed_answer_is_a_failure_not_retried(claire, partner_simulator, settings, caplog):
    settings.MONCOMPTE_PARTNER_RETRIES = 2
    partner_simulator.malformed("impots", 1)
    with caplog.at_level(logging.WARNING, logger="moncompte.partners"):
        report = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    assert report.results == {} and report.missing[Source.IMPOTS].endswith("est momentanément indisponible.")
    assert partner_simulator.calls("impots") == 1
    assert [r.getMessage() for r in caplog.records] == ["partner impots failed: malformed"]


@pytest.mark.parametrize(
    ("source", "answer"),
    [
        ("impots", {**TAX, "revenu_fiscal_de_reference": "21350"}),
        ("impots", {**TAX, "revenu_fiscal_de_reference": -1}),
        ("impots", {**TAX, "revenu_fiscal_de_reference": 21350.5}),
        ("impots", {**TAX, "nombre_de_parts": "2.3"}),
        ("impots", {**TAX, "nombre_de_parts": 2.5}),
        ("impots", {**TAX, "nombre_de_parts": "NaN"}),
        ("impots", {**TAX, "situation_familiale": "<script>"}),
        ("impots", {**TAX, "annee_des_revenus": 1990}),
        ("impots", {k: v for k, v in TAX.items() if k != "annee_des_revenus"}),
        ("france_travail", {**JOB_SEEKER, "inscrit": "oui"}),
        ("france_travail", {**JOB_SEEKER, "categorie": "Z"}),
        ("france_travail", {**JOB_SEEKER, "date_inscription": "2999-01-01"}),
        ("france_travail", {**JOB_SEEKER, "allocation_journaliere_cents": True}),
        ("france_travail", {**JOB_SEEKER, "inscrit": False}),  # compensated without being registered
        ("drm", {"mois": []}),
        ("drm", {"mois": [{**MONTHS["mois"][0], "mois": "2026-13"}]}),
        ("drm", {"mois": [{**MONTHS["mois"][0], "salaires_cents": None}]}),
        ("drm", {"mois": [MONTHS["mois"][0], MONTHS["mois"][0]]}),
        ("quotient_familial", {**QUOTIENT, "quotient_familial": 10**9}),
        ("quotient_familial", {"mois": "2026-11"}),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_an_answer_not_of_the_agreed_shape_is_refused(partner_simulator, source, answer):
    person = PersonFactory()
    partner_simulator.person(source, nir(person), answer)
    report = partner_data(person=person, sources=[source], budget_seconds=10)
    assert report.results == {} and report.missing[Source(source)].endswith("est momentanément indisponible.")


def test_someone_not_registered_with_france_travail_has_no_category(partner_simulator):
    person = PersonFactory()
    not_registered = {"inscrit": False, "indemnise": False, "allocation_journaliere_cents": 0}
    partner_simulator.person("france_travail", nir(person), not_registered)
    report = partner_data(person=person, sources=[Source.FRANCE_TRAVAIL], budget_seconds=10)
    assert report.results[Source.FRANCE_TRAVAIL].data == {
        "inscrit": False,
        "categorie": None,
        "date_inscription": None,
        "indemnise": False,
        "allocation_journaliere_cents": 0,
    }


# The circuit breaker --------------------------------------------------------------------------


@pytest.fixture
def open_circuit(claire, partner_simulator, settings, one_try):
    """The tax partner failing, its circuit opened after two failures in a row."""
    settings.MONCOMPTE_PARTNER_BREAKER_FAILURES = 2
    settings.MONCOMPTE_PARTNER_BREAKER_SECONDS = 30
    partner_simulator.error_rate("impots", 1.0)
    partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    assert breaker(Source.IMPOTS).state == "closed"  # one failure is not enough
    partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    assert breaker(Source.IMPOTS).state == "open"
    assert partner_simulator.calls("impots") == 2


def test_an_open_circuit_answers_missing_at_once_without_a_call(claire, partner_simulator, open_circuit, caplog):
    with caplog.at_level(logging.WARNING, logger="moncompte.partners"):
        report = partner_data(person=claire, sources=[Source.IMPOTS, Source.DRM], budget_seconds=10)
    assert report.missing[Source.IMPOTS].endswith("est momentanément indisponible.")
    assert Source.DRM in report.results  # the other partners are asked as usual
    assert partner_simulator.calls("impots") == 2  # nobody called
    assert [r.getMessage() for r in caplog.records] == ["partner impots failed: circuit open"]
    assert breaker(Source.IMPOTS).snapshot()["short_circuits"] == 1


def test_once_the_open_time_is_over_a_probe_that_succeeds_closes_the_circuit(
    claire, partner_simulator, settings, open_circuit
):
    partner_simulator.error_rate("impots", 0.0)  # the partner is back
    settings.MONCOMPTE_PARTNER_BREAKER_SECONDS = 0  # and the open time is over
    report = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    assert report.results[Source.IMPOTS].data == TAX
    assert breaker(Source.IMPOTS).state == "closed"
    assert partner_simulator.calls("impots") == 3  # the one probe


def test_a_probe_that_fails_opens_the_circuit_again(claire, partner_simulator, settings, open_circuit):
    settings.MONCOMPTE_PARTNER_RETRIES = 3  # a probe is one try, whatever the retries
    settings.MONCOMPTE_PARTNER_BREAKER_SECONDS = 0
    report = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    assert Source.IMPOTS in report.missing
    assert partner_simulator.calls("impots") == 3
    assert breaker(Source.IMPOTS).state == "open"
    settings.MONCOMPTE_PARTNER_BREAKER_SECONDS = 30  # opened again for the full time: no call now
    partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    assert partner_simulator.calls("impots") == 3


def test_healthz_reports_the_partners_breakers(claire, partner_simulator, open_circuit, client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    partners = answer.json()["partners"]
    assert partners["impots"]["state"] == "open" and partners["impots"]["openings"] == 1
    assert partners["impots"]["last_failure"] == "status 500"
    assert partners["drm"]["state"] == "closed"
    assert partner_simulator.calls("impots") == 2  # /healthz calls nobody


# The budget -----------------------------------------------------------------------------------


def test_a_partner_slower_than_the_budget_is_missing_the_others_are_there_and_its_answer_comes_later(
    claire, partner_simulator, settings
):
    settings.MONCOMPTE_PARTNER_TIMEOUT_MS = 30_000
    settings.MONCOMPTE_PARTNER_BUDGET_MS = 2000  # budget_seconds=None: the setting
    partner_simulator.hang("impots", ms=30_000)  # until released
    report = partner_data(person=claire, sources=[Source.IMPOTS, Source.DRM])
    assert report.missing == {
        Source.IMPOTS: "Direction générale des Finances publiques (impôts) n'a pas répondu à temps."
    }
    assert Source.DRM in report.results
    # A page meanwhile waits for the same lookup: it asks nothing more.
    again = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=0.1)
    assert Source.IMPOTS in again.missing
    # The lookup went on: once it ends, the next page has it from the cache, without a call.
    partner_simulator.release()
    assert lookups_settle(20)
    later = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    assert later.results[Source.IMPOTS].from_cache and later.results[Source.IMPOTS].data == TAX
    assert partner_simulator.calls("impots") == 1


# The cache ------------------------------------------------------------------------------------


def test_a_second_page_is_served_from_the_cache_with_the_partners_date(claire, partner_simulator):
    first = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10).results[Source.IMPOTS]
    second = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10).results[Source.IMPOTS]
    assert not first.from_cache and second.from_cache
    assert second.data == first.data and second.fetched_at == first.fetched_at and second.label == first.label
    assert partner_simulator.calls("impots") == 1


def test_without_a_cache_duration_every_page_asks(claire, partner_simulator, settings):
    settings.MONCOMPTE_PARTNER_CACHE_SECONDS = 0
    for _ in range(2):
        assert (
            not partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
            .results[Source.IMPOTS]
            .from_cache
        )
    assert partner_simulator.calls("impots") == 2


def test_one_persons_cached_answer_is_never_given_for_another(partner_simulator):
    first, second = PersonFactory(), PersonFactory()
    partner_simulator.person("impots", nir(first), TAX)
    partner_simulator.person("impots", nir(second), {**TAX, "revenu_fiscal_de_reference": 9000})
    assert partner_data(person=first, sources=[Source.IMPOTS]).results[Source.IMPOTS].data == TAX
    for _ in range(2):  # the second time from the cache: still her own
        answer = partner_data(person=second, sources=[Source.IMPOTS]).results[Source.IMPOTS]
        assert answer.data["revenu_fiscal_de_reference"] == 9000
    assert answer.from_cache
    mine = partner_data(person=first, sources=[Source.IMPOTS]).results[Source.IMPOTS]
    assert mine.from_cache and mine.data == TAX
    assert partner_simulator.calls("impots") == 2


def test_a_cached_answer_is_not_given_once_the_persons_identifier_changed(claire, partner_simulator):
    partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    claire.identifier_digest = "0" * 64  # another identifier under the same person row (a re-keying)
    report = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
    assert not report.results[Source.IMPOTS].from_cache
    assert partner_simulator.calls("impots") == 2


class BrokenCache(BaseCache):
    def __init__(self, location, params):
        super().__init__(params)

    def get(self, *args, **kwargs):
        raise ConnectionError("cache down")

    def set(self, *args, **kwargs):
        raise ConnectionError("cache down")

    def clear(self):
        pass


def test_a_cache_that_fails_is_a_miss(claire, partner_simulator, settings):
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.BrokenCache"}}
    for _ in range(2):
        report = partner_data(person=claire, sources=[Source.IMPOTS], budget_seconds=10)
        assert report.results[Source.IMPOTS].data == TAX and not report.results[Source.IMPOTS].from_cache
    assert partner_simulator.calls("impots") == 2


# The identifier -------------------------------------------------------------------------------


def test_a_person_without_a_nir_is_not_looked_up(partner_simulator):
    person = PersonFactory(kind="provisional")
    assert person.identifier_type == "provisional"
    report = partner_data(person=person, sources=[Source.IMPOTS, Source.DRM])
    assert report.results == {}
    assert report.missing[Source.DRM] == (
        "Dispositif de ressources mensuelles (DRM) : ces informations ne peuvent être demandées qu'avec un numéro "
        "de sécurité sociale, que votre compte n'a pas encore."
    )
    assert set(report.missing) == {Source.IMPOTS, Source.DRM}
    assert partner_simulator.seen()["calls"] == dict.fromkeys(
        ["impots", "france_travail", "drm", "quotient_familial"], 0
    )


def test_the_nir_is_in_no_url_and_no_log_whatever_happens(claire, partner_simulator, settings, caplog):
    settings.MONCOMPTE_PARTNER_TIMEOUT_MS = 200
    partner_simulator.fail("drm", 5)
    partner_simulator.malformed("quotient_familial", 1)
    partner_simulator.hang("france_travail", count=5, ms=30_000)
    stranger = PersonFactory()
    with caplog.at_level(logging.DEBUG):  # httpx's and httpcore's debug lines included
        partner_data(person=claire, sources=list(Source), budget_seconds=20)
        partner_data(person=stranger, sources=[Source.IMPOTS], budget_seconds=20)
        partner_simulator.release()
        assert lookups_settle(20)
    secrets = [nir(claire), nir(stranger), settings.MONCOMPTE_PARTNERS["impots"]["token"]]
    seen = partner_simulator.paths()
    assert "/impots/v1/revenus" in seen and "/drm/v1/ressources" in seen
    assert not [path for path in seen for secret in secrets if secret in path]
    lines = [record.getMessage() for record in caplog.records]
    assert "partner drm failed: status 500" in lines and "partner france_travail failed: timeout" in lines
    assert not [line for line in lines for secret in secrets if secret in line]


def test_a_partner_without_a_url_is_not_asked_and_said_unavailable(claire, partner_simulator, settings):  # noqa: F811
    settings.MONCOMPTE_PARTNERS = {**settings.MONCOMPTE_PARTNERS, "impots": {"url": "", "token": "x"}}
    report = partner_data(person=claire, sources=[Source.IMPOTS, Source.DRM], budget_seconds=5)
    assert Source.IMPOTS in report.missing and Source.DRM in report.results
    assert partner_simulator.calls("impots") == 0
