"""The shared server harness (tests/support/server.py), as the benchmark uses it: no Django needed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from config.secrets import SECRETS
from tests.support.server import GunicornServer, ServerError, production_environment

ROOT = Path(__file__).resolve().parents[2]
# Production refuses to start without these; /healthz touches neither.
UNUSED_DATABASE = "postgres://nobody@127.0.0.1:9/none"
UNUSED_REDIS = "redis://127.0.0.1:9/0"


def test_the_environment_is_production_with_every_secret_and_nothing_inherited(tmp_path, monkeypatch):
    monkeypatch.setenv("MONCOMPTE_SESSION_IDLE_SECONDS", "5")  # the caller's own tuning
    env = production_environment(database_url=UNUSED_DATABASE, redis_url=UNUSED_REDIS, work_dir=tmp_path)
    assert env["MONCOMPTE_ENV"] == "production" and env["DATABASE_URL"] == UNUSED_DATABASE
    assert "MONCOMPTE_SESSION_IDLE_SECONDS" not in env
    assert all(env[secret.variable] for secret in SECRETS)
    assert (
        env["MONCOMPTE_CACHE_PREFIX"]
        != production_environment(database_url=UNUSED_DATABASE, redis_url=UNUSED_REDIS, work_dir=tmp_path)[
            "MONCOMPTE_CACHE_PREFIX"
        ]
    )
    with pytest.raises(ValueError, match="MONCOMPTE_AUDIT_KEY"):
        production_environment(
            database_url=UNUSED_DATABASE,
            redis_url=UNUSED_REDIS,
            work_dir=tmp_path,
            secrets={s.variable: "x" for s in SECRETS if s.variable != "MONCOMPTE_AUDIT_KEY"},
        )


def test_a_server_starts_answers_and_stops_with_its_workers(tmp_path):
    env = production_environment(database_url=UNUSED_DATABASE, redis_url=UNUSED_REDIS, work_dir=tmp_path)
    with GunicornServer(env, work_dir=tmp_path, workers=2, threads=1, worker_class="sync", name="probe") as server:
        server.wait_ready(min_workers=2)
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
        processes = server.processes()
        assert len(processes) == 3  # the master and its two workers
    assert server.process.poll() is not None
    assert not any(process.is_running() and process.status() != "zombie" for process in processes)


def test_a_server_that_cannot_start_says_why(tmp_path):
    env = production_environment(database_url=UNUSED_DATABASE, redis_url=UNUSED_REDIS, work_dir=tmp_path)
    env["MONCOMPTE_TRUSTED_PROXY_COUNT"] = "deux"
    server = GunicornServer(env, work_dir=tmp_path, workers=1, threads=1)
    with pytest.raises(ServerError, match="MONCOMPTE_TRUSTED_PROXY_COUNT must be a whole number"):
        with server:
            pass
    assert server.process.poll() is not None


def test_the_harness_imports_without_django_settings():
    probe = (
        "import sys, tests.support.server; conf = sys.modules.get('django.conf'); "
        "assert conf is None or not conf.settings.configured; print('ok')"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
