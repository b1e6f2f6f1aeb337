"""Two hundred first connections at once never cross (the October 2021 incident).

Through a real multi-process server on PostgreSQL and Redis, 200 allocataires of 200 different
files go through the first connection at the same moment (legacy code, NIR, new password);
for 25 of the files a second browser of the same person runs the same steps at the same time,
and for 10 files the spouse runs them at the same time as the responsible person. Afterwards
every account must belong to exactly the person who typed their NIR, a responsible person or
spouse of the file whose code was typed; no file may have produced two accounts; every page a
browser saw after creating its account must greet its own person.
"""

import datetime
import random
import re
import threading
from dataclasses import dataclass, field

import pytest
import requests
from stdnum.fr import nir

from moncompte.accounts.legacy import legacy_code_digest
from moncompte.accounts.models import Account, LegacyCredential
from moncompte.households.models import Caf, Dossier, Member, Role
from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.services import person_create
from tests.integration.test_concurrent_homes import backing_services  # noqa: F401  (fixture)
from tests.support.server import running_server

pytestmark = [pytest.mark.server]

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
    assert LegacyCredential.objects.filter(retired_at__isnull=True).count() == 0
