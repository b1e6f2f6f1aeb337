"""The client address of a web request (moncompte.web.actors.client_address): X-Forwarded-For read
leniently behind trusted proxies, always a normalised IP address or the one placeholder, never a 500.

The choice of the entry (the one MONCOMPTE_TRUSTED_PROXY_COUNT from the end) is tested in
tests/web/test_pages.py::test_client_address_behind_trusted_proxies; here, how an entry is read.
"""

import http.client
import ipaddress
import logging
import re
import shutil
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client, RequestFactory
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from moncompte.accounts.models import AccountSession
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.web.actors import NO_ADDRESS, actor_of, client_address
from tests.conftest import sign_in
from tests.web.test_pages import unknown_identifiers

# Hypothesis keeps its caches out of the repository (its default is ./.hypothesis/).
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "moncompte-hypothesis")

CONNECTION = "192.0.2.10"


def _address(forwarded=None, *, remote=CONNECTION) -> str:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **extra))


@pytest.fixture
def one_proxy(settings):
    settings.MONCOMPTE_TRUSTED_PROXY_COUNT = 1


# What is accepted, and how it is written -------------------------------------------------------


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("203.0.113.5", "203.0.113.5"),
        # A port, as some proxies and load balancers append it.
        ("203.0.113.5:5678", "203.0.113.5"),
        ("203.0.113.5:0", "203.0.113.5"),
        # IPv6: bare, in brackets, in brackets with a port; one spelling whatever the input's.
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:DB8::0001]:443", "2001:db8::1"),
        # A zone id names an interface of the proxy, not the client: dropped.
        ("fe80::1%eth0", "fe80::1"),
        ("[fe80::1%eth0]:8080", "fe80::1"),
        # An IPv4 client seen through a dual-stack socket is the IPv4 client.
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("[::ffff:203.0.113.5]:1234", "203.0.113.5"),
        ("::1", "::1"),
        # Brackets around an IPv4 address are wrong, but unambiguous.
        ("[203.0.113.5]:443", "203.0.113.5"),
    ],
)
def test_a_forwarded_address_is_read_leniently_and_normalised(one_proxy, entry, expected):
    assert _address(entry) == expected
    request = RequestFactory().get("/", REMOTE_ADDR=CONNECTION, HTTP_X_FORWARDED_FOR=entry)
    assert actor_of(request).client_address == expected
    # The proxy's entry is the last one; what the client wrote before it changes nothing.
    assert _address(f"6.6.6.6, {entry}") == expected
    assert _address(f"[2001:db8::6]:1, garbage, {entry}") == expected


@pytest.mark.parametrize(
    "entry",
    [
        "garbage",
        "unknown",  # what some proxies write when they do not know
        "203.0.113.5:",
        "203.0.113.5:port",
        "203.0.113.5:123456",
        "203.0.113",
        "203.0.113.5.6",
        "203.000.113.5",  # leading zeros: octal or decimal? Refused by ipaddress, refused here
        "[2001:db8::1",
        "2001:db8::1]",
        "[2001:db8::1]443",
        "[[2001:db8::1]]",
        "2001:db8::g",
        "fe80::1%",
        "١٢٣.٠.١١٣.٥",  # Arabic-Indic digits
        "２０３.０.１１３.５",  # fullwidth digits
        "203.0.113.5\x00",
        "1" * 5000,
        "for=203.0.113.5",  # the Forwarded header's syntax, not X-Forwarded-For's
    ],
)
def test_an_entry_that_is_no_address_is_ignored_with_a_warning(one_proxy, caplog, entry):
    with caplog.at_level(logging.WARNING, logger="moncompte.web.actors"):
        assert _address(f"6.6.6.6, {entry}") == CONNECTION
    warnings = [r for r in caplog.records if r.name == "moncompte.web.actors"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "X-Forwarded-For" in warnings[0].getMessage()


def test_the_warning_does_not_copy_the_header(one_proxy, caplog):
    """Anything may be in a forwarded header, even a secret or a line break for a forged log line:
    the warning gives the entry's length and shape (digits 9, letters a), never its characters."""
    secret = "token-Zx81QpL0secret\n2026-01-01 INFO forged line"
    with caplog.at_level(logging.WARNING, logger="moncompte.web.actors"):
        assert _address(f"203.0.113.5, {secret}") == CONNECTION
    (record,) = [r for r in caplog.records if r.name == "moncompte.web.actors"]
    message = record.getMessage()
    assert str(len(secret)) in message
    for fragment in ("token", "Zx81", "secret", "forged", "\n", "2026"):
        assert fragment not in message
    # An address with a port the proxy should not have added shows as such: enough to diagnose.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="moncompte.web.actors"):
        _address("203.0.113.5:80:80")
    assert "999.9.999.9:99:99" in caplog.records[-1].getMessage()


def test_nothing_is_logged_for_a_readable_entry(one_proxy, caplog):
    with caplog.at_level(logging.DEBUG, logger="moncompte.web.actors"):
        _address("[2001:db8::1]:443")
    assert not [r for r in caplog.records if r.name == "moncompte.web.actors"]


# The connection's own address ------------------------------------------------------------------


@pytest.mark.parametrize("proxies", [0, 1])
@pytest.mark.parametrize(
    "remote, expected",
    [
        # gunicorn bound on a unix socket gives REMOTE_ADDR "" (and some servers a path).
        ("", NO_ADDRESS),
        ("/run/gunicorn/moncompte.sock", NO_ADDRESS),
        ("unix:/run/gunicorn.sock", NO_ADDRESS),
        ("127.0.0.1", "127.0.0.1"),
        ("::FFFF:127.0.0.1", "127.0.0.1"),
        ("2001:DB8::1", "2001:db8::1"),
    ],
)
def test_the_connections_address_is_normalised_too(settings, proxies, remote, expected):
    settings.MONCOMPTE_TRUSTED_PROXY_COUNT = proxies
    # No header (or a shorter one than the chain of proxies): the connection's address.
    assert _address(None, remote=remote) == expected


def test_without_remote_addr_at_all(settings):
    settings.MONCOMPTE_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_address(request) == NO_ADDRESS
    request.META["HTTP_X_FORWARDED_FOR"] = "nonsense"
    assert client_address(request) == NO_ADDRESS


def test_behind_a_unix_socket_the_forwarded_address_is_the_clients(one_proxy):
    assert _address("203.0.113.5:5678", remote="") == "203.0.113.5"


# Whatever the header: an address the journal and the throttles can take ------------------------

_header_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="0123456789abcdefABCDEF.:[]%, \t", max_size=60),
    st.builds(lambda ip, port: f"{ip}:{port}", st.ip_addresses(v=4).map(str), st.integers(0, 99999)),
    st.builds(lambda ip, port: f"[{ip}]:{port}", st.ip_addresses(v=6).map(str), st.integers(0, 99999)),
    st.ip_addresses().map(str),
)


