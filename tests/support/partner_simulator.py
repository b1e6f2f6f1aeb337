"""The partner simulator (tools/partner_simulator.py) as a real HTTP server for the tests.

A fixture plugin (registered in tests/conftest.py): ``partner_simulator`` starts the simulator
in a subprocess on a free port once per test session (on first use), and for each test that
takes it resets its data, behaviours and counters, points the partners' settings at it, and
empties the breakers, the connections and the partners' cache entries. The object it gives
drives the simulator through its control API and reads what it was asked, over HTTP like the
service itself.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIMULATOR = ROOT / "tools" / "partner_simulator.py"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Simulator:
    """The control API of a running simulator (docs/partners.md#the-simulator)."""

    def __init__(self, url: str):
        self.url = url

    def control(self, what: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}/_control/{what}",
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        self.control("reset")

    def person(self, partner: str, nir: str, data: dict | None) -> None:
        """The partner's answer for that NIR (None: the partner does not know them)."""
        self.control("data", {"partner": partner, "nir": nir, "data": data})

    def latency(self, partner: str, ms: int) -> None:
        self.control("latency", {"partner": partner, "latency_ms": ms})

    def fail(self, partner: str, count: int) -> None:
        """The next ``count`` calls to the partner answer 500."""
        self.control("fail", {"partner": partner, "count": count})

    def malformed(self, partner: str, count: int) -> None:
        self.control("malformed", {"partner": partner, "count": count})

    def hang(self, partner: str, count: int = 1, ms: int = 60_000) -> None:
        """The next ``count`` calls wait ``ms`` or until ``release()`` before answering."""
        self.control("hang", {"partner": partner, "count": count, "ms": ms})

    def release(self) -> None:
        self.control("release")

    def error_rate(self, partner: str, rate: float) -> None:
        self.control("error_rate", {"partner": partner, "error_rate": rate})

    def seen(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_control/calls", timeout=5) as response:
            return json.loads(response.read())

    def calls(self, partner: str) -> int:
        """How many lookups the partner was asked since the reset."""
        return self.seen()["calls"][partner]

    def paths(self) -> list[str]:
        """Every path the simulator was asked since the reset, in order."""
        return self.seen()["paths"]


@pytest.fixture(scope="session")
def partner_simulator_url():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, str(SIMULATOR), "--host", "127.0.0.1", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:  # its start, not a test's synchronisation: poll until it answers
        try:
            with urllib.request.urlopen(f"{url}/_control/calls", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the partner simulator did not start: {process.stderr.read()!r}") from None
            time.sleep(0.05)
    yield url
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    process.stderr.close()


@pytest.fixture
def partner_simulator(partner_simulator_url, settings):
    from django.core.cache import cache

    from moncompte.partners.client import reset_partners
    from moncompte.partners.services import lookups_settle

    settings.MONCOMPTE_PARTNERS = {
        code: {**entry, "url": partner_simulator_url} for code, entry in settings.MONCOMPTE_PARTNERS.items()
    }
    simulator = Simulator(partner_simulator_url)
    simulator.reset()
    reset_partners()
    cache.clear()
    yield simulator
    simulator.release()  # nothing of this test's lookups reaches the next one's breakers or cache
    lookups_settle(10)
    reset_partners()
    cache.clear()
