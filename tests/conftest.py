"""Fixtures and safety nets shared by every test.

Safety nets (docs/testing.md), active in every test:
- an unknown template variable fails the test (``string_if_invalid`` that fails when rendered);
- a queryset without an ordering comes back shuffled (a page or an answer that relies on the
  database's arbitrary order then fails, in some runs, with the seed printed to replay it);
- tests run in random order (pytest-randomly; replay with ``--randomly-seed=N``);
- each test has a time limit (pytest-timeout: 120 s, longer for the server and browser tests).

Test data comes from tests.factories (``family`` below, or the factories themselves). The demo
data (``demo``, CLAIRE, SOFIA) is for the tests of the demo itself (tests/test_demo.py) only.
"""

import io
import random
import tempfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.test import Client
from hypothesis.configuration import set_hypothesis_home_dir

from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.models import Person

# Fixture plugins of tests/support, available to every test (the others come by `-p` in pyproject.toml):
# ``partner_simulator``, the partners' simulator as a real HTTP server (tests/support/partner_simulator.py);
# ``franceconnect_provider``, the local FranceConnect provider on Node (tests/support/franceconnect_provider.py).
pytest_plugins = ["tests.support.partner_simulator", "tests.support.franceconnect_provider"]

# Hypothesis (the fuzz and property tests) keeps its caches out of the repository.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "moncompte-hypothesis")

# The demo's people (docs/demo.md): for the demo-data tests only, new tests use ``family``.
CLAIRE = ("2 85 05 75 115 042 95", "Soleil2021bleu")
SOFIA = ("2 90 02 2A 004 021 09", "Corse1990mer")

# Server and browser tests start processes and a browser: they get longer than the default.
SLOW_MARKERS_TIMEOUT = {"server": 600, "browser": 600}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout"):
            continue
        limits = [seconds for name, seconds in SLOW_MARKERS_TIMEOUT.items() if item.get_closest_marker(name)]
        if limits:
            item.add_marker(pytest.mark.timeout(max(limits)))


# Unknown template variables ---------------------------------------------------------------------


class UnknownTemplateVariable(str):
    """Django's ``string_if_invalid``: rendering a variable that does not exist fails the test.

    Django formats it with ``%`` when it contains "%s" (the variable's name); ``{% if %}`` and
    ``{% for %}`` on a missing variable never render it, as in production.
    """

    def __new__(cls):
        return super().__new__(cls, "%s")

    def __mod__(self, variable):
        pytest.fail(f"Unknown template variable {variable!r} (tests/conftest.py: UnknownTemplateVariable)")

    def __str__(self):
        pytest.fail("Unknown template variable (tests/conftest.py: UnknownTemplateVariable)")


@pytest.fixture(autouse=True, scope="session")
def _fail_on_unknown_template_variables():
    options = django_settings.TEMPLATES[0]["OPTIONS"]
    previous = options.get("string_if_invalid", "")
    options["string_if_invalid"] = UnknownTemplateVariable()
    _reset_template_engines()
    yield
    options["string_if_invalid"] = previous
    _reset_template_engines()


def _reset_template_engines():
    from django.template import engines
    from django.template.engine import Engine

    engines._engines = {}
    engines.__dict__.pop("templates", None)
    Engine.get_default.cache_clear()


# Unordered querysets come back shuffled --------------------------------------------------------


def _has_no_ordering(query) -> bool:
    """Neither order_by() nor a model's default ordering: the database may return any order.

    Queries whose ordering Django cleared on purpose (count, exists, aggregates, subqueries) have
    ``default_ordering`` False and are left alone; so are DISTINCT and combined queries, where
    an added ORDER BY would change the SQL's meaning.
    """
    if query.extra_order_by or query.order_by or not query.default_ordering:
        return False
    if query.distinct or query.combinator:
        return False
    meta = query.get_meta()
    return not (meta and meta.ordering and not query.group_by)


_original_fetch_all = QuerySet._fetch_all
_original_order_by_pairs = SQLCompiler._order_by_pairs


def _shuffled_fetch_all(self):
    fresh = self._result_cache is None
    _original_fetch_all(self)
    if fresh and len(self._result_cache) > 1 and _has_no_ordering(self.query):
        # The global random, reseeded before each test by pytest-randomly: replayable by seed.
        random.shuffle(self._result_cache)


def _random_order_when_sliced(self):
    # A slice of an unordered query picks arbitrary rows, which a shuffle after the fetch cannot
    # show: order those randomly in SQL (not replayable by seed, but rare and always a bug).
    query = self.query
    if (query.low_mark or query.high_mark is not None) and _has_no_ordering(query):
        query.order_by = ("?",)
        try:
            return list(_original_order_by_pairs(self))
        finally:
            query.order_by = ()
    return _original_order_by_pairs(self)


@pytest.fixture(autouse=True, scope="session")
def _shuffle_unordered_querysets():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(QuerySet, "_fetch_all", _shuffled_fetch_all)
        patch.setattr(SQLCompiler, "_order_by_pairs", _random_order_when_sliced)
        yield


# Isolation between tests -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clear_cache():
    # Nothing the rules need lives in the cache any more (sessions and throttling counters are in
    # the database); each test still starts from an empty one, so no cached value leaks.
    cache.clear()
    yield
    cache.clear()


# Data ------------------------------------------------------------------------------------------


@pytest.fixture
def family(db):
    """A typical household built from factories (tests.factories.make_household): R, spouse S,
    a child of 17 with accounts, a child of 10 without."""
    from tests.factories import make_household

    return make_household()


@pytest.fixture
def delegated_family(db):
    """The same, the spouse holding the delegation (S+)."""
    from tests.factories import make_household

    return make_household(delegated=True)


@pytest.fixture
def demo(db):
    """The demo data of ``make run`` (docs/demo.md). For the demo-data tests only (and the tests
    not moved to factories yet): new tests use ``family`` or tests.factories."""
    call_command("load_demo", stdout=io.StringIO())


def person_of(raw: str) -> Person:
    return Person.objects.with_identifier(parse_identifier(raw).value).get()


def sign_in(client, raw: str, password: str, **extra):
    return client.post("/connexion/", {"identifier": raw, "password": password}, **extra)


@pytest.fixture
def deliver_messages(monkeypatch, django_capture_on_commit_callbacks):
    """Each test-client request's after-commit work (sending emails and SMS) runs when the
    request ends, as it would after a real commit; the test's transaction wraps the rest."""
    original = Client.request

    def request(self, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(self, **kwargs)

    monkeypatch.setattr(Client, "request", request)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, and at the end of the run, on PostgreSQL, the connections still open
    to it by others (a server process of an integration test, a thread's connection) ended
    before it is dropped: the drop fails while any is open. They are named on stderr, so that a
    leak stays visible without failing a run whose tests all passed."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, application_name, state, left(query, 120), pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for pid, application, state, query, _ in cursor.fetchall():
            print(f"\nStill connected to the test database at the end: {pid} {application!r} {state} {query!r}")