@hypothesis_settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(forwarded=st.lists(_header_text, max_size=4).map(", ".join), remote=st.one_of(st.just(CONNECTION), _header_text))
@pytest.mark.parametrize("proxies", [1, 2])
def test_the_address_is_always_a_normalised_ip_or_the_placeholder(settings, proxies, forwarded, remote):
    settings.MONCOMPTE_TRUSTED_PROXY_COUNT = proxies
    address = _address(forwarded, remote=remote)
    if address != NO_ADDRESS:
        parsed = ipaddress.ip_address(address)
        assert str(parsed) == address
        assert not (isinstance(parsed, ipaddress.IPv6Address) and (parsed.scope_id or parsed.ipv4_mapped))


# Through the pages -----------------------------------------------------------------------------


FORWARDED_FORMS = [
    ("203.0.113.5:5678", "203.0.113.5"),
    ("[2001:db8::1]", "2001:db8::1"),
    ("[2001:db8::1]:443", "2001:db8::1"),
    ("fe80::1%eth0", "fe80::1"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("forwarded, expected", FORWARDED_FORMS)
def test_sign_in_through_a_proxy_that_writes_ports_or_brackets(family, one_proxy, forwarded, expected):
    """The reported 500 (every sign-in behind such a proxy, on PostgreSQL): the journal, the
    session record and the throttles get the normalised address."""
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"6.6.6.6, {forwarded}")
    response = sign_in(client, *family.responsible.credentials)
    assert response.status_code == 302
    entry = JournalEntry.objects.filter(action=JournalAction.SIGNIN_SUCCESS).get()
    assert entry.client_address == expected
    assert AccountSession.objects.get(account=family.responsible.account).client_address == expected


@pytest.mark.django_db
def test_sign_in_through_a_proxy_that_writes_garbage(family, one_proxy, caplog):
    client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5, n'importe quoi")
    with caplog.at_level(logging.WARNING, logger="moncompte.web.actors"):
        assert sign_in(client, *family.responsible.credentials).status_code == 302
    assert JournalEntry.objects.filter(action=JournalAction.SIGNIN_SUCCESS).get().client_address == "10.0.0.2"
    assert [r for r in caplog.records if r.name == "moncompte.web.actors"]


@pytest.mark.django_db
def test_sign_in_on_a_unix_socket_without_proxy(family, settings):
    settings.MONCOMPTE_TRUSTED_PROXY_COUNT = 0
    client = Client(REMOTE_ADDR="")
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    assert JournalEntry.objects.filter(action=JournalAction.SIGNIN_SUCCESS).get().client_address is None


@pytest.mark.django_db
def test_one_client_is_one_throttling_key_whatever_the_spelling(family, one_proxy, settings):
    """A client cannot get fresh per-address counters by varying the port or the spelling that
    reaches the proxy (IPv4-mapped, upper case, zeros): all of them count for one address."""
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 3
    spellings = ["203.0.113.9:1111", "203.0.113.9:2222", "[::ffff:203.0.113.9]:3333", "::FFFF:203.0.113.9"]
    for raw, spelling in zip(unknown_identifiers(4), spellings, strict=True):
        sign_in(Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=spelling), raw, "Mauvais2021mot")
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert sign_in(attacker, *family.responsible.credentials).status_code == 429
    # Another client behind the same proxy is not concerned.
    neighbour = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="[2001:db8::7]:443")
    assert sign_in(neighbour, *family.responsible.credentials).status_code == 302


