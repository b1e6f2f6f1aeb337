"""The session-wide log scan (tests/support/log_scan.py): a run whose logs hold a NIR, a
password of the test data or an invitation code fails, and says what and where without
copying it; a run whose redaction works passes.

Each case runs a small synthetic test file in a pytest of its own with the project's
configuration (pyproject.toml: the plugin is registered there), on SQLite. The synthetic test
logs secrets through the project's configured logging, as any code would; to show what the
scan catches, a plugin of the case switches the redaction off (``moncompte.logging.redact``
replaced by nothing) before Django configures its logging.
"""

import datetime
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import nir_for
from tests.support.log_scan import find_secrets, nir_spellings

ROOT = Path(__file__).resolve().parents[2]

SYNTHETIC = """
import datetime
import logging

from tests.factories import DEFAULT_PASSWORD, nir_for, typed
from moncompte.households.invitations import invitation_code_new, invitation_code_shown


def test_logs_what_code_must_never_log():
    nir = nir_for(sex="F", birth_date=datetime.date(1985, 5, 4), birth_place_code="2A004")
    log = logging.getLogger("moncompte.synthetic")
    log.warning("sign-in of %s refused", typed(nir))
    log.debug("password=%s", DEFAULT_PASSWORD)
    log.info("invitation %s sent", invitation_code_shown(invitation_code_new()))
    logging.getLogger("django.request").warning("Not Found: /dossier/%s/", nir.value)
"""

UNREDACTED = """
import moncompte.logging

moncompte.logging.redact = lambda text: text
"""


def _pytest(tmp_path: Path, *, redaction: bool, scan: bool = True) -> subprocess.CompletedProcess:
    (tmp_path / "test_synthetic.py").write_text(SYNTHETIC)
    (tmp_path / "unredacted_plugin.py").write_text(UNREDACTED)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONCOMPTE_") and k not in {"DATABASE_URL", "CI"}}
    env["MONCOMPTE_VAR_DIR"] = str(tmp_path / "var")
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    if not scan:
        env["MONCOMPTE_LOG_SCAN"] = "0"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
            "-p",
            "no:randomly",
            *([] if redaction else ["-p", "unredacted_plugin"]),
            str(tmp_path / "test_synthetic.py"),
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_a_run_whose_logs_are_masked_passes(tmp_path):
    done = _pytest(tmp_path, redaction=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "log scan: " in done.stdout and "reached the logs" not in done.stdout


def test_a_run_whose_logs_hold_secrets_fails_and_says_what_without_copying_it(tmp_path):
    done = _pytest(tmp_path, redaction=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed" in done.stdout  # the test itself passed: the scan failed the run
    assert "log scan: identifiers or secrets reached the logs" in done.stdout
    for kind in ("NIR (clé valide)", "NIR d'une personne de ce test", "mot de passe", "code d'invitation"):
        assert kind in done.stdout, kind
    assert "Fabrique2024ciel" not in done.stdout and "2A 004" not in done.stdout


def test_the_scan_can_be_turned_off(tmp_path):
    done = _pytest(tmp_path, redaction=False, scan=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "log scan" not in done.stdout


@pytest.mark.parametrize("place", ["75115", "2A004", "2B033"])
def test_every_spelling_of_a_nir_is_found(place):
    value = nir_for(sex="M", birth_date=datetime.date(1990, 2, 1), birth_place_code=place).value
    for spelling in nir_spellings(value):
        with_key = len(re.sub(r"[^0-9AB]", "", spelling.replace("%20", ""))) == 15
        for text in (spelling, f"GET /p/{spelling}/?x=1", f"identifier={spelling}&next=/"):
            assert find_secrets(text, identifiers=[value]), text
            if with_key:
                assert any(f.kind == "NIR (clé valide)" for f in find_secrets(text)), text


def test_what_is_not_a_secret_is_not_found():
    text = "\n".join(
        [
            "2026-12-01 23:58:15,791 INFO django_tasks Task id=kZ4t0KLoyOxFKl1bFPFvF5UmwHwXn7lc state=RUNNING",
            '127.0.0.1 - - [01/Dec/2026:23:58:15 +0000] "GET /x HTTP/1.1" 200 123456 "-" "python-requests/2.34.2" 12ms',
            "uuid 123e4567-e89b-12d3-a456-426614174000 digest 5f2b9c0d1e3a4b5c6d7e8f9012345678aa 1733050000123",
            "Booting worker with pid: 123456",
        ]
    )
    assert find_secrets(text, passwords=["Fabrique2024ciel"], codes=["482913"]) == []
