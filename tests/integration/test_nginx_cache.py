"""Debian's nginx, with the documented configuration (deploy/nginx/), in front of gunicorn:
nobody is ever served another person's page from its cache.

Issue 8: an nginx told to ignore the application's headers (``proxy_ignore_headers Cache-Control
Set-Cookie Expires Vary; proxy_cache_valid 200 10m;``, a configuration seen in real incidents)
served Claire's home page to Marc and to an anonymous visitor. Here the files of deploy/nginx/
are rendered as an operator would (placeholders replaced), with one difference: the server
block's ``listen``/TLS include (moncompte-tls.conf) is replaced by a plain-HTTP ``listen`` on a
loopback port. The cache zone is on, so that storing a page is really possible.

Claire signs in and reads her home page twice, Marc does the same, an anonymous visitor reads the
same URLs: each sees only their own page, the anonymous visitor is sent to the sign-in page, and
no answer but a static file ever comes from the cache (``X-Cache-Status``). The same scenario
through the incident's configuration (derived from the documented file) shows the leak, so the
harness is known to see one; each of the two rules is also removed alone, to show what it holds.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.utils.html import escape
from requests.adapters import HTTPAdapter

from moncompte.accounts.models import AccountSession
from tests.factories import make_household
from tests.support.server import REPO_ROOT, database_url_from_settings, free_port, running_server
from tests.support.services import nginx_path, redis_url, require_or_skip, require_postgresql

DEPLOY = REPO_ROOT / "deploy" / "nginx"
REQUEST_TIMEOUT = 30
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STYLESHEET = re.compile(r'href="(/static/[^"]+\.css)"')
PLACEHOLDER = re.compile(r"@[A-Z_]+@")
# Claire's browser connects from this loopback address, nginx connects to gunicorn from 127.0.0.1:
# the address the application records shows whether it read X-Forwarded-For as nginx wrote it.
CLAIRE_ADDRESS = "127.0.0.2"
FORGED_ADDRESS = "203.0.113.66"
ANONYMOUS = "anonyme"
# X-Cache-Status of an answer that came from the application, not from the cache.
FROM_THE_APPLICATION = {"MISS", "BYPASS"}

# The two rules of docs/operations.md, as written in deploy/nginx/moncompte.conf.
COOKIE_RULE = (
    "    proxy_cache_bypass $http_cookie $http_authorization;\n    proxy_no_cache $http_cookie $http_authorization;\n"
)
CACHE_LINE = "    proxy_cache moncompte;\n"
INCIDENT_LINES = "    proxy_ignore_headers Cache-Control Set-Cookie Expires Vary;\n    proxy_cache_valid 200 10m;\n"


def _replace_once(text: str, old: str, new: str) -> str:
    count = text.count(old)
    assert count == 1, f"deploy/nginx/moncompte.conf holds {old!r} {count} times, not once: update this test"
    return text.replace(old, new)


def _documented(site: str) -> str:
    return site


def _without_the_cookie_rule(site: str) -> str:
    """Only the application's headers keep pages out of the cache."""
    return _replace_once(site, COOKIE_RULE, "")


def _ignoring_the_headers(site: str) -> str:
    """Only the cookie rule keeps pages out of the cache: the headers ignored, every 200 kept."""
    return _replace_once(site, CACHE_LINE, CACHE_LINE + INCIDENT_LINES)


def _incident(site: str) -> str:
    """The incident's configuration: the headers ignored, every 200 kept 10 minutes, no cookie rule."""
    return _ignoring_the_headers(_without_the_cookie_rule(site))


# --- nginx ------------------------------------------------------------------------------------


def render(name: str, values: dict[str, str]) -> str:
    """A file of deploy/nginx/ with its placeholders replaced, as an operator installs it."""
    text = (DEPLOY / name).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    left = sorted(set(PLACEHOLDER.findall(text)))
    assert not left, f"{name}: placeholders without a value: {left}"
    return text


