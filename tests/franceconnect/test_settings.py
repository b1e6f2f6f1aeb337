"""FranceConnect's settings: off by default, its secret needed in production only when it is on."""

import os
import subprocess
import sys
from pathlib import Path

from config import secrets

ROOT = Path(__file__).resolve().parents[2]
SECRET = "MONCOMPTE_FRANCECONNECT_CLIENT_SECRET"


def _import_settings(tmp_path, code: str = "import config.settings", **changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONCOMPTE_", "DJANGO_", "EMAIL_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env["MONCOMPTE_VAR_DIR"] = str(tmp_path)
    env.update({k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        env.pop(key, None)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def _production(tmp_path, code: str = "import config.settings", **changes) -> subprocess.CompletedProcess:
    given = {
        "MONCOMPTE_ENV": "production",
        "DATABASE_URL": "postgres://user:password@127.0.0.1:5432/moncompte",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "DJANGO_ALLOWED_HOSTS": "moncompte.example",
        "EMAIL_HOST": "smtp.example",
        "DEFAULT_FROM_EMAIL": "Mon Compte <ne-pas-repondre@moncompte.example>",
        "MONCOMPTE_SMS_URL": "https://sms.example/v1/sms",
        **{s.variable: f"prod{index}:" + "p" * 44 for index, s in enumerate(secrets.SECRETS)},
    }
    return _import_settings(tmp_path, code, **{**given, **changes})


def test_franceconnect_is_off_by_default(settings):
    if not os.environ.get("MONCOMPTE_FRANCECONNECT_ISSUER"):
        assert settings.MONCOMPTE_FRANCECONNECT_ISSUER == ""
    assert settings.MONCOMPTE_FRANCECONNECT_ACR == "eidas1"


def test_production_without_franceconnect_starts_without_its_secret(tmp_path):
    done = _production(tmp_path, **{SECRET: None})
    assert done.returncode == 0, done.stderr


def test_production_with_franceconnect_needs_its_secret_and_https(tmp_path):
    on = {"MONCOMPTE_FRANCECONNECT_ISSUER": "https://fc.example/api/v2", "MONCOMPTE_FRANCECONNECT_CLIENT_ID": "id"}
    assert _production(tmp_path, **on).returncode == 0
    done = _production(tmp_path, **on, **{SECRET: None})
    assert done.returncode != 0
    assert f"The environment variable {SECRET} is required in production." in done.stderr
    done = _production(tmp_path, **{**on, "MONCOMPTE_FRANCECONNECT_ISSUER": "http://fc.example/api/v2"})
    assert "MONCOMPTE_FRANCECONNECT_ISSUER (https://...) is required in production." in done.stderr
    done = _production(tmp_path, **{**on, "MONCOMPTE_FRANCECONNECT_CLIENT_ID": None})
    assert "MONCOMPTE_FRANCECONNECT_CLIENT_ID is required" in done.stderr


def test_franceconnect_on_lets_the_forms_redirect_there(tmp_path):
    code = "import config.settings as s; print(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"
    on = _import_settings(
        tmp_path,
        code,
        MONCOMPTE_FRANCECONNECT_ISSUER="http://127.0.0.1:8092/api/v2",
        MONCOMPTE_FRANCECONNECT_CLIENT_ID="moncompte-demo",
    )
    assert on.returncode == 0, on.stderr
    assert "'http://127.0.0.1:8092'" in on.stdout
    off = _import_settings(tmp_path, code)
    assert "8092" not in off.stdout
