"""Finding the real services a test needs (PostgreSQL, Redis, Chromium, nginx): skip locally, fail in CI.

Locally a test whose service is missing is skipped with the reason (shown by ``-rs``), so the
suite runs on a laptop with nothing installed. In CI (``CI=true``, or
``MONCOMPTE_REQUIRE_SERVICES=1`` anywhere) the same test fails instead: a green CI run must mean
that the real-component tests did run. Every such test goes through ``require_or_skip``:

- PostgreSQL-only tests are marked ``@requires_postgresql("why")`` (the marker is enforced by
  tests/support/ci_plugin.py), or take the ``postgresql`` fixture, or call
  ``require_postgresql("why")`` where the decision is made at run time (a fixture parameter);
- Redis: ``redis_url()`` then ``require_or_skip(...)`` when it is None, or the ``redis_service`` fixture;
- Chromium: ``chromium_path()`` likewise; nginx: ``nginx_path()`` likewise; axe-core (``npm ci``
  installs it in node_modules/): ``axe_script_path()`` likewise.

Never ``pytest.mark.skipif(connection.vendor != "postgresql", ...)``: it would skip in CI too,
and ci_plugin.py fails a CI run in which any test skipped.
"""

import os
import shutil
import socket
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
NGINX_CANDIDATES = ("/usr/sbin/nginx",)
# axe-core, pinned in package.json at the repository's root and installed there by `npm ci`.
AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
_TRUTHY = {"1", "true", "yes", "on"}

# ``@requires_postgresql("reason")``: the test runs on PostgreSQL only (skip locally, fail in CI).
requires_postgresql = pytest.mark.requires_postgresql


def services_required() -> bool:
    """True in CI, where a missing service is an error rather than a reason to skip."""
    return (
        os.environ.get("CI", "").strip().lower() in _TRUTHY
        or os.environ.get("MONCOMPTE_REQUIRE_SERVICES", "").strip().lower() in _TRUTHY
    )


def require_or_skip(reason: str) -> NoReturn:
    """Skip the running test because ``reason``; fail it instead when services are required."""
    if services_required():
        pytest.fail(f"Required service missing (CI=true or MONCOMPTE_REQUIRE_SERVICES=1): {reason}", pytrace=False)
    pytest.skip(reason)


def on_postgresql() -> bool:
    """Whether this test run's database is PostgreSQL (DATABASE_URL=postgres://...)."""
    from django.db import connection

    return connection.vendor == "postgresql"


def postgresql_reason(reason: str) -> str:
    return f"PostgreSQL only (DATABASE_URL=postgres://...): {reason}"


def require_postgresql(reason: str) -> None:
    """Go on only if the test run is on PostgreSQL: else skip (laptop) or fail (CI)."""
    if not on_postgresql():
        require_or_skip(postgresql_reason(reason))


@pytest.fixture
def postgresql() -> None:
    """For a test that needs the run's database to be PostgreSQL (skip locally, fail in CI)."""
    require_postgresql("this test needs PostgreSQL")


@pytest.fixture
def redis_service() -> str:
    """The URL of a reachable Redis (skip locally, fail in CI)."""
    url = redis_url()
    if url is None:
        require_or_skip("this test needs a reachable Redis (REDIS_URL=redis://...)")
    return url


def _reachable(url: str, default_port: int, timeout: float = 1.0) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    try:
        port = parts.port or default_port
    except ValueError:
        return False
    if host.startswith("/"):  # a Unix socket directory: the server answers if the directory exists
        return Path(host).is_dir()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def postgres_url() -> str | None:
    """The PostgreSQL URL given by TEST_DATABASE_URL or DATABASE_URL, if its server answers."""
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "").strip()
        if url:
            if urlsplit(url).scheme not in {"postgres", "postgresql", "pgsql", "postgis"}:
                continue
            return url if _reachable(url, 5432) else None
    return None


def redis_url() -> str | None:
    """The Redis URL given by REDIS_URL, if its server answers."""
    url = os.environ.get("REDIS_URL", "").strip()
    if not url or urlsplit(url).scheme not in {"redis", "rediss"}:
        return None
    return url if _reachable(url, 6379) else None


def chromium_path() -> str | None:
    """Debian's Chromium (or CHROMIUM_PATH), if installed."""
    explicit = os.environ.get("CHROMIUM_PATH", "").strip()
    candidates = (explicit,) if explicit else CHROMIUM_CANDIDATES
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium") if not explicit else None


def nginx_path() -> str | None:
    """Debian's nginx (or NGINX_PATH), if installed (.ci/run installs it)."""
    explicit = os.environ.get("NGINX_PATH", "").strip()
    candidates = (explicit,) if explicit else NGINX_CANDIDATES
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("nginx") if not explicit else None


def axe_script_path() -> str | None:
    """axe-core's browser script (or AXE_SCRIPT_PATH), if `npm ci` installed it (.ci/run does)."""
    explicit = os.environ.get("AXE_SCRIPT_PATH", "").strip()
    candidate = Path(explicit) if explicit else AXE_SCRIPT
    return str(candidate) if candidate.is_file() else None