def _main_config(work_dir: Path, includes: list[Path]) -> str:
    """The nginx.conf of the test (the operator's is Debian's): temporary paths, the includes."""
    temp = work_dir / "temp"
    # Started by root (CI), nginx would run its workers as `nobody`, who cannot enter pytest's
    # directories: tell them to stay the test's user. Started by anyone else, nothing changes.
    user = f"user {pwd.getpwuid(0).pw_name} {grp.getgrgid(0).gr_name};\n" if os.geteuid() == 0 else ""
    lines = "\n".join(f"    include {path};" for path in includes)
    return (
        f"{user}worker_processes 1;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"    access_log {work_dir}/access.log;\n"
        f"    client_body_temp_path {temp}/client_body;\n"
        f"    proxy_temp_path {temp}/proxy;\n"
        f"    fastcgi_temp_path {temp}/fastcgi;\n"
        f"    uwsgi_temp_path {temp}/uwsgi;\n"
        f"    scgi_temp_path {temp}/scgi;\n"
        f"{lines}\n"
        "}\n"
    )


def _nginx_command(binary: str, work_dir: Path, config: Path, *extra: str) -> list[str]:
    return [
        binary, "-p", f"{work_dir}/", "-c", str(config),
        "-g", f"pid {work_dir}/nginx.pid; error_log {work_dir}/error.log;",
        *extra,
    ]  # fmt: skip


