"""The logs of a real deployment hold no NIR, password, code or token (docs/security.md, "Logs").

A production server (gunicorn with config/gunicorn.conf.py, several workers, on a SQLite file of
its own and a Redis of its own, messages sent by a real ``db_worker`` to a real SMTP server)
writes its access log, its error log and the application's log to files. The test drives the
flows that carry secrets: sign-in with the NIR and the password (right and wrong, several
spellings), first connection with the old code, an invitation sent then accepted with its code,
a password reset with the emailed code, contact validations, and crafted requests carrying a
NIR, a password, a code or a token in the query string or the path, and a malformed request line
(gunicorn's error log). Then every file (the three logs, the processes' own output, the worker's)
is searched for every secret used, in every spelling: none may appear, while the requests did
get logged (a test that passes on empty logs proves nothing).

``test_without_redaction_the_same_run_leaks`` runs the same against a server whose redaction is
switched off (a gunicorn configuration that replaces ``moncompte.logging.redact``): the search
must then find the secrets, so the first test's silence means something.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.notifications.conftest import smtp_server  # noqa: F401 - a fixture
from tests.support.log_scan import find_secrets
from tests.support.redis_server import LocalRedis, redis_server_path
from tests.support.server import GUNICORN_CONFIG, REPO_ROOT, GunicornServer, collect_static, production_environment
from tests.support.services import redis_url, require_or_skip
from tests.web.date_parts import date_parts

pytestmark = [pytest.mark.server]

SQLITE_OPTIONS = "timeout=20&transaction_mode=IMMEDIATE&init_command=PRAGMA%20journal_mode%3DWAL%3B"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SIX_DIGITS = re.compile(r"\b(\d{6})\b")
INVITATION_CODE = re.compile(r"code d'invitation, saisissez :\s+(\S+)")

# Passwords chosen along the flows (long enough for the policy, none of the factories').
FIRST_CONNECTION_PASSWORD = "Sept lucioles sur 9 nénuphars"
INVITATION_PASSWORD = "Quatre saisons 2024 au jardin"
RESET_PASSWORD = "Marronniers et 41 pivoines"
WRONG_PASSWORD = "PasLeBon2024motdepasse"
QUERY_PASSWORD = "EnClairDansLURL2024"


# --- A Redis of its own -------------------------------------------------------------------------


@pytest.fixture
def redis_for_server(tmp_path):
    """A redis-server of this test (nothing shared, nothing kept), else REDIS_URL's."""
    if redis_server_path() is None:
        url = redis_url()
        if url is None:
            require_or_skip("this test needs redis-server or a reachable Redis (REDIS_URL=redis://...)")
        yield url
        return
    with LocalRedis(work_dir=tmp_path / "redis") as redis:
        yield redis.url


# --- The deployment ------------------------------------------------------------------------------


# Imported by gunicorn in place of config/gunicorn.conf.py for the counter-test: the project's
# configuration, the redaction replaced by nothing in the master (the workers are its forks).
UNREDACTED_CONFIG = """
import runpy
import moncompte.logging

moncompte.logging.redact = lambda text: text
globals().update(runpy.run_path({config!r}))
"""


@dataclass
class Deployment:
    server: GunicornServer
    env: dict
    work: Path
    people: dict
    worker: subprocess.Popen | None = None
    secrets: dict[str, set[str]] = field(default_factory=lambda: {"password": set(), "code": set(), "token": set()})

    @property
    def url(self) -> str:
        return self.server.url

    def log_files(self) -> dict[str, Path]:
        return {path.name: path for path in sorted(self.work.glob("*.log"))}


