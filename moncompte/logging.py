"""Keeps identifiers and secrets out of the logs, whatever a message was built from.

Two parts (docs/security.md, "Logs"):

- ``redact(text)``: masks NIR/NIA/NNP-shaped numbers in any usual spacing, our provisional
  identifiers, invitation codes, the path of old invitation links (``/invitation/<token>/``),
  and the value of any parameter whose name says it is secret (``password=``, ``Code=``,
  ``"jeton": "…"``, ``csrfmiddlewaretoken=`` …), in any case;
- ``logging_config(...)``: the one logging configuration of the project, for Django
  (config/settings.py ``LOGGING``) and for gunicorn (config/gunicorn.conf.py ``logconfig_dict``),
  in which **every handler** carries the redaction filter: the application's loggers, Django's
  (``django``, ``django.request``, runserver's ``django.server``) and gunicorn's
  (``gunicorn.error``, ``gunicorn.access``). It needs neither Django nor its settings.

Redaction is defence in depth: secrets are kept out of URLs (invitation codes travel in a
fragment or a form, never in a path or a query string), and the access log leaves the query
string out; the filter catches what slips through anyway.
"""

import logging
import re

# A NIR/NIA/NNP in any usual spacing (13 or 15 characters, 2A/2B), and long digit runs (codes).
# Kept as it is: moncompte.identity.own_data refuses rectification messages that match it.
_NIR_LIKE = re.compile(r"\b[1-478]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[AaBb])\s?\d{3}\s?\d{3}(?:\s?\d{2})?\b")

# What people and URLs put between the groups of a number: spaces (also non-breaking), dots,
# dashes, the "+" and "%20" of a form-encoded space; at most two of them between two groups.
_SEP = r"(?:%20|[^\S\n]|[.+\-]){0,2}"
# Masked even next to a letter or an underscore (``nir_2850575115042``), not inside a longer
# run of digits or letters (a hex digest, a 20-digit number).
_NIR_SPACED = re.compile(
    rf"(?<![0-9A-Za-z])[1-478]{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}(?:\d{{2}}|2[AaBb]){_SEP}\d{{3}}{_SEP}\d{{3}}"
    rf"(?:{_SEP}\d{{2}})?(?![0-9A-Za-z])"
)
# Our provisional identifiers: P-XXXXX-XXXXX (moncompte.identity.identifiers).
_PROVISIONAL = re.compile(r"(?<![0-9A-Za-z])[Pp]-[0-9A-Za-z]{5}-[0-9A-Za-z]{5}(?![0-9A-Za-z])")
# Invitation codes (moncompte.households.invitations): 16 Crockford base32 characters, shown as
# XXXX-XXXX-XXXX-XXXX; typed in any case, with spaces or dashes, I, L and O for 1, 1 and 0.
_CODE_CHAR = "[0-9A-HJ-NP-TV-Za-hj-np-tv-z]"  # Crockford's alphabet and the letters typed for digits
_CODE_GROUPED = re.compile(
    rf"(?<![0-9A-Za-z]){_CODE_CHAR}{{4}}(?:(?:%20|[\s\-]){{1,2}}{_CODE_CHAR}{{4}}){{3}}(?![0-9A-Za-z])"
)
_CODE_BARE = re.compile(rf"(?<![0-9A-Za-z]){_CODE_CHAR}{{16}}(?![0-9A-Za-z])")
# Old invitation links carried their token in the path: /invitation/<token>/ (and typos of
# the new link). The pages of the flow keep their name.
_INVITATION_PATH = re.compile(r"(/invitation/)(?!mot-de-passe(?:[/?#\s\"']|$))([^/?#\s\"'&]+)")
# A parameter whose name says it holds a secret, in any case: password=…, new_password=…,
# Code=…, jeton=…, csrfmiddlewaretoken=…, also URL-encoded (password%3D…).
_MASKED_NAMES = (
    r"(?:password|passwd|pwd|passe|code|token|jeton|secret|nir|nia"
    r"|identifi(?:er|ant))"
)
# The value: up to the next parameter (& or an encoded %26), a space or a quote; a mask put by an
# earlier pattern ("[NIR masqué]") counts as one piece.
_VALUE = r"(?:\[[^\]\s]*(?:\s[^\]\s]*)?\]|(?!%26)[^&\s\"'<>,;])+"
_SECRET_FIELDS = re.compile(rf"(?i)(?<![0-9A-Za-z])([\w.\-\[\]]*{_MASKED_NAMES}[\w.\-\[\]]*)(=|%3D)({_VALUE})")
# The same in a JSON document or a Python repr: "password": "…", 'code': ['…'], "code": 123456.
_SECRET_ITEMS = re.compile(
    rf"(?i)([\"'])([\w.\-]*{_MASKED_NAMES}[\w.\-]*)\1(\s*:\s*\[?\s*)(?:\"[^\"]*\"|'[^']*'|-?\d[\d.]*)"
)
_BEARER = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{8,}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

MASKED = "[masqué]"


def _masked_code(match: re.Match) -> str:
    text = match.group(0)
    # Sixteen letters alone are a word; a code has digits, or is written in capitals.
    if any(char.isdigit() for char in text) or text.isupper():
        return "[code masqué]"
    return text


