"""First connections of one file never produce two accounts (the October 2021 incident).

Two tests:

- **deterministic**: one first connection is held inside its transaction, right after it took
  the file's credential lock; a second first connection of the same file (by the spouse) must
  then wait on that lock, and once the first commits it must stop cleanly. Removing the
  ``select_for_update`` of ``first_connection_complete`` fails this test on every run: the second
  one no longer waits, and the file gets two accounts. PostgreSQL only (SQLite serializes writers
  whatever the code does), through the suite's skip-or-fail helper.
- **at scale**, through a real multi-process server on PostgreSQL and Redis: 200 allocataires of
  200 different files go through the first connection at the same moment (legacy code, NIR, new
  password); for 25 of the files a second browser of the same person runs the same steps at the
  same time, and for 10 files the spouse runs them at the same time as the responsible person.
  Afterwards every account must belong to exactly the person who typed their NIR, a responsible
  person or spouse of the file whose code was typed; no file may have produced two accounts;
  every page a browser saw after creating its account must greet its own person.
"""

import datetime
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests
from django.db import connection, connections
from stdnum.fr import nir

from moncompte.accounts import first_connection, legacy
from moncompte.accounts.first_connection import FirstConnectionError, first_connection_complete, legacy_code_verify
from moncompte.accounts.legacy import legacy_code_check_by_phone, legacy_code_digest
from moncompte.accounts.models import Account, LegacyCodeAttempt, LegacyCredential
from moncompte.core.actors import Actor, Channel
from moncompte.households.models import Caf, Dossier, Member, Role
from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.services import person_create
from tests.integration.test_concurrent_homes import backing_services  # noqa: F401  (fixture)
from tests.support.server import running_server
from tests.support.services import require_postgresql

# Holding one transaction at the critical point ------------------------------------------------

HOLD_SECONDS = 20


@pytest.fixture
def postgres(transactional_db):
    """The test run's own database, on PostgreSQL: row locks make other transactions wait there."""
    require_postgresql("the lock tests hold a row lock; SQLite serializes writers whatever the code does")


class InThread:
    """Run ``call`` in a thread with its own database connection; remember its backend pid."""

    def __init__(self, call: Callable[[], object], name: str):
        self.call = call
        self.pid: int | None = None
        self.result: object = None
        self.error: BaseException | None = None
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()
        assert self.started.wait(HOLD_SECONDS), f"{name} did not start"

    def _run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            self.started.set()
            self.result = self.call()
        except BaseException as error:  # reported by the test thread
            self.error = error
        finally:
            self.started.set()
            connections.close_all()

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()

    def join(self) -> None:
        self.thread.join(HOLD_SECONDS)
        assert self.done, f"{self.thread.name} is stuck"


def waits_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


def wait_until_blocked(second: InThread) -> None:
    """Until ``second`` waits on a database lock; fails at once if it finishes without waiting."""
    deadline = time.monotonic() + HOLD_SECONDS
    while time.monotonic() < deadline:
        if second.done:
            raise AssertionError(
                f"{second.thread.name} did not wait for the held transaction "
                f"(it ended with {second.error!r} / {second.result!r})"
            )
        if waits_on_a_lock(second.pid):
            return
        time.sleep(0.01)
    raise AssertionError(f"{second.thread.name} neither waited on a lock nor finished")


class Hold:
    """Wraps a function so that, in the thread named ``holder`` only, it stops until released:
    on its way in, or (``after``) once it returned, inside the caller's transaction."""

    def __init__(self, function: Callable, *, holder: str, after: bool = False):
        self.function = function
        self.holder = holder
        self.after = after
        self.reached = threading.Event()
        self.release = threading.Event()

    def _pause(self) -> None:
        if threading.current_thread().name == self.holder and not self.reached.is_set():
            self.reached.set()
            self.release.wait(HOLD_SECONDS)

    def __call__(self, *args, **kwargs):
        if not self.after:
            self._pause()
        result = self.function(*args, **kwargs)
        if self.after:
            self._pause()
        return result


def _couple_with_a_code() -> tuple[Dossier, Member, Member]:
    caf, _ = Caf.objects.get_or_create(code="751", defaults={"name": "Caf de Paris", "departement": "75"})
    dossier = Dossier.objects.create(
        caf=caf, numero="8700001", address_line1="1 rue du Test", postal_code="75020", city="Paris"
    )
    members = []
    for who, (value, first, sex) in enumerate([("1780275100300", "Paul", "M"), ("2790375100301", "Anne", "F")]):
        person = person_create(
            identifier=parse_identifier(value),
            first_names=first,
            birth_name="FOYER",
            birth_date=datetime.date(1978 + who, 2 + who, 1),
            sex=sex,
        )
        members.append(
            Member.objects.create(dossier=dossier, person=person, role=Role.CONJOINT if who else Role.RESPONSABLE)
        )
    LegacyCredential.objects.create(dossier=dossier, code_digest=legacy_code_digest("12345678"))
    return dossier, members[0], members[1]


