"""Telephony benchmark: phone authentications per server CPU-second, by old code and by phone
code, journal write included, against the cheapest request in the same run (issue 12); and the
domain functions alone, in-process (calls per CPU-second). Not part of ``make test``.

    .venv/bin/python bench/phone.py             # about two minutes on 2 cores
    .venv/bin/python bench/phone.py --help      # --people, --concurrency, --rounds, --seconds, --workers

What it does:

1. drops and recreates the PostgreSQL database ``moncompte_bench_phone`` (server from
   BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/), migrates it and creates
   ``--people`` people, each the responsible person of a file of the Caf 751 with its old 8-digit
   code (bulk inserts: nobody needs an account to be identified on the phone), and one client of
   the telephony API;
2. measures the domain functions in a process of their own on that database:
   ``phone_authenticate_legacy`` and ``phone_authenticate_code`` called one after the other for
   ``--seconds`` each (a fresh phone code per person given beforehand, not measured); the figure
   is calls per CPU-second of that process (and with the PostgreSQL backend's CPU added);
3. starts one real gunicorn through the shared harness (tests/support/server.py), production mode,
   ``--workers`` sync workers, on that database and on Redis (BENCH_REDIS_URL), old codes accepted
   by the phone (MONCOMPTE_LEGACY_CODE_PHONE_UNTIL far away);
4. runs ``--rounds`` rounds of three groups in rotating order, ``--concurrency`` client threads,
   each repeating its unit of work for ``--seconds`` (every answer checked):
   - "healthz": ``GET /healthz`` (the cheapest request through the same stack: the baseline);
   - "old code": ``POST /api/phone/v1/authentications/legacy-code/`` with a file's right code
     (201 and a reference);
   - "phone code": ``POST /api/phone/v1/authentications/phone-code/`` with a person's NIR and
     live phone code (201; each code serves once, so each round uses codes given just before it,
     not measured);
   each request from one of many calling lines, with HTTP Basic client credentials;
5. prints, per group, the requests per server CPU-second (gunicorn master and workers, user +
   system, psutil), per CPU-second of the server and PostgreSQL together, the server CPU ms per
   request, the clients' p50 / p99, and the ratio to the baseline; then the in-process figures
   against the target (at least 500 old-code checks per second per core). The exit code is 0
   whatever the figures, 1 if the benchmark could not run or an answer was wrong.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the shared server harness lives in tests/support
    sys.path.insert(0, str(ROOT))

from bench.home_dashboard import (  # noqa: E402
    PYTHON,
    BenchError,
    Measure,
    Server,
    drive,
    environment,
    prepare,
    print_other_load,
    redis_url,
    run,
    summary,
)
from bench.signin import code_revision  # noqa: E402
from tests.support import server as harness  # noqa: E402

DATABASE_NAME = "moncompte_bench_phone"
CACHE_PREFIX = "bench-phone"
CAF_CODE = "751"
TARGET_PER_CORE = 500  # issue 12: old-code checks per second per core
GROUPS = ("healthz", "old code", "phone code")


def legacy_code_of(index: int) -> str:
    return f"{10_000_000 + index * 7919 % 89_999_999:08d}"


def phone_code_of(index: int, batch: int) -> str:
    return f"{(index * 104_729 + batch * 1_299_709) % 1_000_000:06d}"


def calling_line(index: int) -> str:
    return f"+3361{index % 1000:07d}"


def person_fields(index: int) -> dict:
    """The fictional person number ``index``: a valid NIR (men born in Paris, 999 per commune)."""
    from stdnum.fr import nir

    yy, mm = 40 + index % 60, 1 + (index // 60) % 12
    commune, order = 101 + index // 999, 1 + index % 999
    body = f"1{yy:02d}{mm:02d}75{commune:03d}{order:03d}"
    return {
        "identifier": body + nir.calc_check_digits(body),
        "first_names": ("Camille", "Dominique", "Alix", "Sacha", "Claude")[index % 5],
        "birth_name": f"APPELANT-{index}",
        "birth_date": datetime.date(1900 + yy, mm, 1 + index % 28),
    }


# --- The data of this benchmark (run in subprocesses with the server's environment) ----------


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def populate_main(argv: list[str]) -> None:
    """``populate COUNT OUTPUT``: the people, their files and old codes, the API's client."""
    count, output = int(argv[0]), argv[1]
    _setup()
    from django.db import transaction

    from moncompte.accounts.legacy import legacy_code_digest
    from moncompte.accounts.models import LegacyCredential
    from moncompte.core.actors import Actor
    from moncompte.households.models import Caf, Dossier, Member, Role
    from moncompte.identity.identifiers import parse_identifier
    from moncompte.identity.models import IdentifierType, Person
    from moncompte.identity.protection import encrypt_identifier, identifier_digest
    from moncompte.telephony.services import telephony_client_create

    people = []
    with transaction.atomic():
        caf = Caf.objects.create(code=CAF_CODE, name="Caf de Paris", departement="75")
        fields = [person_fields(index) for index in range(count)]
        values = [parse_identifier(f["identifier"]).value for f in fields]
        persons = Person.objects.bulk_create(
            Person(
                identifier_type=IdentifierType.NIR,
                identifier_digest=identifier_digest(value),
                identifier_encrypted=encrypt_identifier(value),
                first_names=f["first_names"],
                birth_name=f["birth_name"],
                birth_date=f["birth_date"],
                sex="M",
            )
            for f, value in zip(fields, values, strict=True)
        )
        dossiers = Dossier.objects.bulk_create(
            Dossier(
                caf=caf,
                numero=f"{index + 1:07d}",
                address_line1=f"{index + 1} rue du Banc",
                postal_code="75011",
                city="Paris",
            )
            for index in range(count)
        )
        Member.objects.bulk_create(
            Member(dossier=dossier, person=person, role=Role.RESPONSABLE, joined_on=datetime.date(2015, 1, 1))
            for dossier, person in zip(dossiers, persons, strict=True)
        )
        LegacyCredential.objects.bulk_create(
            LegacyCredential(dossier=dossier, code_digest=legacy_code_digest(legacy_code_of(index)))
            for index, dossier in enumerate(dossiers)
        )
        for index, (f, person, dossier) in enumerate(zip(fields, persons, dossiers, strict=True)):
            people.append(
                {
                    "index": index,
                    "person_pk": person.pk,
                    "identifier": f["identifier"],
                    "numero": dossier.numero,
                    "legacy_code": legacy_code_of(index),
                    "first_names": f["first_names"],
                }
            )
    client, secret = telephony_client_create(actor=Actor.system(), name="Plateforme téléphonique (banc d'essai)")
    Path(output).write_text(
        json.dumps({"people": people, "client_id": client.client_id, "secret": secret}), encoding="utf-8"
    )