def redact(text: str) -> str:
    text = _NIR_SPACED.sub("[NIR masqué]", text)
    text = _PROVISIONAL.sub("[identifiant masqué]", text)
    text = _INVITATION_PATH.sub(rf"\1{MASKED}", text)
    text = _CODE_GROUPED.sub("[code masqué]", text)
    text = _CODE_BARE.sub(_masked_code, text)
    text = _BEARER.sub(rf"\1 {MASKED}", text)
    text = _SECRET_ITEMS.sub(rf"\1\2\1\3'{MASKED}'", text)
    return _SECRET_FIELDS.sub(rf"\1\2{MASKED}", text)


def one_line(text: str) -> str:
    """Control characters (a decoded ``%0A`` in a path) written as ``\\x0a``: one request, one line."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group(0)):02x}", text)


_exceptions = logging.Formatter()


class RedactSecretsFilter(logging.Filter):
    """Rewrites the record: its message, its traceback and its stack, masked by ``redact``.

    On every handler of ``logging_config()``. ``one_line``: control characters escaped too (the
    access log, where a line is a request).
    """

    def __init__(self, name: str = "", one_line: bool = False):
        super().__init__(name)
        self.one_line = one_line

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: logging would print them raw
            message = f"{record.msg} [arguments non affichés]"
            record.msg, record.args = message, None
        cleaned = redact(message)
        if self.one_line:
            cleaned = one_line(cleaned)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatted here so that the traceback's text (an exception's message) is masked too.
            record.exc_text = _exceptions.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# The access log: the combined log format without the query string (%(U)s is the path alone),
# the referer and the user of an Authorization header, which may hold anything.
ACCESS_LOG_FORMAT = '%(h)s %(l)s - %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "-" "%(a)s" %(M)sms'

_APP_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _lowest(*levels: str) -> str:
    return min(levels, key=LEVELS.index)


def _file_handler(path: str, formatter: str, filters: list[str], level: str | None = None) -> dict:
    # Watched: a file moved away by logrotate is reopened (gunicorn's USR1 reopens it as well).
    handler = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": str(path),
        "encoding": "utf-8",
        "formatter": formatter,
        "filters": filters,
    }
    if level:
        handler["level"] = level
    return handler


def logging_config(
    *,
    level: str = "INFO",
    log_file: str | None = None,
    log_file_level: str | None = None,
    access_log_file: str | None = None,
    error_log_file: str | None = None,
) -> dict:
    """The ``logging.config.dictConfig`` configuration of every process of the project.

    - the application (the root logger: Mon Compte, Django, libraries) writes to standard error
      from ``level`` on, and to ``log_file`` too when given (from ``log_file_level``, by default
      ``level``: a test run records everything in a file while the console stays quiet);
    - gunicorn's server messages (``gunicorn.error``, level set by gunicorn's ``--log-level``) go
      to ``error_log_file``, else with the application's;
    - the access log (``gunicorn.access``) goes to ``access_log_file``, else to standard output,
      one line per request; runserver's (``django.server``) goes with the application's;
    - Django's default handlers (an unfiltered console for ``django`` when DEBUG is on, the
      admins' emails) are replaced: every record reaches a handler of this configuration.

    Every handler has the redaction filter (``RedactSecretsFilter``).
    """
    for name, value in (("level", level), ("log_file_level", log_file_level)):
        if value is not None and value not in LEVELS:
            raise ValueError(f"{name} must be one of {', '.join(LEVELS)}, not {value!r}")
    file_level = log_file_level or level
    handlers = {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
            "filters": ["redact"],
            "level": level,
        },
        "access": (
            _file_handler(access_log_file, "access", ["redact_one_line"])
            if access_log_file
            else {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "access",
                "filters": ["redact_one_line"],
            }
        ),
    }
    app = ["console"]
    if log_file:
        handlers["file"] = _file_handler(log_file, "plain", ["redact"], file_level)
        app.append("file")
    if error_log_file:
        handlers["error_file"] = _file_handler(error_log_file, "plain", ["redact"])
        errors = ["error_file"]
    else:
        # Not the console's level: gunicorn's --log-level decides what it says.
        handlers["error_console"] = {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
            "filters": ["redact"],
        }
        errors = ["error_console", *app[1:]]
    lowest = _lowest(level, file_level)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "redact": {"()": "moncompte.logging.RedactSecretsFilter"},
            "redact_one_line": {"()": "moncompte.logging.RedactSecretsFilter", "one_line": True},
        },
        "formatters": {
            "plain": {"format": _APP_FORMAT},
            "access": {"format": "%(message)s"},
        },
        "handlers": handlers,
        "root": {"handlers": app, "level": lowest},
        "loggers": {
            # Django's defaults (DEFAULT_LOGGING) replaced: everything goes up to the root's handlers.
            "django": {"handlers": [], "level": lowest, "propagate": True},
            # Request bodies never reach the logs; Django's own request logger is enough for 4xx/5xx.
            "django.request": {"handlers": [], "level": "WARNING", "propagate": True},
            "django.server": {"handlers": app, "level": "INFO", "propagate": False},
            # No level: gunicorn's --log-level decides.
            "gunicorn.error": {"handlers": errors, "propagate": False},
            "gunicorn.access": {"handlers": ["access"], "propagate": False},
            # One INFO line per partner request (its URL) would double moncompte.partners' own lines.
            "httpx": {"handlers": [], "level": "WARNING", "propagate": True},
            "httpcore": {"handlers": [], "level": "WARNING", "propagate": True},
        },
    }