class Nginx:
    """Debian's nginx in the foreground, on a free loopback port, in front of ``upstream``.

    ``site`` changes the rendered moncompte.conf (the variants of the incident); the listen/TLS
    include is a plain-HTTP ``listen``. A context manager: started and accepting on entry.
    """

    def __init__(self, binary: str, work_dir: Path, *, upstream: str, site: Callable[[str], str] = _documented) -> None:
        self.binary = binary
        self.work_dir = work_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.upstream = upstream
        self.site = site
        self.process: subprocess.Popen | None = None

    def _write(self) -> Path:
        work = self.work_dir
        (work / "temp").mkdir(parents=True, exist_ok=True)
        values = {
            "UPSTREAM": self.upstream,
            "CACHE_DIR": str(work / "cache"),
            "SERVER_NAME": "127.0.0.1 localhost",
            "LISTEN_CONF": str(work / "listen.conf"),
        }
        (work / "listen.conf").write_text(f"listen 127.0.0.1:{self.port};\n")
        (work / "moncompte-http.conf").write_text(render("moncompte-http.conf", values))
        (work / "moncompte.conf").write_text(self.site(render("moncompte.conf", values)))
        config = work / "nginx.conf"
        config.write_text(_main_config(work, [work / "moncompte-http.conf", work / "moncompte.conf"]))
        return config

    def __enter__(self) -> Nginx:
        config = self._write()
        with open(self.work_dir / "nginx.out", "wb") as out:
            self.process = subprocess.Popen(
                _nginx_command(self.binary, self.work_dir, config, "-g", "daemon off;"),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: master and workers stopped together
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"nginx exited with code {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return self
            time.sleep(0.05)
        self.__exit__()
        raise AssertionError(f"nginx did not listen on port {self.port} within 20 s:\n{self.log()}")

    def __exit__(self, *exc_info) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # nginx's fast shutdown
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def log(self) -> str:
        parts = []
        for name in ("nginx.out", "error.log"):
            with contextlib.suppress(OSError):
                parts.append((self.work_dir / name).read_text(errors="replace")[-4000:])
        return "\n".join(parts)


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    binary = nginx_path()
    if binary is None:
        require_or_skip("this test needs Debian's nginx (/usr/sbin/nginx, apt-get install nginx)")
    return binary


@pytest.fixture(scope="module")
def app_server(django_db_setup, tmp_path_factory) -> Iterator:
    """One production gunicorn for the module, on this run's test database (PostgreSQL) and Redis,
    trusting one proxy (nginx) for the client's address."""
    require_postgresql("the server reads the test database, which must then be PostgreSQL")
    redis = redis_url()
    if redis is None:
        require_or_skip("the server test needs a reachable Redis (REDIS_URL=redis://...)")
    with running_server(
        database_url=database_url_from_settings(connection.settings_dict),
        redis_url=redis,
        work_dir=tmp_path_factory.mktemp("nginx-app"),
        workers=2,
        threads=2,
        extra_env={"MONCOMPTE_TRUSTED_PROXY_COUNT": "1"},
    ) as server:
        yield server


# --- Browsers and what they see ---------------------------------------------------------------


@dataclass(frozen=True)
class Someone:
    name: str  # "Claire", "Marc": labels of the messages
    identifier: str
    password: str
    markers: tuple[str, ...]  # what only this person's page shows
    account_id: int


def _someone(name: str, family) -> Someone:
    person = family.responsible
    return Someone(
        name=name,
        identifier=person.identifier,
        password=person.password,
        markers=(
            f"<h1>Bonjour {escape(person.person.display_name)}</h1>",
            f"Mon dossier n° {family.dossier.numero} —",
        ),
        account_id=person.account.pk,
    )


@dataclass(frozen=True)
class Answer:
    who: str
    what: str
    status: int
    cache_status: str | None
    cache_control: str
    vary: str
    location: str
    set_cookie: str
    shows: tuple[str, ...]  # whose pages' markers the body holds
    body: str = field(repr=False)

    @property
    def path(self) -> str:
        return self.what.split()[1]


class _FromAddress(HTTPAdapter):
    """Connections from a chosen local address (any 127.x.y.z is the machine itself)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


class Browser:
    """One visitor's browser: its own cookies. ``forged``: an X-Forwarded-For of its own."""

    def __init__(self, url: str, who: str, everyone: list[Someone], *, address: str | None = None, forged=None):
        self.url = url
        self.who = who
        self.everyone = everyone
        self.session = requests.Session()
        if address:
            self.session.mount("http://", _FromAddress(address))
        if forged:
            self.session.headers["X-Forwarded-For"] = forged
        self.reads: dict[str, int] = {}

    def _answer(self, what: str, response: requests.Response) -> Answer:
        body = response.text
        return Answer(
            who=self.who,
            what=what,
            status=response.status_code,
            cache_status=response.headers.get("X-Cache-Status"),
            cache_control=response.headers.get("Cache-Control", ""),
            vary=response.headers.get("Vary", ""),
            location=response.headers.get("Location", ""),
            set_cookie=response.headers.get("Set-Cookie", ""),
            shows=tuple(s.name for s in self.everyone if any(marker in body for marker in s.markers)),
            body=body,
        )

    def get(self, path: str) -> Answer:
        self.reads[path] = self.reads.get(path, 0) + 1
        response = self.session.get(self.url + path, allow_redirects=False, timeout=REQUEST_TIMEOUT)
        return self._answer(f"GET {path} #{self.reads[path]}", response)

    def sign_in(self, someone: Someone) -> list[Answer]:
        page = self.get("/connexion/")
        token = CSRF_INPUT.search(page.body)
        if token is None:
            return [page]
        response = self.session.post(
            self.url + "/connexion/",
            data={
                "csrfmiddlewaretoken": token.group(1),
                "identifier": someone.identifier,
                "password": someone.password,
            },
            headers={"Referer": self.url + "/connexion/"},
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )
        return [page, self._answer("POST /connexion/", response)]

    def close(self) -> None:
        self.session.close()


@dataclass
class Visit:
    answers: list[Answer]  # every answer but the static files'
    static: list[Answer]  # one stylesheet, read by an anonymous visitor twice, then by Claire

    def crossings(self) -> set[tuple[str, str]]:
        """(who, whose page they were shown), for every page shown to someone else."""
        return {(a.who, whose) for a in self.answers for whose in a.shows if whose != a.who}

    def problems(self) -> list[str]:
        """Everything wrong with the personal answers: a cached one, another's page, a missing
        header, a person without their page, an anonymous visitor not sent to sign in."""
        found = []
        for a in self.answers:
            label = f"{a.who}, {a.what} (HTTP {a.status})"
            # nginx considers no cache for a POST: no X-Cache-Status at all.
            if a.cache_status not in (FROM_THE_APPLICATION if a.what.startswith("GET") else {None}):
                found.append(f"{label}: served by nginx's cache (X-Cache-Status {a.cache_status})")
            for whose in a.shows:
                if whose != a.who:
                    found.append(f"{label}: shows {whose}'s page")
            if "no-store" not in a.cache_control or "private" not in a.cache_control:
                found.append(f"{label}: Cache-Control is {a.cache_control!r}")
            if "cookie" not in a.vary.lower():
                found.append(f"{label}: Vary is {a.vary!r}")
            if a.path == "/mon-compte/" and a.who == ANONYMOUS:
                if a.status != 302 or not a.location.startswith("/connexion/"):
                    found.append(f"{label}: not sent to the sign-in page (Location {a.location!r})")
            elif a.path == "/mon-compte/" and (a.status != 200 or a.who not in a.shows):
                found.append(f"{label}: not their own page")
        return found

    def answer(self, who: str, what: str) -> Answer:
        return next(a for a in self.answers if a.who == who and a.what == what)


def _visit(url: str, claire: Someone, marc: Someone) -> Visit:
    """Anonymous, then Claire, then Marc, then anonymous again, each in a browser of their own,
    reading /mon-compte/ twice; then a stylesheet of the sign-in page."""
    everyone = [claire, marc]
    answers: list[Answer] = []
    browsers = []

    def browser(who: str, **options) -> Browser:
        browsers.append(Browser(url, who, everyone, **options))
        return browsers[-1]

    try:
        first = browser(ANONYMOUS)
        answers += [first.get("/mon-compte/") for _ in range(2)]
        claire_browser = browser(claire.name, address=CLAIRE_ADDRESS, forged=FORGED_ADDRESS)
        for someone, who in ((claire, claire_browser), (marc, browser(marc.name))):
            answers += who.sign_in(someone)
            answers += [who.get("/mon-compte/") for _ in range(2)]
        later = browser(ANONYMOUS)
        answers += [later.get("/mon-compte/") for _ in range(2)]
        answers.append(later.get("/connexion/"))

        sign_in_page = next(a for a in answers if a.what == "GET /connexion/ #1")
        stylesheet = STYLESHEET.search(sign_in_page.body)
        assert stylesheet, "the sign-in page links no stylesheet"
        static = [
            first.get(stylesheet.group(1)),
            first.get(stylesheet.group(1)),
            claire_browser.get(stylesheet.group(1)),
        ]
    finally:
        for each in browsers:
            each.close()
    return Visit(answers, static)


@pytest.fixture
def people(transactional_db) -> tuple[Someone, Someone]:
    """Claire and Marc, each the responsible person of a file of their own (names we chose, so
    that neither page can show the other's name by chance)."""
    claire = _someone("Claire", make_household(birth_name="MARTIN"))
    marc = _someone("Marc", make_household(birth_name="DUBOIS"))
    return claire, marc


def _through(nginx_binary, app_server, tmp_path, people, site) -> tuple[Visit, Nginx]:
    claire, marc = people
    with Nginx(nginx_binary, tmp_path / "nginx", upstream=f"127.0.0.1:{app_server.port}", site=site) as nginx:
        visit = _visit(nginx.url, claire, marc)
    return visit, nginx


def _static_statuses(visit: Visit) -> list[tuple[int, str | None]]:
    return [(a.status, a.cache_status) for a in visit.static]


# --- The documented configuration ---------------------------------------------------------------


@pytest.mark.server
def test_through_the_documented_nginx_each_person_sees_only_their_own_page(nginx_binary, app_server, tmp_path, people):
    visit, nginx = _through(nginx_binary, app_server, tmp_path, people, _documented)

    problems = visit.problems()
    assert not problems, "\n".join(problems) + f"\n\n{nginx.log()}"
    # The cache works: the stylesheet is stored, and served to the next visitor, cookies or not.
    assert _static_statuses(visit) == [(200, "MISS"), (200, "HIT"), (200, "HIT")], visit.static
    assert "immutable" in visit.static[0].cache_control, visit.static[0].cache_control
    # X-Forwarded-For as nginx writes it, with one trusted proxy: the address nginx saw, not the
    # one Claire's browser forged, nor nginx's own.
    claire = people[0]
    session = AccountSession.objects.get(account_id=claire.account_id)
    assert session.client_address == CLAIRE_ADDRESS


@pytest.mark.server
def test_without_the_cookie_rule_the_applications_headers_alone_keep_every_page_out_of_the_cache(
    nginx_binary, app_server, tmp_path, people
):
    visit, nginx = _through(nginx_binary, app_server, tmp_path, people, _without_the_cookie_rule)

    problems = visit.problems()
    assert not problems, "\n".join(problems) + f"\n\n{nginx.log()}"
    assert _static_statuses(visit) == [(200, "MISS"), (200, "HIT"), (200, "HIT")], visit.static


# --- What the rules hold: the incident, and the headers ignored -------------------------------


@pytest.mark.server
def test_the_incidents_configuration_serves_claires_page_to_marc_and_to_an_anonymous_visitor(
    nginx_binary, app_server, tmp_path, people
):
    """The harness sees a leak when there is one: without it, the tests above would prove nothing."""
    visit, _ = _through(nginx_binary, app_server, tmp_path, people, _incident)

    assert {("Marc", "Claire"), (ANONYMOUS, "Claire")} <= visit.crossings(), visit.problems()
    assert visit.answer("Marc", "GET /mon-compte/ #1").cache_status == "HIT"
    assert any("served by nginx's cache" in problem for problem in visit.problems())


@pytest.mark.server
def test_ignoring_the_applications_headers_hands_one_visitors_cookie_to_the_next_despite_the_cookie_rule(
    nginx_binary, app_server, tmp_path, people
):
    """The cookie rule alone keeps signed-in pages out, but not the first, cookie-less answer: the
    sign-in page, stored with Claire's CSRF cookie, is served with it to Marc and to a stranger."""
    visit, _ = _through(nginx_binary, app_server, tmp_path, people, _ignoring_the_headers)

    assert not visit.crossings(), visit.problems()
    claires = visit.answer("Claire", "GET /connexion/ #1")
    marcs = visit.answer("Marc", "GET /connexion/ #1")
    assert claires.cache_status == "MISS" and "csrftoken=" in claires.set_cookie, claires
    assert marcs.cache_status == "HIT" and marcs.set_cookie == claires.set_cookie, marcs


# --- nginx alone ----------------------------------------------------------------------------------


def test_the_documented_configuration_never_overrides_the_applications_headers():
    """No directive that makes nginx ignore, hide or override what the application says."""
    forbidden = ("proxy_ignore_headers", "proxy_cache_valid", "proxy_hide_header", "expires", "proxy_cache_lock_age")
    for path in sorted(DEPLOY.glob("*.conf")):
        directives = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
        found = [d for d in directives if d.split(" ", 1)[0] in forbidden]
        assert not found, f"{path.name}: {found}"
    site = (DEPLOY / "moncompte.conf").read_text()
    assert COOKIE_RULE in site and CACHE_LINE in site


def test_the_production_files_with_tls_pass_nginx_s_check(nginx_binary, tmp_path):
    """The production rendering (TLS, port 80 redirect) is valid for this nginx (`nginx -t`)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "moncompte.example")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    values = {
        "UPSTREAM": "127.0.0.1:8000",
        "CACHE_DIR": str(tmp_path / "cache"),
        "SERVER_NAME": "moncompte.example",
        "LISTEN_CONF": str(tmp_path / "moncompte-tls.conf"),
        "TLS_CERTIFICATE": str(tmp_path / "cert.pem"),
        "TLS_CERTIFICATE_KEY": str(tmp_path / "key.pem"),
    }
    names = ["moncompte-http.conf", "moncompte-redirect.conf", "moncompte.conf", "moncompte-tls.conf"]
    assert sorted(names) == sorted(p.name for p in DEPLOY.glob("*.conf"))
    for name in names:
        (tmp_path / name).write_text(render(name, values))
    (tmp_path / "temp").mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(_main_config(tmp_path, [tmp_path / name for name in names[:3]]))

    result = subprocess.run(
        _nginx_command(nginx_binary, tmp_path, config, "-t"), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_when_the_application_is_unreachable_nginx_answers_in_french_and_nothing_is_stored(nginx_binary, tmp_path):
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    with Nginx(nginx_binary, tmp_path / "nginx", upstream=dead) as nginx, requests.Session() as session:
        answers = [session.get(nginx.url + "/mon-compte/", timeout=REQUEST_TIMEOUT) for _ in range(2)]
        too_big = session.post(nginx.url + "/connexion/", data=b"x" * (12 * 1024 * 1024), timeout=REQUEST_TIMEOUT)

    for answer in answers:
        assert answer.status_code == 503, (answer.status_code, nginx.log())
        assert "Service momentanément indisponible" in answer.text
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Retry-After"] == "30"
        assert answer.headers["X-Cache-Status"] == "MISS"
    assert too_big.status_code == 413
    assert "Envoi trop volumineux" in too_big.text