def _give_codes(batch: int) -> None:
    """A live phone code for every person, ``phone_code_of(index, batch)``, the previous ones
    superseded (bulk, as many ``phone_code_issue`` would leave them)."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from moncompte.identity.models import Person
    from moncompte.telephony.models import PhoneCode
    from moncompte.telephony.services import phone_code_digest

    now = timezone.now()
    expires = now + datetime.timedelta(minutes=settings.MONCOMPTE_PHONE_CODE_MINUTES)
    with transaction.atomic():
        PhoneCode.objects.filter(used_at__isnull=True, superseded_at__isnull=True).update(superseded_at=now)
        pks = list(Person.objects.order_by("pk").values_list("pk", flat=True))
        PhoneCode.objects.bulk_create(
            (
                PhoneCode(
                    person_id=pk,
                    code_digest=phone_code_digest(pk, phone_code_of(index, batch)),
                    created_at=now,
                    expires_at=expires,
                    delivered_by=PhoneCode.DeliveredBy.WEB,
                )
                for index, pk in enumerate(pks)
            ),
            batch_size=2000,
        )


def codes_main(argv: list[str]) -> None:
    """``codes BATCH``: give every person a live phone code of that batch."""
    _setup()
    _give_codes(int(argv[0]))


def _backend_cpu() -> float:
    """CPU seconds of this process's PostgreSQL backend (same machine)."""
    import psutil
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        times = psutil.Process(pid).cpu_times()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0
    return times.user + times.system


