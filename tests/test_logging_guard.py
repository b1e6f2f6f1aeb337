"""Identifiers and secrets never reach the logs: every handler of the project's logging
configuration masks them, whatever a message was built from and whichever logger wrote it
(the application's, Django's and runserver's, gunicorn's access and error logs) (docs/security.md,
"Logs"). Fails if the filter is removed from a handler, if a logger writes through a handler
without it (Django's defaults left in place), or if the filter stops rewriting the record."""

import datetime
import io
import json
import logging
import logging.config
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.log import configure_logging

from moncompte.households.invitations import invitation_code_new, invitation_code_shown
from moncompte.logging import ACCESS_LOG_FORMAT, RedactSecretsFilter, logging_config, redact
from tests.factories import DEFAULT_PASSWORD, nir_for, typed
from tests.support.log_scan import find_secrets, nir_spellings

ROOT = Path(__file__).resolve().parents[1]


def _streams(config: dict) -> tuple[dict, dict[str, io.StringIO]]:
    """The configuration with each stream handler writing to a StringIO of its own."""
    config = {**config, "handlers": {name: dict(h) for name, h in config["handlers"].items()}}
    streams = {}
    for name, handler in config["handlers"].items():
        if handler["class"] == "logging.StreamHandler":
            streams[name] = handler["stream"] = io.StringIO()
    return config, streams


@pytest.fixture
def configured():
    """The project's logging as Django sets it up (Django's DEFAULT_LOGGING first, then
    settings.LOGGING), every stream handler writing to a StringIO: {handler name: stream}."""
    config, streams = _streams(settings.LOGGING)
    configure_logging(settings.LOGGING_CONFIG, config)
    try:
        yield streams
    finally:
        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


@pytest.fixture
def logged(configured):
    """What the project's console handler writes, as text."""
    return configured["console"]


def _nir(place="75115"):
    return nir_for(sex="F", birth_date=datetime.date(1985, 5, 4), birth_place_code=place)


def test_a_nir_in_a_log_message_is_masked(logged):
    identifier = _nir()
    for shown in (identifier.value, typed(identifier)):
        logging.getLogger("moncompte.guard").warning("sign-in of %s refused", shown)
    text = logged.getvalue()
    assert text.count("[NIR masqué]") == 2
    assert identifier.value not in text and typed(identifier) not in text
    assert identifier.value[:13] not in text.replace(" ", "")


def test_passwords_codes_and_tokens_in_a_log_message_are_masked(logged):
    logging.getLogger("django.request").warning("POST /x?password=%s&code=%s&token=%s", "S3cret!x", "482913", "abc.def")
    text = logged.getvalue()
    assert "S3cret!x" not in text and "482913" not in text and "abc.def" not in text
    assert "password=[masqué]" in text


# --- Every handler, every logger ---------------------------------------------------------------