# A real gunicorn bound on a unix socket ------------------------------------------------------


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket, as a reverse proxy on the same machine talks to gunicorn."""

    def __init__(self, path: str):
        super().__init__("localhost", timeout=60)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def _over_unix_socket(path: str, method: str, url: str, *, body: str = "", headers: dict | None = None):
    connection = _UnixConnection(path)
    try:
        connection.request(method, url, body=body or None, headers={"Host": "localhost", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        connection.close()


def _sign_in_over(path: str, credentials: tuple[str, str], forwarded: str | None = None) -> int:
    extra = {"X-Forwarded-For": forwarded} if forwarded else {}
    status, headers, page = _over_unix_socket(path, "GET", "/connexion/", headers=extra)
    assert status == 200, page[-2000:]
    cookies = "; ".join(
        value.split(";", 1)[0] for name, value in headers if name.lower() == "set-cookie" and "=" in value
    )
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urlencode({"identifier": credentials[0], "password": credentials[1], "csrfmiddlewaretoken": token})
    status, _, page = _over_unix_socket(
        path,
        "POST",
        "/connexion/",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies, **extra},
    )
    assert status != 500, page[-2000:]
    return status


@pytest.mark.server
def test_sign_in_through_gunicorn_on_a_unix_socket(transactional_db, tmp_path):
    """gunicorn bound on a unix socket gives REMOTE_ADDR "": the sign-in works all the same, on
    PostgreSQL (whose inet column refused anything but an address) and Redis; behind one proxy,
    its entry is the client's address, port and brackets removed."""
    from django.conf import settings
    from django.db import connection

    from tests.factories import make_household
    from tests.support.server import (
        GunicornServer,
        collect_static,
        database_url_from_settings,
        process_secrets,
        production_environment,
    )
    from tests.support.services import redis_url, require_or_skip, require_postgresql

    require_postgresql("gunicorn on a unix socket, journaling on PostgreSQL")
    redis = redis_url()
    if redis is None:
        require_or_skip("gunicorn on a unix socket needs a reachable Redis (REDIS_URL=redis://...)")
    family = make_household()
    env = production_environment(
        database_url=database_url_from_settings(connection.settings_dict),
        redis_url=redis,
        work_dir=tmp_path,
        secrets=process_secrets(),
        settings_module=settings.SETTINGS_MODULE,
        extra={
            "MONCOMPTE_TRUSTED_PROXY_COUNT": "1",
            "MONCOMPTE_ARGON2_MEMORY_KIB": str(settings.MONCOMPTE_ARGON2_MEMORY_KIB),
            "MONCOMPTE_ARGON2_TIME_COST": str(settings.MONCOMPTE_ARGON2_TIME_COST),
            "MONCOMPTE_ARGON2_PARALLELISM": str(settings.MONCOMPTE_ARGON2_PARALLELISM),
        },
    )
    collect_static(env)
    # A short path: a unix socket's path is limited to about 100 bytes.
    socket_dir = Path(tempfile.mkdtemp(prefix="mc-"))
    socket_path = str(socket_dir / "g.sock")
    server = GunicornServer(
        env, work_dir=tmp_path, workers=1, threads=2, name="unix", gunicorn_args=["--bind", f"unix:{socket_path}"]
    )
    cases = [
        # No header (the proxy's count is not met): the socket's empty REMOTE_ADDR is no address.
        (None, None),
        ("6.6.6.6, 203.0.113.5:5678", "203.0.113.5"),
        ("[2001:db8::1]:443", "2001:db8::1"),
    ]
    try:
        with server:
            for forwarded, _ in cases:
                assert _sign_in_over(socket_path, family.responsible.credentials, forwarded) == 302, server.log_tail()
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)
    entries = JournalEntry.objects.filter(action=JournalAction.SIGNIN_SUCCESS).order_by("pk")
    assert [entry.client_address for entry in entries] == [recorded for _, recorded in cases]
