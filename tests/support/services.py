"""Finding the real services a test needs (PostgreSQL, Redis, Chromium).

Locally a test whose service is missing is skipped, so the suite runs on a laptop with nothing
installed. In CI (``CI=true``, or ``MONCOMPTE_REQUIRE_SERVICES=1`` anywhere) the same test
fails instead: a green CI run must mean that the real-component tests did run.
"""

import os
import shutil
import socket
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def services_required() -> bool:
    """True in CI, where a missing service is an error rather than a reason to skip."""
    truthy = {"1", "true", "yes", "on"}
    return (
        os.environ.get("CI", "").strip().lower() in truthy
        or os.environ.get("MONCOMPTE_REQUIRE_SERVICES", "").strip().lower() in truthy
    )


def require_or_skip(reason: str) -> NoReturn:
    """Skip the running test because ``reason``; fail it instead when services are required."""
    if services_required():
        pytest.fail(f"Required service missing (CI=true or MONCOMPTE_REQUIRE_SERVICES=1): {reason}", pytrace=False)
    pytest.skip(reason)


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