def _manage(env: dict, *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return done.stdout


SEED = """
import datetime, json
from tests.factories import MemberFactory, PersonFactory, make_household
from tests.factories.identity import _used_values

family = make_household()
pierre = PersonFactory(age=18, sex="M")
MemberFactory(dossier=family.dossier, person=pierre, other=True)
# The same Caf: two random Cafs may share a département, and the page finds a Caf by its département.
newcomer = make_household(caf=family.dossier.caf, accounts=False, legacy_code={legacy_code!r})
spouse = family.spouse
print(json.dumps({{
    "spouse_email": spouse.account.contacts.get().value,
    "responsible": {{"identifier": family.responsible.identifier, "password": family.responsible.password}},
    "spouse": {{"identifier": spouse.identifier, "password": spouse.password}},
    "pierre": {{"identifier": pierre.raw_identifier, "birth_date": pierre.birth_date.strftime("%d/%m/%Y")}},
    "newcomer": {{
        "place": newcomer.caf.departement,
        "numero": newcomer.dossier.numero,
        "code": {legacy_code!r},
        "identifier": newcomer.responsible.identifier,
    }},
    "identifiers": sorted(_used_values),
}}))
"""


def _deploy(work: Path, redis: str, smtp_port: int, *, redacted: bool) -> Deployment:
    work.mkdir(parents=True, exist_ok=True)
    env = production_environment(
        # As the laptop's SQLite (config/settings.py): IMMEDIATE write transactions, a wait on locks.
        database_url=f"sqlite:///{work / 'db.sqlite3'}?{SQLITE_OPTIONS}",
        redis_url=redis,
        work_dir=work,
        extra={
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "MONCOMPTE_LOG_LEVEL": "INFO",
            "MONCOMPTE_LOG_FILE": str(work / "app.log"),
            "MONCOMPTE_LOG_FILE_LEVEL": "DEBUG",
            "MONCOMPTE_ACCESS_LOG_FILE": str(work / "access.log"),
            "MONCOMPTE_ERROR_LOG_FILE": str(work / "error.log"),
            "MONCOMPTE_PASSWORD_RESET_MIN_SECONDS": "0",
        },
    )
    _manage(env, "migrate", "--noinput", "--verbosity", "0")
    collect_static(env)
    legacy_code = f"{secrets.randbelow(10**8):08d}"
    people = json.loads(_manage(env, "shell", "-c", SEED.format(legacy_code=legacy_code)).strip().splitlines()[-1])
    args: list[str] = []
    if not redacted:
        unredacted = work / "unredacted.conf.py"
        unredacted.write_text(UNREDACTED_CONFIG.format(config=str(GUNICORN_CONFIG)))
        args = ["--config", str(unredacted)]
    server = GunicornServer(
        env, work_dir=work, workers=2, threads=2, gunicorn_args=args, name="logs", log_level="debug"
    )
    server.env["MONCOMPTE_PUBLIC_URL"] = server.url  # the invitation's link
    deployment = Deployment(server=server, env=server.env, work=work, people=people)
    deployment.secrets["password"] |= {people["responsible"]["password"], people["spouse"]["password"]}
    deployment.secrets["code"].add(legacy_code)
    return deployment


@contextlib.contextmanager
def running(deployment: Deployment):
    worker_env = {**deployment.env, "MONCOMPTE_LOG_FILE": str(deployment.work / "worker-app.log")}
    with open(deployment.work / "worker-output.log", "wb") as output:
        deployment.worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2"],
            cwd=REPO_ROOT,
            env=worker_env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        with deployment.server:
            yield deployment
    finally:
        deployment.worker.terminate()
        try:
            deployment.worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            deployment.worker.kill()
            deployment.worker.wait(timeout=15)


# --- A browser that speaks HTTP ------------------------------------------------------------------


class Browser:
    def __init__(self, deployment: Deployment):
        self.deployment = deployment
        self.session = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.deployment.url + path, allow_redirects=False, timeout=60, **kwargs)

    def post(self, path: str, data: dict, *, page: str | None = None, query: str = "") -> requests.Response:
        """POST ``data`` to ``path`` with the CSRF token of the page (``page``, default ``path``)."""
        form = self.session.get(self.deployment.url + (page or path), timeout=60)
        token = CSRF_INPUT.search(form.text)
        assert token, f"no form on {page or path} ({form.status_code})"
        self.deployment.secrets["token"].add(token.group(1))
        answer = self.session.post(
            self.deployment.url + path + query,
            data={"csrfmiddlewaretoken": token.group(1), **data},
            allow_redirects=False,
            timeout=60,
        )
        self.deployment.secrets["token"] |= {value for value in self.session.cookies.values() if len(value) >= 16}
        return answer


def _refusal(answer: requests.Response) -> str:
    """What a page said was wrong (its alert and field errors), for an assertion's message."""
    found = re.findall(r'class="fr-(?:alert__title|error-text)"[^>]*>([^<]+)<', answer.text)
    return f"{answer.status_code}: {' | '.join(found) or answer.text[:300]}"


def _mail(collector, before: int, to: str, timeout: float = 60.0):
    from email import message_from_bytes, policy

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for envelope in collector.envelopes[before:]:
            if to in envelope.rcpt_tos:
                message = message_from_bytes(envelope.content, policy=policy.default)
                return message.get_body(preferencelist=("plain",)).get_content()
        time.sleep(0.2)
    raise AssertionError(f"no email to {to} within {timeout:.0f} s")