VARIANTS = {
    "default": {},
    "files": {
        "log_file": "/tmp/app.log",
        "log_file_level": "DEBUG",
        "access_log_file": "/tmp/access.log",
        "error_log_file": "/tmp/error.log",
    },
    "quiet": {"level": "WARNING"},
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_handler_of_the_configuration_has_the_redaction_filter(variant):
    config = logging_config(**VARIANTS[variant])
    filters = config["filters"]
    assert config["handlers"]
    for name, handler in config["handlers"].items():
        assert handler.get("filters"), name
        for filter_name in handler["filters"]:
            assert filters[filter_name]["()"] == "moncompte.logging.RedactSecretsFilter", (name, filter_name)
    for name in ("django", "django.request", "django.server", "gunicorn.error", "gunicorn.access"):
        assert name in config["loggers"], name


def _settings_and_gunicorn(tmp_path, **variables) -> str:
    """config/settings.py's LOGGING and config/gunicorn.conf.py's logconfig_dict in a fresh
    process with these variables, compared with the builder's."""
    probe = (
        "import json, runpy, sys\n"
        "import config.settings as s\n"
        "from moncompte.logging import logging_config\n"
        "g = runpy.run_path('config/gunicorn.conf.py')['logconfig_dict']\n"
        "expected = logging_config(**json.loads(sys.argv[1]))\n"
        "print('same' if s.LOGGING == g == expected else 'different')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONCOMPTE_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update({"MONCOMPTE_VAR_DIR": str(tmp_path), **variables.pop("env", {})})
    done = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(variables)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip() or done.stderr


def test_settings_and_gunicorn_build_the_same_configuration_from_the_variables(tmp_path):
    assert _settings_and_gunicorn(tmp_path) == "same"
    files = {
        "MONCOMPTE_LOG_LEVEL": "WARNING",
        "MONCOMPTE_LOG_FILE": str(tmp_path / "app.log"),
        "MONCOMPTE_LOG_FILE_LEVEL": "DEBUG",
        "MONCOMPTE_ACCESS_LOG_FILE": str(tmp_path / "access.log"),
        "MONCOMPTE_ERROR_LOG_FILE": str(tmp_path / "error.log"),
    }
    expected = {
        "level": "WARNING",
        "log_file": str(tmp_path / "app.log"),
        "log_file_level": "DEBUG",
        "access_log_file": str(tmp_path / "access.log"),
        "error_log_file": str(tmp_path / "error.log"),
    }
    assert _settings_and_gunicorn(tmp_path, env=files, **expected) == "same"
    refused = _settings_and_gunicorn(tmp_path, env={"MONCOMPTE_LOG_FILE_LEVEL": "BAVARD"})
    assert "MONCOMPTE_LOG_FILE_LEVEL" in refused and "ImproperlyConfigured" in refused


def _writing_handlers():
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            for handler in logger.handlers:
                # pytest's own capture, and the NullHandler libraries attach (it writes nothing).
                if not type(handler).__module__.startswith("_pytest") and type(handler) is not logging.NullHandler:
                    yield logger.name, handler


def test_every_logger_writes_only_through_masking_handlers(configured):
    # Django's defaults (an unfiltered console on "django" with DEBUG on, runserver's
    # "django.server" handler, the admins' emails) must be gone, and every logger covered.
    for name in ("django", "django.server", "django.request", "django.security.csrf", "gunicorn.access", "py.warnings"):
        logging.getLogger(name)
    found = list(_writing_handlers())
    assert {name for name, _ in found} >= {"root", "django.server", "gunicorn.error", "gunicorn.access"}
    for name, handler in found:
        assert any(isinstance(f, RedactSecretsFilter) for f in handler.filters), (name, handler)


def test_django_runserver_and_gunicorn_lines_are_masked(configured):
    identifier, code = _nir(), invitation_code_shown(invitation_code_new())
    line = f"GET /invitation/{'T' * 43}/?password=S3cret!x&nir={identifier.value} HTTP/1.1"
    logging.getLogger("django.server").info('"%s" %s %s', line, "410", "1234")
    logging.getLogger("django.security.csrf").warning("Forbidden (CSRF): /%s/%s/", typed(identifier), code)
    logging.getLogger("gunicorn.error").warning(
        f"Invalid request from ip=192.0.2.1: Invalid HTTP request line: {line!r}"
    )
    atoms = {"h": "192.0.2.1", "l": "-", "t": "[01/Dec/2026:10:00:00 +0100]", "m": "GET", "U": f"/{identifier.value}/"}
    atoms |= {"H": "HTTP/1.1", "s": "404", "b": "12", "a": "curl", "M": 3}
    logging.getLogger("gunicorn.access").info(ACCESS_LOG_FORMAT, atoms)
    text = configured["console"].getvalue() + configured["error_console"].getvalue() + configured["access"].getvalue()
    for secret in ("T" * 43, "S3cret!x", identifier.value, typed(identifier), code):
        assert secret not in text
    assert text.count("[NIR masqué]") == 2 and "/invitation/[masqué]/" in text and "[code masqué]" in text
    assert '"GET /[NIR masqué]/ HTTP/1.1" 404' in configured["access"].getvalue()


def test_a_traceback_is_masked_too(logged):
    identifier = _nir()
    try:
        raise ValueError(f"Identifiant refusé : {identifier.value} (password={DEFAULT_PASSWORD})")
    except ValueError:
        logging.getLogger("moncompte.guard").exception("échec")
    text = logged.getvalue()
    assert "Traceback" in text and "ValueError" in text
    assert identifier.value not in text and DEFAULT_PASSWORD not in text


def test_a_message_whose_arguments_do_not_fit_is_neither_lost_nor_printed_raw(logged, capsys):
    identifier = _nir()
    logging.getLogger("moncompte.guard").warning("refusé : %s %s", identifier.value)  # one argument short
    assert "arguments non affichés" in logged.getvalue()
    assert identifier.value not in logged.getvalue() + capsys.readouterr().err


def test_the_access_log_keeps_one_line_per_request(configured):
    atoms = {"h": "192.0.2.1", "l": "-", "t": "[x]", "m": "GET", "U": "/a\nforged line", "H": "HTTP/1.1"}
    atoms |= {"s": "404", "b": "0", "a": "x", "M": 1}
    logging.getLogger("gunicorn.access").info(ACCESS_LOG_FORMAT, atoms)
    assert configured["access"].getvalue().count("\n") == 1 and "/a\\x0aforged line" in configured["access"].getvalue()


# --- What is masked, what is left ------------------------------------------------------------


def _spellings_of_nirs():
    for place in ("75115", "2A004", "2B033"):
        identifier = nir_for(sex="M", birth_date=datetime.date(1990, 2, 1), birth_place_code=place)
        for spelling in nir_spellings(identifier.value):
            yield pytest.param(spelling, id=f"{place}-{spelling}")


@pytest.mark.parametrize("spelling", list(_spellings_of_nirs()))
def test_a_nir_is_masked_in_every_spelling(spelling):
    for text in (spelling, f"x {spelling} y", f"/p/{spelling}/", f"?i={spelling}&", f"id_{spelling}", f'"{spelling}"'):
        cleaned = redact(text)
        assert "[NIR masqué]" in cleaned or "[masqué]" in cleaned, text
        assert find_secrets(cleaned, identifiers=[spelling.replace(" ", "")[:13]]) == [], cleaned


CODE = "7K3M-9QX2-T4BN-8WCD"


@pytest.mark.parametrize(
    "text, secret",
    [
        (f"code {CODE} envoyé", CODE),
        (f"code {CODE.lower()} envoyé", CODE.lower()),
        (f"code {CODE.replace('-', ' ')}", CODE.replace("-", " ")),
        (f"code {CODE.replace('-', '')}", CODE.replace("-", "")),
        (f"https://moncompte.caf.fr/invitation/#{CODE}", CODE),
        ("GET /invitation/" + "aB3_-x" * 7 + "/ HTTP/1.1", "aB3_-x" * 7),
        ("GET /invitation/identite HTTP/1.1", "identite"),
        ("?PassWord=S3cret!x&next=/", "S3cret!x"),
        ("?MOT_DE_PASSE=S3cret!x", "S3cret!x"),
        ("?motDePasse=S3cret!x", "S3cret!x"),
        ("?new_password=S3cret!x", "S3cret!x"),
        ("?Jeton=abcdef", "abcdef"),
        ("?NIR=1234", "1234"),
        ("?code=482913", "482913"),
        ("?csrfmiddlewaretoken=abcdef123", "abcdef123"),
        ("?secret_key=abcdef", "abcdef"),
        ("?identifier=x2x85x05", "x2x85x05"),
        ("next=/x%3Fpassword%3DS3cret%26y%3D1", "S3cret"),
        ("<QueryDict: {'password': ['S3cret!x'], 'next': ['/']}>", "S3cret!x"),
        ('{"code": 482913, "jeton": "abcdef"}', "482913"),
        ('{"code": 482913, "jeton": "abcdef"}', "abcdef"),
        ("Authorization: Bearer abcdefghijkl.mnop", "abcdefghijkl.mnop"),
        ("identifiant P-7K3M9-QX2T4 inconnu", "P-7K3M9-QX2T4"),
    ],
)
def test_secrets_are_masked(text, secret):
    assert secret not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-01 10:00:00,123 INFO moncompte.x started",
        "GET /invitation/ HTTP/1.1",
        "GET /invitation/mot-de-passe/ HTTP/1.1",
        "GET /connexion/?next=/mon-compte/&deconnecte=1 HTTP/1.1",
        "HTTP 500 from 127.0.0.1:8000 after 1733050000.123456 s, pid 12345",
        "mobile +33 6 12 34 56 78, 0690 12 34 56",
        "uuid 123e4567-e89b-12d3-a456-426614174000, digest 5f2b9c0d1e3a4b5c6d7e8f9012345678",
        "Task id=kZ4t0KLoyOxFKl1bFPFvF5UmwHwXn7lc state=SUCCESSFUL",
        "responsibilities of the service",
    ],
)
def test_ordinary_lines_are_left_alone(text):
    assert redact(text) == text


# --- gunicorn ----------------------------------------------------------------------------------


def test_gunicorn_reads_the_same_configuration_and_an_access_log_without_query_string():
    namespace = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    # The same environment: the same configuration as Django's (the log scan's file included).
    assert namespace["logconfig_dict"] == settings.LOGGING
    access = namespace["access_log_format"]
    assert "%(U)s" in access
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%(u)s", "{"):  # request line, query, referer, user, headers
        assert atom not in access