def inprocess_main(argv: list[str]) -> None:
    """``inprocess SECONDS PEOPLE.json OUTPUT``: the domain functions alone, in this process."""
    seconds, people_file, output = float(argv[0]), argv[1], argv[2]
    _setup()
    from moncompte.core.actors import Actor, Channel
    from moncompte.telephony.services import phone_authenticate_code, phone_authenticate_legacy

    people = json.loads(Path(people_file).read_text(encoding="utf-8"))["people"]
    actor = Actor.visitor(channel=Channel.PHONE, client_address="127.0.0.1")
    results = {}

    def measure(name, call, pool):
        for person in pool[:20]:  # warm-up: imports, statements, connection
            call(person, warm=True)
        done, backend_before, cpu_before, started = 0, _backend_cpu(), time.process_time(), time.perf_counter()
        for person in pool[20:]:
            call(person, warm=False)
            done += 1
            if time.perf_counter() - started >= seconds:
                break
        cpu, wall = time.process_time() - cpu_before, time.perf_counter() - started
        backend = _backend_cpu() - backend_before
        results[name] = {"calls": done, "cpu": cpu, "backend_cpu": backend, "wall": wall}

    def legacy(person, warm):
        phone_authenticate_legacy(
            actor=actor,
            caf_code=CAF_CODE,
            numero=person["numero"],
            code=person["legacy_code"],
            calling_line=calling_line(person["index"]),
        )

    measure("old code", legacy, people * (1 + int(seconds * 2000) // max(len(people), 1)))
    _give_codes(10_000)  # not measured

    def by_code(person, warm):
        phone_authenticate_code(
            actor=actor,
            identifier=person["identifier"],
            code=phone_code_of(person["index"], 10_000),
            calling_line=calling_line(person["index"]),
        )

    measure("phone code", by_code, people)  # each code once: at most len(people) calls
    Path(output).write_text(json.dumps(results), encoding="utf-8")


# --- The units of work ------------------------------------------------------------------------


def _session(data: dict) -> requests.Session:
    session = requests.Session()
    token = base64.b64encode(f"{data['client_id']}:{data['secret']}".encode()).decode()
    session.headers.update({"Authorization": f"Basic {token}", "Content-Type": "application/json"})
    return session


def _check(answer, person: dict, path: str) -> None:
    if answer.status_code != 201:
        raise BenchError(f"POST {path}: {answer.status_code} {answer.text[:300]}")
    body = answer.json()
    if not body.get("reference", "").startswith("TEL-") or body["person"]["first_names"] != person["first_names"]:
        raise BenchError(f"POST {path}: not the person identified")


def healthz_worker(base_url: str):
    session = requests.Session()

    def work() -> float:
        started = time.perf_counter()
        answer = session.get(base_url + "/healthz", timeout=60)
        latency = time.perf_counter() - started
        if answer.status_code != 200:
            raise BenchError(f"GET /healthz: {answer.status_code}")
        return latency

    return work


def legacy_worker(base_url: str, data: dict, pool: list[dict]):
    session, state = _session(data), {"next": 0}
    path = "/api/phone/v1/authentications/legacy-code/"

    def work() -> float:
        person = pool[state["next"] % len(pool)]
        state["next"] += 1
        body = {
            "caf": CAF_CODE,
            "numero": person["numero"],
            "code": person["legacy_code"],
            "calling_line": calling_line(person["index"]),
        }
        started = time.perf_counter()
        answer = session.post(base_url + path, data=json.dumps(body), timeout=60)
        latency = time.perf_counter() - started
        _check(answer, person, path)
        return latency

    return work


class CodeBatch:
    """The phone codes of one round: each thread takes its own people, each code once."""

    def __init__(self) -> None:
        self.batch = 0
        self.lock = threading.Lock()


def code_worker(base_url: str, data: dict, pool: list[dict], batch: CodeBatch):
    session, state = _session(data), {"next": 0, "batch": None}
    path = "/api/phone/v1/authentications/phone-code/"

    def work() -> float:
        if state["batch"] != batch.batch:  # a new round: the codes were given again
            state["batch"], state["next"] = batch.batch, 0
        if state["next"] >= len(pool):
            raise BenchError("phone code: every code of this round was used; give more --people")
        person = pool[state["next"]]
        state["next"] += 1
        body = {
            "identifier": person["identifier"],
            "code": phone_code_of(person["index"], batch.batch),
            "calling_line": calling_line(person["index"]),
        }
        started = time.perf_counter()
        answer = session.post(base_url + path, data=json.dumps(body), timeout=60)
        latency = time.perf_counter() - started
        _check(answer, person, path)
        return latency

    return work


# --- Main -------------------------------------------------------------------------------------


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=8000, help="people with a file and an old code (8000)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (8)")
    parser.add_argument("--seconds", type=float, default=6.0, help="duration of each measured phase (6)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three groups (3)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    return parser.parse_args()


def _print_inprocess(results: dict) -> None:
    print()
    print("Domain functions alone, in-process (journal write included; PostgreSQL on the same machine)")
    header = f"{'':<14}{'calls':>8}{'calls/CPU-s':>13}{'with PG':>10}{'CPU ms/call':>13}{'calls/wall-s':>14}"
    print(header)
    print("-" * len(header))
    for name, row in results.items():
        per_cpu = row["calls"] / row["cpu"]
        with_pg = row["calls"] / (row["cpu"] + row["backend_cpu"]) if row["backend_cpu"] else float("nan")
        print(
            f"{name:<14}{row['calls']:>8}{per_cpu:>13.0f}{with_pg:>10.0f}{1000 * row['cpu'] / row['calls']:>13.2f}"
            f"{row['calls'] / row['wall']:>14.0f}"
        )
    legacy = results["old code"]
    per_cpu = legacy["calls"] / legacy["cpu"]
    verdict = "met" if per_cpu >= TARGET_PER_CORE else "NOT met"
    print(f"target: at least {TARGET_PER_CORE} old-code checks per CPU-second (one core): {verdict} ({per_cpu:.0f})")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] in ("populate", "codes", "inprocess"):
        {"populate": populate_main, "codes": codes_main, "inprocess": inprocess_main}[sys.argv[1]](sys.argv[2:])
        return 0
    args = parse_arguments()
    started = time.monotonic()
    python = sys.version.split()[0]
    print(
        f"Telephony benchmark, {datetime.date.today()}, {os.cpu_count()} cores, Python {python}, code {code_revision()}"
    )
    with tempfile.TemporaryDirectory(prefix="moncompte-bench-phone-") as tmp:
        workdir = Path(tmp)
        # The old codes accepted by the phone whatever the day the benchmark runs.
        env = environment(
            workdir, DATABASE_NAME, CACHE_PREFIX, extra={"MONCOMPTE_LEGACY_CODE_PHONE_UNTIL": "2100-01-01"}
        )
        server = None
        try:
            print(f"Preparing {DATABASE_NAME}: {args.people} people with a file and an old code ...", flush=True)
            prepare(env, DATABASE_NAME, workdir, ["bench.phone", "populate", str(args.people)])
            people_file = workdir / f"people-{DATABASE_NAME}.json"
            data = json.loads(people_file.read_text(encoding="utf-8"))
            people = data["people"]
            print("Measuring the domain functions in-process ...", flush=True)
            output = workdir / "inprocess.json"
            run([PYTHON, "-m", "bench.phone", "inprocess", str(args.seconds), str(people_file), str(output)], env)
            inprocess = json.loads(output.read_text(encoding="utf-8"))
            server = Server(env, workdir, workers=args.workers, name="phone")
            server.wait_ready()
            slices = [people[n :: args.concurrency] for n in range(args.concurrency)]
            batch = CodeBatch()
            groups = {
                "healthz": [healthz_worker(server.url) for _ in range(args.concurrency)],
                "old code": [legacy_worker(server.url, data, pool) for pool in slices],
                "phone code": [code_worker(server.url, data, pool, batch) for pool in slices],
            }
            for name in ("healthz", "old code"):  # warm-up: first imports, statements, connections
                for work in groups[name][: 4 * args.workers]:
                    work()
            results: dict[str, list[Measure]] = {name: [] for name in GROUPS}
            for number in range(args.rounds):
                print(f"Round {number + 1}/{args.rounds} ...", flush=True)
                order = GROUPS[number % 3 :] + GROUPS[: number % 3]
                for name in order:
                    if name == "phone code":
                        batch.batch = number + 1
                        run([PYTHON, "-m", "bench.phone", "codes", str(batch.batch)], env)  # not measured
                    results[name].append(drive(name, server, DATABASE_NAME, groups[name], args.seconds))
        except BenchError as error:
            print(f"\nBENCHMARK ERROR: {error}", file=sys.stderr)
            return 1
        finally:
            if server is not None:
                server.stop()
            harness.forget_cache(redis_url(), CACHE_PREFIX)
    summaries = {name: summary(measures) for name, measures in results.items()}
    print()
    print("Rounds: requests per server CPU-second")
    for name, measures in results.items():
        print(f"  {name:<12}" + "  ".join(f"{m.per_cpu_second:7.1f}" for m in measures))
    print_other_load(results)
    print()
    header = (
        f"{'':<12}{'req/CPU-s':>10}{'+PG':>8}{'req/wall-s':>11}{'CPU ms/req':>11}{'PG+Redis ms':>12}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'/ healthz':>10}"
    )
    print(header)
    print("-" * len(header))
    base = summaries["healthz"]["per_cpu_second"]
    for name, row in summaries.items():
        with_shared = 1000 / (row["server_cpu_ms"] + row["shared_cpu_ms"])
        print(
            f"{name:<12}{row['per_cpu_second']:>10.1f}{with_shared:>8.1f}{row['per_wall_second']:>11.1f}"
            f"{row['server_cpu_ms']:>11.2f}{row['shared_cpu_ms']:>12.2f}{row['p50_ms']:>8.0f}{row['p99_ms']:>8.0f}"
            f"{row['per_cpu_second'] / base:>10.2f}"
        )
    print(
        f"(medians of {args.rounds} rounds of {args.seconds:.0f} s; {args.concurrency} client threads; gunicorn sync "
        f"--workers {args.workers}; latencies over all rounds; +PG: per CPU-second of the server and PostgreSQL)"
    )
    _print_inprocess(inprocess)
    print(f"\n(whole benchmark: {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