def _validate_contact(browser: Browser, collector, address: str) -> None:
    """The contact step every new account goes through: an emailed 6-digit code typed back."""
    before = len(collector.envelopes)
    answer = browser.post(
        "/mon-compte/coordonnees/valider/", {"action": "envoyer", "channel": "email", "email": address}
    )
    assert answer.status_code == 302, answer.status_code
    code = SIX_DIGITS.search(_mail(collector, before, address)).group(1)
    browser.deployment.secrets["code"].add(code)
    answer = browser.post("/mon-compte/coordonnees/valider/", {"action": "valider", "code": code})
    # The account is usable now: the first-connection screens come first, once.
    assert answer.status_code == 302 and answer.headers["Location"] == "/mon-compte/bienvenue/", answer.status_code


def _drive(deployment: Deployment, collector) -> None:
    """Every flow that carries a NIR, a password, a code or a token; the secrets are recorded."""
    people, secrets_used = deployment.people, deployment.secrets
    secrets_used["password"] |= {WRONG_PASSWORD, QUERY_PASSWORD}

    # Sign-in: wrong password (two spellings of the NIR), then right.
    responsible = people["responsible"]
    compact = responsible["identifier"].replace(" ", "")
    for identifier in (responsible["identifier"], compact):
        answer = Browser(deployment).post("/connexion/", {"identifier": identifier, "password": WRONG_PASSWORD})
        assert answer.status_code == 401, answer.status_code
    claire = Browser(deployment)
    answer = claire.post("/connexion/", {"identifier": responsible["identifier"], "password": responsible["password"]})
    assert answer.status_code == 302, answer.status_code

    # First connection with the old code (a wrong one first), then the contact step.
    newcomer = people["newcomer"]
    julien = Browser(deployment)
    wrong_code = f"{(int(newcomer['code']) + 1) % 10**8:08d}"
    secrets_used["code"].add(wrong_code)
    data = {"place": newcomer["place"], "numero": newcomer["numero"], "code": wrong_code}
    assert julien.post("/premiere-connexion/dossier/", data).status_code in (400, 200)
    data["code"] = newcomer["code"]
    answer = julien.post("/premiere-connexion/dossier/", data)
    assert answer.status_code == 302, _refusal(answer)
    answer = julien.post("/premiere-connexion/numero-securite-sociale/", {"identifier": newcomer["identifier"]})
    assert answer.status_code == 302, answer.status_code
    passwords = {"password": FIRST_CONNECTION_PASSWORD, "password_confirm": FIRST_CONNECTION_PASSWORD}
    assert julien.post("/premiere-connexion/mot-de-passe/", passwords).status_code == 302
    secrets_used["password"].add(FIRST_CONNECTION_PASSWORD)
    _validate_contact(julien, collector, "julien.logs@example.fr")

    # An invitation: sent by the responsible person, accepted with its code by Pierre.
    page = claire.get("/mon-compte/foyer/inviter/").text
    member = re.search(r'name="membre" value="(\d+)"', page).group(1)
    before = len(collector.envelopes)
    answer = claire.post(
        "/mon-compte/foyer/inviter/",
        {
            "action": "inviter",
            "membre": member,
            f"membre-{member}-channel": "email",
            f"membre-{member}-email": "pierre.logs@example.fr",
        },
    )
    assert answer.status_code == 302, answer.status_code
    body = _mail(collector, before, "pierre.logs@example.fr")
    code = INVITATION_CODE.search(body).group(1)
    assert f"/invitation/#{code}" in body
    secrets_used["code"].add(code)
    pierre_data = people["pierre"]
    pierre = Browser(deployment)
    wrong = {"code": code, "identifier": pierre_data["identifier"], **date_parts("01/01/2001")}
    assert pierre.post("/invitation/", wrong).status_code == 400
    right = {
        "code": code.lower().replace("-", " "),
        "identifier": pierre_data["identifier"],
        **date_parts(pierre_data["birth_date"]),
    }
    answer = pierre.post("/invitation/", right)
    assert answer.status_code == 302 and answer.headers["Location"] == "/invitation/mot-de-passe/", answer.status_code
    passwords = {"password": INVITATION_PASSWORD, "password_confirm": INVITATION_PASSWORD}
    assert pierre.post("/invitation/mot-de-passe/", passwords).status_code == 302
    secrets_used["password"].add(INVITATION_PASSWORD)
    _validate_contact(pierre, collector, "pierre.perso@example.fr")

    # A password reset with the emailed code.
    spouse = people["spouse"]
    marc = Browser(deployment)
    before = len(collector.envelopes)
    assert marc.post("/mot-de-passe-oublie/", {"identifier": spouse["identifier"]}).status_code == 302
    reset_code = SIX_DIGITS.search(_mail(collector, before, people["spouse_email"])).group(1)
    secrets_used["code"].add(reset_code)
    assert marc.post("/mot-de-passe-oublie/code/", {"code": reset_code}).status_code == 302
    passwords = {"password": RESET_PASSWORD, "password_confirm": RESET_PASSWORD}
    assert marc.post("/mot-de-passe-oublie/nouveau/", passwords).status_code == 302
    secrets_used["password"].add(RESET_PASSWORD)

    # Crafted requests: secrets in query strings and in paths.
    old_token = secrets.token_urlsafe(32)
    secrets_used["token"].add(old_token)
    nir = responsible["identifier"]
    visitor = Browser(deployment)
    visitor.get("/connexion/", params={"identifier": nir, "password": QUERY_PASSWORD})
    visitor.get("/mon-compte/", params={"nir": compact, "token": old_token, "code": code})
    visitor.post("/connexion/", {"identifier": nir, "password": WRONG_PASSWORD}, query=f"?password={QUERY_PASSWORD}")
    for path in (
        f"/{compact}/",
        f"/dossier/{nir.replace(' ', '.')}/",
        f"/invitation/{old_token}/",
        f"/invitation/{code}/",
    ):
        visitor.get(path)
    assert visitor.get(f"/invitation/{old_token}/").status_code == 410
    # A request line gunicorn cannot parse (a space in the URI): its error log quotes the rest.
    with socket.create_connection(("127.0.0.1", deployment.server.port), timeout=30) as raw:
        line = f"GET /connexion/ ?nir={compact}&password={QUERY_PASSWORD}&jeton={old_token} HTTP/1.1"
        raw.sendall(f"{line}\r\nHost: 127.0.0.1\r\n\r\n".encode())
        raw.recv(4096)


