"""Fifty people signed in at once on a real multi-process server never see each other's file.

The October 2021 incident showed people other people's files. This test runs the production
configuration (gunicorn with several workers and threads, PostgreSQL, Redis-backed sessions and
cache) and has fifty people read their home page twenty times each, all at the same moment.
Every single answer must carry its requester's own name and file number and nobody else's.
"""

import datetime
import re
import threading
import time
from dataclasses import dataclass

import pytest
import requests
from django.db import connection
from stdnum.fr import nir

from moncompte.accounts.onboarding import onboarding_record_seen
from moncompte.accounts.services import account_create, contact_add_verified
from moncompte.core.actors import Actor, ContactChannel
from moncompte.households.models import Benefit, Caf, Dossier, Member, Payment, Role
from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.services import person_create
from tests.support.server import database_url_from_settings, running_server
from tests.support.services import redis_url, require_or_skip, require_postgresql

pytestmark = [pytest.mark.server]

PEOPLE = 50
HOME_REQUESTS_EACH = 20
BARRIER_TIMEOUT = 180
REQUEST_TIMEOUT = 120
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Someone:
    index: int
    identifier: str  # as typed on the sign-in page
    password: str
    first_name: str
    last_name: str
    numero: str
    benefit_label: str
    email: str

    @property
    def tokens(self) -> tuple[str, ...]:
        """What identifies this person's data on a page: none may show on someone else's."""
        return (self.first_name, self.last_name, self.numero, self.benefit_label, self.email)


