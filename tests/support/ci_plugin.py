"""Pytest plugin of the quality gate (registered in pyproject.toml: ``-p tests.support.ci_plugin``).

- ``@requires_postgresql("why")`` (tests/support/services.py): before the test runs, skip it
  when the run is not on PostgreSQL, or fail it under CI=true;
- the fixtures ``postgresql`` and ``redis_service``, available to every test;
- under CI=true (or MONCOMPTE_REQUIRE_SERVICES=1) no test may skip: whatever the cause (a bare
  ``pytest.skip``, a ``skipif``), a run with skipped tests lists them and exits with failure.
"""

import pytest

from tests.support.services import (
    on_postgresql,
    postgresql,
    postgresql_reason,
    redis_service,
    require_postgresql,
    services_required,
)

__all__ = ["postgresql", "redis_service"]  # fixtures, registered by being in this plugin

_skipped: list[tuple[str, str]] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_postgresql(reason): runs on PostgreSQL only; skipped locally, fails under CI=true",
    )
    _skipped.clear()


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("requires_postgresql")
    if marker is None or on_postgresql():
        return
    reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "this test needs PostgreSQL")
    if services_required():
        require_postgresql(reason)  # fails
    # As pytest's own skip markers do: the skip is reported at the test, not here.
    raise pytest.skip.Exception(postgresql_reason(reason), _use_item_location=True)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped.append((report.nodeid, reason))


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if _skipped and services_required():
        terminalreporter.section("skipped under CI=true: every test must run", red=True)
        for nodeid, reason in _skipped:
            terminalreporter.line(f"{nodeid}: {reason}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and services_required() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