def _findings(deployment: Deployment) -> dict[str, list]:
    found = {}
    for name, path in deployment.log_files().items():
        text = path.read_text(encoding="utf-8", errors="replace")
        findings = find_secrets(
            text,
            identifiers=deployment.people["identifiers"],
            passwords=deployment.secrets["password"],
            codes=deployment.secrets["code"],
            tokens=deployment.secrets["token"],
        )
        if findings:
            found[name] = findings
    return found


def _text(deployment: Deployment, name: str) -> str:
    return (deployment.work / name).read_text(encoding="utf-8", errors="replace")


def test_no_identifier_password_code_or_token_in_any_log(tmp_path, redis_for_server, smtp_server, settings):  # noqa: F811
    deployment = _deploy(tmp_path / "server", redis_for_server, settings.EMAIL_PORT, redacted=True)
    with running(deployment):
        _drive(deployment, smtp_server)
    time.sleep(0.5)  # the last lines of the worker
    assert _findings(deployment) == {}

    # The requests were logged: the access log has them, the application's log its warnings,
    # the error log gunicorn's messages and the unparsable request line, masked.
    access = _text(deployment, "access.log")
    for line in (
        r'"POST /connexion/ HTTP/1\.1" 401',
        r'"POST /connexion/ HTTP/1\.1" 302',
        r'"POST /premiere-connexion/dossier/ HTTP/1\.1" 302',
        r'"POST /invitation/ HTTP/1\.1" 302',
        r'"POST /mot-de-passe-oublie/code/ HTTP/1\.1" 302',
        r'"GET /connexion/ HTTP/1\.1" 200',  # the query string left out
        r'"GET /\[NIR masqué\]/ HTTP/1\.1" 404',
        r'"GET /invitation/\[masqué\]/ HTTP/1\.1" 410',
    ):
        assert re.search(line, access), line
    assert "?" not in access
    app = _text(deployment, "app.log")
    assert "Unauthorized: /connexion/" in app and "Gone: /invitation/[masqué]/" in app
    assert "Not Found: /[NIR masqué]/" in app
    assert "DEBUG" in app  # the file's level: everything the application said
    error = _text(deployment, "error.log")
    assert "Booting worker" in error and "Invalid request from ip=127.0.0.1" in error
    assert "[NIR masqué]" in error and "password=[masqué]" in error
    assert _text(deployment, "worker-app.log")  # the worker sent the messages and said so


def test_without_redaction_the_same_run_leaks(tmp_path, redis_for_server, smtp_server, settings):  # noqa: F811
    deployment = _deploy(tmp_path / "server", redis_for_server, settings.EMAIL_PORT, redacted=False)
    with running(deployment):
        _drive(deployment, smtp_server)
    found = _findings(deployment)
    kinds = {finding.kind for findings in found.values() for finding in findings}
    assert {"access.log", "app.log", "error.log"} <= set(found), sorted(found)
    expected = {
        "NIR d'une personne de ce test",
        "NIR (clé valide)",
        "mot de passe",
        "code",
        "code d'invitation",
        "jeton",
    }
    assert expected <= kinds, kinds
    # The redaction was really off, not the server broken: the same requests were served.
    assert re.search(r'"POST /invitation/ HTTP/1\.1" 302', _text(deployment, "access.log"))
