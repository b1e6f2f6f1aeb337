"""Pytest plugin: the logs of the whole test run are scanned for identifiers and secrets.

Registered in pyproject.toml (``-p tests.support.log_scan``), on for every run
(``MONCOMPTE_LOG_SCAN=0`` turns it off). Before Django reads its settings it points
``MONCOMPTE_LOG_FILE`` to a file of its own, with ``MONCOMPTE_LOG_FILE_LEVEL=DEBUG``: the
project's logging configuration (moncompte.logging.logging_config) then adds a file handler,
with the same redaction filter as every other handler, and every record of the run at any
level goes through it. The plugin adds no filter or handler of its own: it reads what the
configured pipeline wrote. At the end of the session it scans that file and fails the run if it
holds:

- a NIR with a valid key (2A/2B too), in any spacing (spaces, dots, dashes, "+", "%20");
- the NIR (13 characters, key or not) or provisional identifier of a person the factories
  made in this run, or of the demo;
- an invitation code (XXXX-XXXX-XXXX-XXXX, or its 16 characters in a row);
- a password of the factories or of the demo.

The report names the kind, the file and the line, never the secret. Subprocesses started by
tests inherit ``MONCOMPTE_LOG_FILE`` and write to the same file (a pytest of their own, which
loads this plugin, gets its own file). Servers started through tests/support/server.py get an
environment of their own: tests/integration/test_log_scan.py scans theirs.

The detection functions (``nir_spellings``, ``find_secrets``) serve that test too.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ENABLED_VARIABLE = "MONCOMPTE_LOG_SCAN"

# What may stand between two characters of a number: spaces (also non-breaking), dots, dashes,
# underscores, slashes, a form-encoded space ("+", "%20").
_S = r"(?:[ \t\u00a0\u202f.\-+_/]|%20){0,3}"
_NIR_BODY = rf"[1-478](?:{_S}[0-9]){{4}}{_S}(?:[0-9]{_S}[0-9]|2{_S}[AaBb])(?:{_S}[0-9]){{6}}(?:(?:{_S}[0-9]){{2}})?"
# Overlapping candidates (a lookahead), standalone: not inside a word or a hex digest.
_NIR_STANDALONE = re.compile(rf"(?<![0-9A-Za-z])(?=({_NIR_BODY})(?![0-9A-Za-z]))")
# Anywhere but inside a longer number: for the identifiers the run really handed out.
_NIR_ANYWHERE = re.compile(rf"(?<![0-9])(?=({_NIR_BODY}))")
_SEPARATORS = re.compile(r"[ \t\u00a0\u202f.\-+_/]|%20")
_CROCKFORD = "0-9A-HJKMNP-TV-Z"
_CODE_GROUPED = re.compile(rf"(?i)(?<![0-9A-Za-z])[{_CROCKFORD}]{{4}}(?:[-\s][{_CROCKFORD}]{{4}}){{3}}(?![0-9A-Za-z])")
_CODE_BARE = re.compile(rf"(?<![0-9A-Za-z])[{_CROCKFORD}]{{16}}(?![0-9A-Za-z])")
_PROVISIONAL = re.compile(r"(?i)(?<![0-9A-Za-z])P-?[0-9A-Z]{5}-?[0-9A-Z]{5}(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Finding:
    kind: str
    line: int  # 1-based line number in the scanned text
    excerpt: str  # the line around the secret, the secret itself masked

    def __str__(self) -> str:
        return f"line {self.line}: {self.kind}: {self.excerpt}"


def _nir_key(head13: str) -> str:
    from stdnum.fr import nir

    return nir.calc_check_digits(head13.upper())


def nir_spellings(value: str) -> list[str]:
    """A NIR (13 characters, or 15 with its key) as people and programs write it: bare, with
    its key, grouped by spaces, dots, dashes, "+" or "%20" (a form-encoded space)."""
    head = value.replace(" ", "").upper()[:13]
    key = _nir_key(head)
    groups = [head[0], head[1:3], head[3:5], head[5:7], head[7:10], head[10:13]]
    spellings = {head, head + key, head + " " + key}
    for separator in (" ", ".", "-", "+", "%20", "\u00a0"):
        spellings.add(separator.join(groups))
        spellings.add(separator.join([*groups, key]))
    return sorted(spellings)


def _excerpts(text: str, spans: list[tuple[int, int, str]]) -> list[Finding]:
    """One finding per span, its line shown with every span found on it masked (the report goes
    to the terminal and CI's output: it must not copy what it found)."""
    from moncompte.logging import redact

    findings = []
    for start, end, kind in spans:
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        shown, position = "", line_start
        for other_start, other_end, _ in spans:
            if other_end <= position or other_start >= line_end:
                continue
            shown += text[position : max(position, other_start)] + "[…]"
            position = other_end
        shown += text[position:line_end]
        findings.append(Finding(kind, text.count("\n", 0, start) + 1, redact(shown.strip())[:240]))
    return findings


def _canonical_number(candidate: str) -> str:
    return _SEPARATORS.sub("", candidate).upper()


def find_secrets(
    text: str,
    *,
    identifiers: Iterable[str] = (),
    passwords: Iterable[str] = (),
    codes: Iterable[str] = (),
    tokens: Iterable[str] = (),
) -> list[Finding]:
    """Every identifier and secret in ``text``.

    Always: NIRs with a valid key, invitation codes (by their shape). ``identifiers``: canonical
    values (a NIR's 13 characters, a provisional identifier's 11) found in any spacing, key or
    not; ``passwords`` and ``tokens``: found as written; ``codes``: as written, without their
    dashes or in lower case, and not inside a longer word or number (a 6-digit code is not
    found in a timestamp).
    """
    found: dict[tuple[int, str], tuple[int, int, str]] = {}
    heads = {value.upper() for value in identifiers if len(value) == 13}
    provisional = {value.upper() for value in identifiers if value.upper().startswith("P") and len(value) == 11}

    def add(start: int, end: int, kind: str) -> None:
        found.setdefault((start, kind), (start, end, kind))

    for match in _NIR_ANYWHERE.finditer(text):
        candidate = match.group(1)
        if _canonical_number(candidate)[:13] in heads:
            add(match.start(1), match.start(1) + len(candidate), "NIR d'une personne de ce test")
    for match in _NIR_STANDALONE.finditer(text):
        candidate = match.group(1)
        number = _canonical_number(candidate)
        if len(number) == 15 and _nir_key(number[:13]) == number[13:]:
            add(match.start(1), match.start(1) + len(candidate), "NIR (clé valide)")
    for match in _PROVISIONAL.finditer(text):
        if match.group(0).replace("-", "").upper() in provisional:
            add(match.start(), match.end(), "identifiant provisoire d'une personne de ce test")
    for match in _CODE_GROUPED.finditer(text):
        shown = match.group(0)
        if shown.isupper() or sum(char.isdigit() for char in shown) >= 2:
            add(match.start(), match.end(), "code d'invitation")
    for match in _CODE_BARE.finditer(text):
        bare = match.group(0)
        if any(char.isdigit() for char in bare) and any(char.isalpha() for char in bare):
            add(match.start(), match.end(), "code d'invitation (sans tirets)")
    for kind, words in (("mot de passe", passwords), ("jeton", tokens)):
        for word in {w for w in words if w}:
            for match in re.finditer(re.escape(word), text):
                add(match.start(), match.end(), kind)
    for code in {c for c in codes if c}:
        for spelling in {code, code.replace("-", ""), code.lower(), code.replace("-", "").lower()}:
            for match in re.finditer(rf"(?<![0-9A-Za-z]){re.escape(spelling)}(?![0-9A-Za-z])", text):
                add(match.start(), match.end(), "code")
    return _excerpts(text, sorted(found.values()))


def session_secrets() -> tuple[set[str], set[str]]:
    """The identifiers handed out by the factories in this process, and the demo's, and the
    passwords of the factories and the demo: what the run's logs must never show."""
    identifiers: set[str] = set()
    passwords: set[str] = set()
    try:
        from tests.factories import identity as factory_identity
        from tests.factories.accounts import DEFAULT_PASSWORD
        from tests.factories.builders import PASSWORDS
    except Exception:  # noqa: BLE001 - Django never set up: nothing was made
        return identifiers, passwords
    identifiers |= set(factory_identity._used_values)
    passwords |= {DEFAULT_PASSWORD, *PASSWORDS.values()}
    try:
        from moncompte.households.management.commands.load_demo import PEOPLE
        from moncompte.identity.identifiers import parse_identifier
    except Exception:  # noqa: BLE001
        return identifiers, passwords
    for person in PEOPLE:
        identifiers.add(parse_identifier(person[1]).value)
        if person[7]:
            passwords.add(person[7])
    return identifiers, passwords


# --- The plugin ---------------------------------------------------------------------------------


class _Scan:
    def __init__(self) -> None:
        self.directory: Path | None = None
        self.path: Path | None = None
        self.findings: list[Finding] = []


_scan = _Scan()


def _enabled() -> bool:
    return os.environ.get(ENABLED_VARIABLE, "1").strip().lower() not in {"0", "false", "no", "off"}


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    # Before pytest-django loads the settings: config/settings.py reads these when it builds LOGGING.
    if not _enabled():
        return
    _scan.directory = Path(tempfile.mkdtemp(prefix="moncompte-log-scan-"))
    _scan.path = _scan.directory / "moncompte.log"
    _scan.path.touch()
    os.environ["MONCOMPTE_LOG_FILE"] = str(_scan.path)
    os.environ["MONCOMPTE_LOG_FILE_LEVEL"] = "DEBUG"
    # The root logger now lets DEBUG through (to the file): pytest's own capture, shown with a
    # failure, keeps the console's level, as before (``--log-level`` or ``log_level`` to change).
    if early_config.getoption("log_level", None) is None and not early_config.getini("log_level"):
        early_config.option.log_level = os.environ.get("MONCOMPTE_LOG_LEVEL", "INFO").strip() or "INFO"


def pytest_report_header(config) -> str | None:
    if _scan.path is None:
        return None
    return f"log scan: {_scan.path} (every record of the run, scanned at the end; {ENABLED_VARIABLE}=0 to turn off)"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # trylast: after the session's fixtures (the test database) are torn down and have logged.
    if _scan.path is None:
        return
    identifiers, passwords = session_secrets()
    text = _scan.path.read_text(encoding="utf-8", errors="replace")
    _scan.findings = find_secrets(text, identifiers=identifiers, passwords=passwords)
    if _scan.findings:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _scan.path is None:
        return
    if not _scan.findings:
        shutil.rmtree(_scan.directory, ignore_errors=True)
        return
    terminalreporter.section("log scan: identifiers or secrets reached the logs", red=True)
    terminalreporter.line(f'{len(_scan.findings)} found in {_scan.path} (kept for reading; docs/security.md, "Logs"):')
    for finding in _scan.findings[:50]:
        terminalreporter.line(f"  {finding}")
    if len(_scan.findings) > 50:
        terminalreporter.line(f"  … and {len(_scan.findings) - 50} more")


__all__ = ["Finding", "find_secrets", "nir_spellings", "session_secrets"]
