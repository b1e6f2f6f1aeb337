"""The quality gate's pytest plugin (tests/support/ci_plugin.py): under CI=true nothing skips.

Each case runs a small synthetic test file in a pytest of its own, on SQLite, with and without
CI=true, and looks at the exit code and the output.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SYNTHETIC = """
import pytest
from tests.support.services import requires_postgresql

def test_runs():
    pass

@requires_postgresql("a synthetic trigger")
def test_needs_postgresql():
    pass

def test_skips_by_itself():
    pytest.skip("a synthetic reason")
"""


def _pytest(tmp_path: Path, *, ci: bool, selection: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_synthetic.py").write_text(SYNTHETIC)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "MONCOMPTE_REQUIRE_SERVICES", "DATABASE_URL"}}
    env["MONCOMPTE_VAR_DIR"] = str(tmp_path / "var")
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(tmp_path / "pytest.ini"),
            "--rootdir",
            str(tmp_path),
            "--ds",
            "config.settings",
            "-p",
            "tests.support.ci_plugin",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-rs",
            "-k",
            selection,
            str(tmp_path / "test_synthetic.py"),
        ],  # fmt: skip
        cwd=ROOT,  # `python -m pytest` puts it on sys.path: tests.support is importable
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_laptop_run_skips_and_says_why(tmp_path):
    done = _pytest(tmp_path, ci=False, selection="runs or skips_by_itself or needs_postgresql")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 2 skipped" in done.stdout
    assert "a synthetic reason" in done.stdout
    assert "PostgreSQL only (DATABASE_URL=postgres://...): a synthetic trigger" in done.stdout


def test_under_ci_a_skipped_or_postgresql_test_fails_the_run(tmp_path):
    done = _pytest(tmp_path, ci=True, selection="runs or skips_by_itself or needs_postgresql")
    assert done.returncode == 1, done.stdout + done.stderr
    # The marker fails the PostgreSQL test on SQLite ...
    assert "ERROR" in done.stdout and "Required service missing" in done.stdout
    assert "a synthetic trigger" in done.stdout
    # ... and a bare skip, which the run cannot prevent, is listed and fails the run.
    assert "skipped under CI=true: every test must run" in done.stdout
    assert "test_synthetic.py::test_skips_by_itself: Skipped: a synthetic reason" in done.stdout


def test_under_ci_a_skip_alone_fails_the_run(tmp_path):
    done = _pytest(tmp_path, ci=True, selection="runs or skips_by_itself")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed, 1 skipped" in done.stdout


def test_under_ci_a_run_where_everything_runs_passes(tmp_path):
    done = _pytest(tmp_path, ci=True, selection="runs")
    assert done.returncode == 0, done.stdout + done.stderr