def test_a_second_first_connection_of_the_file_waits_then_stops(postgres, monkeypatch):
    dossier, responsable, spouse = _couple_with_a_code()
    # Held on its way into account_create: after the credential's lock, before the account.
    hold = Hold(first_connection.account_create, holder="first")
    monkeypatch.setattr(first_connection, "account_create", hold)

    def complete(member: Member) -> Callable[[], Account]:
        actor = Actor.visitor(channel=Channel.WEB, client_address="198.51.100.7")
        return lambda: first_connection_complete(
            actor=actor, dossier_id=dossier.id, person_id=member.person_id, password=f"Nouveau depart {member.pk} ok"
        )

    first = InThread(complete(responsable), name="first")
    second = None
    try:
        # The first one holds the credential's lock and has not created its account yet.
        assert hold.reached.wait(HOLD_SECONDS), first.error
        second = InThread(complete(spouse), name="second")
        wait_until_blocked(second)
    finally:
        hold.release.set()
        first.join()
        if second is not None:
            second.join()

    assert first.error is None and isinstance(first.result, Account)
    assert isinstance(second.error, FirstConnectionError) and second.error.code == "already_migrated"
    assert list(Account.objects.filter(person__memberships__dossier=dossier)) == [first.result]
    assert first.result.person_id == responsable.person_id
    assert LegacyCredential.objects.get(dossier=dossier).retired_on_web_at is not None


@pytest.mark.parametrize("which", ["file", "unknown-numero"])
def test_tries_of_one_numero_on_the_web_and_the_phone_wait_for_each_other(postgres, monkeypatch, settings, which):
    """The caps are counted under a lock on the numéro's key, taken whether or not it is a
    file's (an unknown numéro must cost the same and is capped the same), whatever the channel:
    a phone try made while a web try is between reading the count and recording its attempt
    waits. Removing the lock of legacy_code_try fails it."""
    settings.MONCOMPTE_LEGACY_CODE_PHONE_UNTIL = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    dossier, _, _ = _couple_with_a_code()
    numero = dossier.numero if which == "file" else "1000001"
    hold = Hold(legacy.legacy_code_matches, holder="web")
    monkeypatch.setattr(legacy, "legacy_code_matches", hold)

    web = InThread(
        lambda: legacy_code_verify(
            actor=Actor.visitor(channel=Channel.WEB, client_address="198.51.100.7"),
            caf=dossier.caf,
            numero=numero,
            code="12345678",
        ),
        name="web",
    )
    phone = None
    try:
        assert hold.reached.wait(HOLD_SECONDS), web.error
        phone = InThread(
            lambda: legacy_code_check_by_phone(
                actor=Actor.visitor(channel=Channel.PHONE), caf=dossier.caf, dossier_numero=numero, code="0"
            ),
            name="phone",
        )
        wait_until_blocked(phone)
    finally:
        hold.release.set()
        web.join()
        if phone is not None:
            phone.join()
    if which == "file":
        assert web.result == dossier
    else:
        assert web.error.code == "wrong_code"
    assert phone.error.code == "wrong_code"
    assert LegacyCodeAttempt.objects.filter(file_key=legacy.legacy_file_key(dossier.caf, numero)).count() == 2


# 200 first connections through a real server -------------------------------------------------

FILES = 200
SAME_PERSON_TWICE = 25
SPOUSE_AT_ONCE = 10
TIMEOUT = 180
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Household:
    index: int
    numero: str
    code: str
    people: list[tuple[str, str, str]]  # (identifier as typed, first name, last name): responsable, spouse


@dataclass
class Attempt:
    household: Household
    who: int  # 0: responsable, 1: spouse
    outcome: str = ""
    failures: list[str] = field(default_factory=list)

    @property
    def person(self) -> tuple[str, str, str]:
        return self.household.people[self.who]


def _nir(index: int, who: int) -> str:
    value13 = f"{1 + who}{70 + index % 25:02d}{1 + index % 12:02d}75{100 + index:03d}{300 + who:03d}"
    return value13 + nir.calc_check_digits(value13)


def _households() -> list[Household]:
    rng = random.Random(20211010)  # noqa: S311  (test data, not a secret)
    households = []
    for index in range(FILES):
        tag = f"{chr(97 + index // 26 % 26)}{chr(97 + index % 26)}{index // 676}"
        households.append(
            Household(
                index=index,
                numero=f"{8800000 + index:07d}",
                code=f"{rng.randrange(10**8):08d}",
                people=[
                    (_nir(index, 0), f"Resp{tag}", f"FOYER{tag.upper()}"),
                    (_nir(index, 1), f"Conj{tag}", f"FOYER{tag.upper()}"),
                ],
            )
        )
    return households


