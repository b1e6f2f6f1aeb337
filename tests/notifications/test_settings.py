"""Production refuses to start without the notification secrets and with development shortcuts."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MINE = {"MONCOMPTE_MESSAGE_KEY", "MONCOMPTE_CODE_KEY", "MONCOMPTE_SMS_TOKEN", "EMAIL_HOST", "DEFAULT_FROM_EMAIL"}
PROBE = (
    "import django.conf, config.settings as s; "
    "print(s.TASKS['default']['BACKEND'], s.EMAIL_BACKEND, s.MONCOMPTE_SMS_BACKEND, sep='\\n')"
)


def load_settings(tmp_path, **changes):
    """Import the settings as production would; other teams' required variables get dummies."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MONCOMPTE_", "DJANGO_", "EMAIL_"))}
    env.update(
        MONCOMPTE_ENV="production",
        MONCOMPTE_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://user:password@127.0.0.1:5432/moncompte",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DJANGO_ALLOWED_HOSTS="moncompte.example",
        MONCOMPTE_IDENTIFIER_HMAC_KEYS="k1:" + "h" * 40,
        MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS="k1:ZGV2LW9ubHktaWRlbnRpZmllci1hZXMta2V5LTAwMDA=",
        MONCOMPTE_MESSAGE_KEY="m" * 48,
        MONCOMPTE_CODE_KEY="c" * 48,
        MONCOMPTE_SMS_URL="https://sms.example/v1/sms",
        MONCOMPTE_SMS_TOKEN="t" * 32,
        EMAIL_HOST="smtp.example",
        DEFAULT_FROM_EMAIL="Mon Compte <ne-pas-repondre@moncompte.example>",
    )
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    for _ in range(30):
        done = subprocess.run(
            [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        missing = re.search(r"The environment variable (\w+) is required", done.stderr)
        if done.returncode == 0 or not missing or missing.group(1) in MINE:
            return done
        env[missing.group(1)] = "dummy-" + "x" * 48  # another team's secret: not under test here
    raise AssertionError(done.stderr)


def test_production_starts_with_every_setting(tmp_path):
    done = load_settings(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "django_tasks_db.DatabaseBackend",
        "django.core.mail.backends.smtp.EmailBackend",
        "moncompte.notifications.sms.HttpSmsGateway",
    ]


@pytest.mark.parametrize("name", sorted(MINE))
def test_production_refuses_a_missing_setting(tmp_path, name):
    done = load_settings(tmp_path, **{name: None})
    assert done.returncode != 0
    assert name in done.stderr


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"MONCOMPTE_TASKS_BACKEND": "immediate"}, "must be 'database' in production"),
        ({"EMAIL_BACKEND": "moncompte.notifications.email.OutboxEmailBackend"}, "outbox cannot be used"),
        ({"MONCOMPTE_SMS_BACKEND": "moncompte.notifications.sms.OutboxSmsGateway"}, "outbox cannot be used"),
        ({"MONCOMPTE_SMS_URL": "http://sms.example/v1/sms"}, "MONCOMPTE_SMS_URL"),
    ],
)
def test_production_refuses_development_shortcuts(tmp_path, changes, error):
    done = load_settings(tmp_path, **changes)
    assert done.returncode != 0
    assert error in done.stderr