def _code(index: int) -> str:
    """Two letters, all distinct and of one length, so no name contains another one."""
    return chr(ord("a") + index // 26) + chr(ord("a") + index % 26)


def _someone(index: int) -> Someone:
    code = _code(index)
    sex_digit = 1 + index % 2
    year, month = 60 + index % 40, 1 + index % 12
    value13 = f"{sex_digit}{year:02d}{month:02d}75{101 + index:03d}{201 + index:03d}"
    key = nir.calc_check_digits(value13)
    spaced = " ".join([value13[0], value13[1:3], value13[3:5], value13[5:7], value13[7:10], value13[10:13], key])
    return Someone(
        index=index,
        identifier=spaced,
        password=f"Concurrent{index:02d}mot{code}",
        first_name=f"Prenom{code}",
        last_name=f"FAMILLE{code.upper()}",
        numero=f"{9100000 + index:07d}",
        benefit_label=f"Prestation PRST{code.upper()}",
        email=f"usager.{code}@example.fr",
    )


def _create(people: list[Someone]) -> None:
    caf, _ = Caf.objects.get_or_create(code="751", defaults={"name": "Caf de Paris", "departement": "75"})
    today = datetime.date.today()
    for someone in people:
        year, month = 1900 + int(someone.identifier[2:4]), int(someone.identifier[5:7])
        person = person_create(
            identifier=parse_identifier(someone.identifier),
            first_names=someone.first_name,
            birth_name=someone.last_name,
            birth_date=datetime.date(year, month, 1),
            sex="M" if someone.identifier.startswith("1") else "F",
        )
        account = account_create(actor=Actor.system(), person=person, password=someone.password)
        # An account is usable once a contact is validated (PRODUCT.md section 1).
        contact_add_verified(account=account, kind=ContactChannel.EMAIL, value=someone.email)
        onboarding_record_seen(account=account)  # signed in before: the sign-in goes to the home page
        dossier = Dossier.objects.create(
            caf=caf,
            numero=someone.numero,
            address_line1=f"{someone.index + 1} rue du Test",
            postal_code="75020",
            city="Paris",
        )
        Member.objects.create(
            dossier=dossier, person=person, role=Role.RESPONSABLE, joined_on=datetime.date(2015, 1, 1)
        )
        benefit = Benefit.objects.create(
            dossier=dossier,
            code="AF",
            label=someone.benefit_label,
            monthly_amount_cents=10000 + someone.index,
            started_on=datetime.date(2020, 1, 1),
        )
        Payment.objects.bulk_create(
            Payment(
                dossier=dossier,
                benefit=benefit,
                paid_on=today - datetime.timedelta(days=30 * months),
                amount_cents=10000 + someone.index,
            )
            for months in range(1, 4)
        )


class Client:
    """One person's browser: its own cookies, its own connection pool."""

    def __init__(self, base_url: str, someone: Someone, everyone: list[Someone]):
        self.base_url = base_url
        self.someone = someone
        self.others = re.compile(
            "(?=(" + "|".join(re.escape(t) for other in everyone if other != someone for t in other.tokens) + "))"
        )
        self.failures: list[str] = []
        self.checked = 0
        self.gave_up = False  # stopped because another thread failed

    def _headers_ok(self, response: requests.Response, what: str) -> None:
        self.checked += 1
        cache_control = response.headers.get("Cache-Control", "")
        if "no-store" not in cache_control:
            self.failures.append(f"{what}: Cache-Control is {cache_control!r}, without no-store")

    def sign_in(self, session: requests.Session) -> None:
        page = session.get(self.base_url + "/connexion/", timeout=REQUEST_TIMEOUT)
        self._headers_ok(page, f"person {self.someone.index} GET /connexion/")
        match = CSRF_INPUT.search(page.text)
        if page.status_code != 200 or not match:
            raise AssertionError(f"person {self.someone.index}: sign-in page answered {page.status_code}")
        answer = session.post(
            self.base_url + "/connexion/",
            data={
                "csrfmiddlewaretoken": match.group(1),
                "identifier": self.someone.identifier,
                "password": self.someone.password,
            },
            headers={"Referer": self.base_url + "/connexion/"},
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )
        self._headers_ok(answer, f"person {self.someone.index} POST /connexion/")
        if answer.status_code != 302 or answer.headers.get("Location") != "/mon-compte/":
            raise AssertionError(
                f"person {self.someone.index}: sign-in answered {answer.status_code} "
                f"(Location {answer.headers.get('Location')!r})"
            )

    def read_home(self, session: requests.Session, attempt: int) -> None:
        what = f"person {self.someone.index} GET /mon-compte/ #{attempt}"
        response = session.get(self.base_url + "/mon-compte/", allow_redirects=False, timeout=REQUEST_TIMEOUT)
        self._headers_ok(response, what)
        if response.status_code != 200:
            self.failures.append(f"{what}: HTTP {response.status_code}")
            return
        body = response.text
        me = self.someone
        for expected in (f"Bonjour {me.first_name} {me.last_name}", f"Mon dossier n° {me.numero}"):
            if expected not in body:
                self.failures.append(f"{what}: own data missing: {expected!r}")
        crossed = sorted(set(self.others.findall(body)))
        if crossed:
            self.failures.append(f"{what}: CROSSING, shows other people's data: {crossed}")


def _run(client: Client, signin_barrier: threading.Barrier, home_barrier: threading.Barrier) -> None:
    step = "waiting to sign in"
    with requests.Session() as session:
        try:
            signin_barrier.wait(BARRIER_TIMEOUT)
            step = "signing in"
            client.sign_in(session)
            step = "waiting to read the home page"
            home_barrier.wait(BARRIER_TIMEOUT)
            for attempt in range(1, HOME_REQUESTS_EACH + 1):
                step = f"reading the home page #{attempt}"
                client.read_home(session, attempt)
        except threading.BrokenBarrierError:
            client.gave_up = True
        except Exception as error:  # reported by the main thread
            client.failures.append(f"person {client.someone.index}, {step}: {type(error).__name__}: {error}")
            signin_barrier.abort()
            home_barrier.abort()


@pytest.fixture
def backing_services(transactional_db):
    """PostgreSQL (this run's own test database, shared with the server) and Redis."""
    require_postgresql(
        "the concurrent server test needs the test run itself on PostgreSQL, so that the server reads the test database"
    )
    redis = redis_url()
    if redis is None:
        require_or_skip("the concurrent server test needs a reachable Redis (REDIS_URL=redis://...)")
    return database_url_from_settings(connection.settings_dict), redis


def test_fifty_people_at_once_each_see_only_their_own_file(backing_services, tmp_path):
    database_url, redis = backing_services
    people = [_someone(index) for index in range(PEOPLE)]
    _create(people)

    with running_server(database_url=database_url, redis_url=redis, work_dir=tmp_path / "server") as server:
        clients = [Client(server.url, someone, people) for someone in people]
        signin_barrier = threading.Barrier(PEOPLE)
        home_barrier = threading.Barrier(PEOPLE)
        threads = [
            threading.Thread(
                target=_run, args=(client, signin_barrier, home_barrier), name=f"person-{client.someone.index}"
            )
            for client in clients
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(BARRIER_TIMEOUT * 2 + REQUEST_TIMEOUT * (HOME_REQUESTS_EACH + 2))
        elapsed = time.monotonic() - started
        still_running = [thread.name for thread in threads if thread.is_alive()]

        # Control: the check itself must see a crossing when there is one (person 1's page
        # read as if it were person 0's), or a green run would prove nothing.
        control = Client(server.url, people[0], people)
        with requests.Session() as session:
            Client(server.url, people[1], people).sign_in(session)
            control.read_home(session, 0)
        log_tail = server.log_tail()

    assert not still_running, f"threads still running: {still_running}"
    failures = [failure for client in clients for failure in client.failures]
    gave_up = [client.someone.index for client in clients if client.gave_up]
    if gave_up:
        failures.append(f"{len(gave_up)} people gave up after another one failed: {gave_up}")
    assert not failures, f"{len(failures)} failures, first ones:\n" + "\n".join(failures[:30]) + f"\n\n{log_tail}"
    checked = sum(client.checked for client in clients)
    assert checked == PEOPLE * (2 + HOME_REQUESTS_EACH), checked
    assert any("CROSSING" in failure for failure in control.failures), control.failures
    print(f"{PEOPLE} people, {checked} answers checked in {elapsed:.1f} s")