def _create(households: list[Household]) -> None:
    caf, _ = Caf.objects.get_or_create(code="751", defaults={"name": "Caf de Paris", "departement": "75"})
    for household in households:
        dossier = Dossier.objects.create(
            caf=caf, numero=household.numero, address_line1="1 rue du Test", postal_code="75020", city="Paris"
        )
        for who, (identifier, first, last) in enumerate(household.people):
            person = person_create(
                identifier=parse_identifier(identifier),
                first_names=first,
                birth_name=last,
                birth_date=datetime.date(1970 + household.index % 25, 1 + household.index % 12, 1),
                sex="M" if who == 0 else "F",
            )
            Member.objects.create(dossier=dossier, person=person, role=Role.CONJOINT if who else Role.RESPONSABLE)
        LegacyCredential.objects.create(dossier=dossier, code_digest=legacy_code_digest(household.code))


def _post(session, url, path, data):
    page = session.get(url + path, timeout=TIMEOUT)
    token = CSRF_INPUT.search(page.text)
    if not token:
        raise AssertionError(f"GET {path}: HTTP {page.status_code}, no form")
    return session.post(
        url + path,
        data={"csrfmiddlewaretoken": token.group(1), **data},
        headers={"Referer": url + path},
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def _first_connection(url: str, attempt: Attempt, barrier: threading.Barrier) -> None:
    identifier, first, last = attempt.person
    household = attempt.household
    password = f"Nouveau depart {household.index} {attempt.who} ok"
    with requests.Session() as session:
        try:
            barrier.wait(TIMEOUT)
            answer = _post(
                session,
                url,
                "/premiere-connexion/dossier/",
                {"place": "75", "numero": household.numero, "code": household.code},
            )
            if answer.status_code != 302:
                attempt.outcome = (
                    "refused at the code" if "nouveau mode" in answer.text else f"code HTTP {answer.status_code}"
                )
                return
            answer = _post(session, url, "/premiere-connexion/numero-securite-sociale/", {"identifier": identifier})
            if answer.status_code != 302:
                attempt.outcome = f"refused at the NIR (HTTP {answer.status_code})"
                return
            answer = _post(
                session, url, "/premiere-connexion/mot-de-passe/", {"password": password, "password_confirm": password}
            )
            if answer.status_code != 302:
                attempt.outcome = (
                    "refused at the password"
                    if "nouveau mode" in answer.text or "déjà un compte" in answer.text
                    else f"password HTTP {answer.status_code}"
                )
                return
            attempt.outcome = "created"
            page = session.get(url + answer.headers["Location"], timeout=TIMEOUT)
            if f"{first} {last}" not in page.text:
                attempt.failures.append(f"file {household.index}: page after creation does not greet {first} {last}")
        except threading.BrokenBarrierError:
            attempt.failures.append("gave up: another thread failed")
        except Exception as error:  # reported by the main thread
            attempt.failures.append(f"file {household.index} who {attempt.who}: {type(error).__name__}: {error}")
            barrier.abort()


@pytest.mark.server
def test_two_hundred_first_connections_at_once_never_cross(backing_services, tmp_path):  # noqa: F811
    database_url, redis = backing_services
    households = _households()
    _create(households)
    attempts = [Attempt(h, 0) for h in households]
    attempts += [Attempt(h, 0) for h in households[:SAME_PERSON_TWICE]]
    attempts += [Attempt(h, 1) for h in households[SAME_PERSON_TWICE : SAME_PERSON_TWICE + SPOUSE_AT_ONCE]]
    random.Random(9).shuffle(attempts)  # noqa: S311

    with running_server(database_url=database_url, redis_url=redis, work_dir=tmp_path / "server") as server:
        barrier = threading.Barrier(len(attempts))
        threads = [threading.Thread(target=_first_connection, args=(server.url, a, barrier)) for a in attempts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT * 5)
        log_tail = server.log_tail()

    failures = [f for a in attempts for f in a.failures]
    assert not failures, "\n".join(failures[:30]) + f"\n\n{log_tail}"

    by_file: dict[int, list[Attempt]] = {}
    for attempt in attempts:
        by_file.setdefault(attempt.household.index, []).append(attempt)
    for index, tries in by_file.items():
        created = [a for a in tries if a.outcome == "created"]
        assert len(created) == 1, (index, [a.outcome for a in tries], log_tail)
        for other in tries:
            if other is not created[0]:
                assert other.outcome.startswith("refused"), (index, other.outcome)

    # The database: one account per file, each linked to exactly the person who typed their NIR.
    accounts = Account.objects.select_related("person").all()
    assert accounts.count() == FILES
    expected = {(a.household.numero, a.person[0][:13]) for a in attempts if a.outcome == "created"}
    linked = set()
    for account in accounts:
        memberships = list(Member.objects.filter(person=account.person).select_related("dossier"))
        assert len(memberships) == 1
        assert memberships[0].role in (Role.RESPONSABLE, Role.CONJOINT)
        linked.add((memberships[0].dossier.numero, account.person.identifier.value))
    assert linked == expected
    assert LegacyCredential.objects.filter(retired_on_web_at__isnull=True).count() == 0
