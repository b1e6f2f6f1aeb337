"""Settings are read through config/env.py and refuse malformed values; the secrets are listed once.

The notification secrets and shortcuts are covered by tests/notifications/test_settings.py; here
the helpers themselves, the other secrets, and the rule that settings read nothing directly.
"""

import ast
import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import secrets
from config.env import env_bool, env_choice, env_date, env_float, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "config" / "settings.py"
# Covered one by one in tests/notifications/test_settings.py.
NOTIFICATION_SECRETS = {"MONCOMPTE_MESSAGE_KEY", "MONCOMPTE_CODE_KEY", "MONCOMPTE_SMS_TOKEN"}


# --- The helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1O", "12.5", "douze", "0x10"])
def test_a_malformed_whole_number_is_refused_with_the_variable_name(raw):
    with pytest.raises(ImproperlyConfigured, match="MONCOMPTE_X must be a whole number"):
        env_int("MONCOMPTE_X", 3, environ={"MONCOMPTE_X": raw})


def test_whole_numbers_are_read_and_bounded():
    assert env_int("N", 3, environ={}) == 3
    assert env_int("N", 3, environ={"N": "  "}) == 3  # empty: the default
    assert env_int("N", 3, min=1, max=9, environ={"N": " 7 "}) == 7
    with pytest.raises(ImproperlyConfigured, match="N must be at least 1, not 0"):
        env_int("N", 3, min=1, environ={"N": "0"})
    with pytest.raises(ImproperlyConfigured, match="N must be at most 9, not 10"):
        env_int("N", 3, max=9, environ={"N": "10"})


def test_decimal_numbers():
    assert env_float("T", 10.0, environ={"T": "2.5"}) == 2.5
    for raw in ("deux", "nan", "inf"):
        with pytest.raises(ImproperlyConfigured, match="^T must be"):
            env_float("T", 10.0, environ={"T": raw})


@pytest.mark.parametrize(
    ("raw", "value"), [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("false", False), ("0", False)]
)
def test_booleans_accept_the_six_usual_spellings(raw, value):
    assert env_bool("B", not value, environ={"B": raw}) is value
    assert env_bool("B", value, environ={}) is value


@pytest.mark.parametrize("raw", ["ture", "on", "off", "oui", "2", "y"])
def test_any_other_boolean_is_refused_with_the_variable_name(raw):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG must be true/false, 1/0 or yes/no"):
        env_bool("DJANGO_DEBUG", False, environ={"DJANGO_DEBUG": raw})


@pytest.mark.parametrize("raw", ["2022-13-01", "01/04/2022", "2022-4-1", "demain", "2022-04-01T00:00"])
def test_a_malformed_date_is_refused_with_the_variable_name(raw):
    with pytest.raises(ImproperlyConfigured, match="MONCOMPTE_D must be a date written YYYY-MM-DD"):
        env_date("MONCOMPTE_D", "2022-04-01", environ={"MONCOMPTE_D": raw})


def test_dates_lists_texts_and_choices():
    assert env_date("D", "2022-04-01", environ={}) == datetime.date(2022, 4, 1)
    assert env_date("D", "2022-04-01", environ={"D": "2023-01-31"}) == datetime.date(2023, 1, 31)
    assert env_list("L", ["x"], environ={"L": " a, b ,,"}) == ["a", "b"]
    assert env_list("L", ["x"], environ={}) == ["x"]
    assert env_str("S", "d", environ={"S": " v "}) == "v"
    assert env_choice("C", "a", ("a", "b"), environ={"C": "b"}) == "b"
    with pytest.raises(ImproperlyConfigured, match="C must be one of 'a', 'b', not 'c'"):
        env_choice("C", "a", ("a", "b"), environ={"C": "c"})


def test_a_refusal_never_quotes_a_long_value_in_full():
    secret_looking = "k1:" + "s" * 60
    with pytest.raises(ImproperlyConfigured) as error:
        env_int("N", 1, environ={"N": secret_looking})
    assert secret_looking not in str(error.value)


# --- The settings module --------------------------------------------------------------------------


def _import_settings(tmp_path, **changes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONCOMPTE_", "DJANGO_", "EMAIL_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env["MONCOMPTE_VAR_DIR"] = str(tmp_path)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("MONCOMPTE_SESSION_IDLE_SECONDS", "30min", "must be a whole number"),
        ("MONCOMPTE_TRUSTED_PROXY_COUNT", "-1", "must be at least 0"),
        ("DJANGO_DEBUG", "ture", "must be true/false"),
        ("EMAIL_USE_TLS", "oui", "must be true/false"),
        ("MONCOMPTE_LEGACY_CODE_PHONE_UNTIL", "31/03/2022", "must be a date written YYYY-MM-DD"),
        ("MONCOMPTE_ENV", "prod", "must be one of 'development', 'production'"),
        ("MONCOMPTE_TASKS_BACKEND", "celery", "must be one of 'database', 'immediate'"),
    ],
)
def test_the_service_refuses_to_start_on_a_malformed_value(tmp_path, variable, raw, message):
    done = _import_settings(tmp_path, **{variable: raw})
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert f"{variable} {message}" in done.stderr


def _production(tmp_path, **changes) -> subprocess.CompletedProcess:
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
    return _import_settings(tmp_path, **{**given, **changes})


def test_production_starts_with_every_secret(tmp_path):
    done = _production(tmp_path)
    assert done.returncode == 0, done.stderr


# FranceConnect's secret is needed only when FranceConnect is on (tests/franceconnect/test_settings.py).
OPTIONAL_SECRETS = NOTIFICATION_SECRETS | {"MONCOMPTE_FRANCECONNECT_CLIENT_SECRET"}


@pytest.mark.parametrize("variable", [s.variable for s in secrets.SECRETS if s.setting not in OPTIONAL_SECRETS])
def test_production_refuses_to_start_without_a_secret(tmp_path, variable):
    done = _production(tmp_path, **{variable: None})
    assert done.returncode != 0
    assert f"The environment variable {variable} is required in production." in done.stderr


def test_production_names_every_missing_secret_at_once(tmp_path):
    done = _production(tmp_path, DJANGO_SECRET_KEY=None, MONCOMPTE_AUDIT_KEY=" ")
    assert done.returncode != 0
    assert (
        "The environment variable DJANGO_SECRET_KEY is required in production (missing as well: MONCOMPTE_AUDIT_KEY)."
        in done.stderr
    )


def test_every_listed_secret_is_a_setting_with_its_development_value(settings):
    assert settings.MONCOMPTE_SECRET_SETTINGS == secrets.SECRET_SETTINGS
    for secret in secrets.SECRETS:
        if os.environ.get(secret.variable):
            continue  # this run was given its own value
        expected = secret.development.split(",") if secret.is_list else secret.development
        assert getattr(settings, secret.setting) == expected, secret.setting


def test_settings_read_the_environment_only_through_the_helpers():
    """No os.environ / os.getenv in config/settings.py: each read goes through config/env.py,
    and each secret through the one list of config/secrets.py."""
    tree = ast.parse(SETTINGS.read_text(encoding="utf-8"))
    direct = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
        and node.attr in {"environ", "getenv", "environb"}
    ]
    assert direct == [], f"config/settings.py reads the environment directly at lines {direct}"
    secret_reads = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_secret"
    }
    assert secret_reads == set(secrets.SECRET_SETTINGS)
