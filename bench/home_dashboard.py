"""Home page benchmark: p50 / p99 of ``GET /mon-compte/`` at 50 concurrent sessions, for people
with requests in progress (drafts to resume, the Caf's requests waiting for an answer) and for
people without, in the same run (issue 10, point 6: the home page is the most requested page).

    .venv/bin/python bench/home_dashboard.py             # about a minute and a half on 2 cores
    .venv/bin/python bench/home_dashboard.py --help      # --people, --concurrency, --rounds, --seconds, ...

What it does:

1. drops and recreates the PostgreSQL database ``moncompte_bench_home`` (server from
   BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/), migrates it and creates
   ``2 × --concurrency`` people with an account, a validated contact and a file with 2 benefits and
   6 payments (bench/populate.py); the first half also get requests in progress: every procedure
   type they may start begun through the engine (its first step saved), and two Caf's requests
   waiting for their answer (``--drafts``, ``--caf-requests``);
2. starts one real gunicorn through the shared harness (tests/support/server.py), production mode,
   ``--workers`` sync workers, on that database and on Redis (BENCH_REDIS_URL);
3. signs each person in once (one HTTP session each), then runs ``--rounds`` rounds of the two
   groups in alternating order: ``--concurrency`` client threads, one per session, each getting
   ``/mon-compte/`` again and again for ``--seconds`` (every answer checked: 200, the dashboard,
   "Reprendre" for the first group);
4. prints, per group, the pages per server CPU-second (gunicorn master and workers, user + system,
   psutil), the server CPU ms per page, the p50 / p99 latency seen by the clients (at 50 concurrent
   sessions on 2 sync workers the latency is mostly the wait for a worker: it follows the CPU cost),
   and the ratio of the two groups. The exit code is 0 whatever the figures, 1 if the benchmark
   could not run or a page was wrong.

bench/procedures.py imports the machinery below (database, servers, sessions, CPU snapshots).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: the shared server harness lives in tests/support
    sys.path.insert(0, str(ROOT))

from bench.signin import CSRF_INPUT, MachineLoad, code_revision, cpu_delta, own_cpu, percentile  # noqa: E402
from tests.support import server as harness  # noqa: E402

PYTHON = sys.executable
DATABASE_NAME = "moncompte_bench_home"
CACHE_PREFIX = "bench-home"


class BenchError(RuntimeError):
    pass


# --- Database, data, server ------------------------------------------------------------------


def database_urls(name: str) -> tuple[str, str]:
    """(URL of the maintenance database, URL of the bench database ``name``)."""
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    base = base if base.endswith("/") else base + "/"
    return base + "postgres", base + name


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def recreate_database(name: str) -> None:
    import psycopg

    with psycopg.connect(database_urls(name)[0], autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def environment(workdir: Path, database: str, cache_prefix: str, extra: dict | None = None) -> dict[str, str]:
    """A production server's environment on the bench database (public development secrets:
    fictional people in a throw-away database)."""
    return harness.production_environment(
        database_url=database_urls(database)[1],
        redis_url=redis_url(),
        work_dir=workdir,
        cache_prefix=cache_prefix,
        extra=extra,
    )


def run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def prepare(env: dict[str, str], database: str, workdir: Path, populate_args: list[str]) -> list[dict]:
    """A fresh database with the bench's people (``python -m <populate_args>``), and the static files."""
    recreate_database(database)
    harness.forget_cache(redis_url(), env["MONCOMPTE_CACHE_PREFIX"])
    run([PYTHON, "manage.py", "migrate", "--noinput"], env)
    harness.collect_static(env)
    output = workdir / f"people-{database}.json"
    run([PYTHON, "-m", *populate_args, str(output)], env)
    return json.loads(output.read_text(encoding="utf-8"))


class Server:
    """One gunicorn (production mode, sync workers) through the shared harness."""

    def __init__(self, env: dict[str, str], workdir: Path, *, workers: int, name: str) -> None:
        self.workers = workers
        self._server = harness.GunicornServer(
            env, work_dir=workdir, workers=workers, threads=1, worker_class="sync", name=name, timeout=60
        )
        self._server.start()
        self.url = self._server.url

    def wait_ready(self) -> None:
        try:
            self._server.wait_ready(timeout=60, headers={"X-Bench-Warmup": "1"}, min_workers=self.workers)
        except harness.ServerError as error:
            raise BenchError(str(error)) from None

    def cpu_snapshot(self) -> dict[int, float]:
        snapshot = {}
        for process in self._server.processes():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            snapshot[process.pid] = times.user + times.system
        return snapshot

    def log_tail(self) -> str:
        return self._server.log_tail()

    def stop(self) -> None:
        self._server.stop()


def shared_services_snapshot(database: str) -> dict[int, float]:
    """CPU of the PostgreSQL backends serving ``database``, and of Redis (approximate)."""
    snapshot = {}
    for process in psutil.process_iter(["name", "cmdline"]):
        name, cmdline = process.info["name"], " ".join(process.info["cmdline"] or [])
        if name == "redis-server" or (name == "postgres" and f" {database} " in cmdline):
            try:
                times = process.cpu_times()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            snapshot[process.pid] = times.user + times.system
    return snapshot


def signed_in(base_url: str, person: dict) -> requests.Session:
    """An HTTP session of ``person``, signed in (the sign-in itself is not measured)."""
    session = requests.Session()
    page = session.get(base_url + "/connexion/", timeout=30)
    match = CSRF_INPUT.search(page.text)
    if page.status_code != 200 or not match:
        raise BenchError(f"GET /connexion/: {page.status_code}")
    answer = session.post(
        base_url + "/connexion/",
        data={
            "csrfmiddlewaretoken": match.group(1),
            "identifier": person["identifier"],
            "password": person["password"],
        },
        allow_redirects=False,
        timeout=30,
    )
    if answer.status_code != 302:
        raise BenchError(f"POST /connexion/: {answer.status_code}")
    return session


def csrf_of(session: requests.Session, text: str) -> str:
    match = CSRF_INPUT.search(text)
    return match.group(1) if match else session.cookies.get("csrftoken", "")


# --- Measure ---------------------------------------------------------------------------------


@dataclass
class Measure:
    name: str
    requests: int
    wall_seconds: float
    server_cpu_seconds: float
    shared_cpu_seconds: float
    other_share: float
    latencies: list[float] = field(repr=False)

    @property
    def per_cpu_second(self) -> float:
        return self.requests / self.server_cpu_seconds

    @property
    def server_cpu_ms(self) -> float:
        return 1000 * self.server_cpu_seconds / self.requests

    @property
    def shared_cpu_ms(self) -> float:
        return 1000 * self.shared_cpu_seconds / self.requests


def drive(name, server: Server, database: str, workers_of_clients: list, seconds: float) -> Measure:
    """Run each ``workers_of_clients`` callable (one per client thread: it does one unit of work,
    returns the latency to record or raises BenchError) again and again for ``seconds``; the server's
    CPU, PostgreSQL's and Redis's, and the rest of the machine's, meanwhile."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds

    def client(work) -> None:
        while time.perf_counter() < deadline:
            with lock:
                if errors:
                    return
            try:
                latency = work()
            except (BenchError, requests.RequestException) as error:
                with lock:
                    errors.append(f"{name}: {error}")
                return
            with lock:
                latencies.extend(latency if isinstance(latency, list) else [latency])

    threads = [threading.Thread(target=client, args=(work,)) for work in workers_of_clients]
    load = MachineLoad()
    shared_before, client_before = shared_services_snapshot(database), own_cpu()
    cpu_before = server.cpu_snapshot()
    load.start()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    busy = load.stop()
    cpu_after = server.cpu_snapshot()
    shared_after, client_cpu = shared_services_snapshot(database), own_cpu() - client_before
    if errors:
        raise BenchError(f"{len(errors)} request(s) failed, first: {errors[0]}\n{server.log_tail()}")
    if not latencies:
        raise BenchError(f"{name}: nothing completed")
    server_cpu, _ = cpu_delta(cpu_before, cpu_after)
    shared_cpu, _ = cpu_delta(shared_before, shared_after)
    other = max(0.0, busy - server_cpu - shared_cpu - client_cpu) / (wall * (os.cpu_count() or 1))
    return Measure(name, len(latencies), wall, server_cpu, shared_cpu, other, latencies)


def summary(measures: list[Measure]) -> dict[str, float]:
    latencies = [x for m in measures for x in m.latencies]
    return {
        "per_cpu_second": statistics.median(m.per_cpu_second for m in measures),
        "per_wall_second": statistics.median(m.requests / m.wall_seconds for m in measures),
        "server_cpu_ms": statistics.median(m.server_cpu_ms for m in measures),
        "shared_cpu_ms": statistics.median(m.shared_cpu_ms for m in measures),
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "max_ms": 1000 * max(latencies),
        "count": len(latencies),
    }


def print_other_load(results: dict[str, list[Measure]]) -> None:
    others = [m.other_share for ms in results.values() for m in ms]
    print(f"  other processes on the machine: median {statistics.median(others):.0%}, max {max(others):.0%} of its CPU")
    if statistics.median(others) > 0.10:
        print("  warning: the machine was busy with other work; figures are noisier than usual")


# --- The data of this benchmark (run in a subprocess with the server's environment) ----------


def populate(count: int, in_progress: int, drafts: int, caf_requests: int) -> list[dict]:
    """bench/populate.py's people; the first ``in_progress`` of them with ``drafts`` procedures
    begun (first step saved, through the engine) and ``caf_requests`` Caf's requests waiting."""
    from django.utils import timezone

    from bench.populate import populate as populate_people
    from moncompte.caf_requests.models import CafRequest
    from moncompte.core.actors import Actor, Channel
    from moncompte.households.models import Member
    from moncompte.identity.models import Person
    from moncompte.procedures.services import procedure_start, step_save, types_startable

    people = populate_people(count)
    for index, entry in enumerate(people[:in_progress]):
        person = Person.objects.get(pk=entry["person_pk"])
        actor = Actor(channel=Channel.WEB, person=person)
        started = 0
        for ptype in types_startable(actor=actor):
            if started == drafts:
                break
            procedure = procedure_start(actor=actor, type_code=ptype.code).procedure
            if ptype.code in FIRST_STEPS:
                step_save(
                    actor=actor,
                    procedure=procedure,
                    slug=ptype.steps[0].slug,
                    data=FIRST_STEPS[ptype.code],
                    base_version=procedure.version,
                )
            started += 1
        dossier = Member.objects.get(person=person).dossier
        for number in range(caf_requests):
            CafRequest.objects.create(
                dossier=dossier,
                kind=CafRequest.Kind.DOCUMENT,
                title=f"Justificatif n° {index}-{number}",
                body="Merci de nous envoyer une quittance de loyer de moins de 3 mois.",
                due_on=timezone.localdate() + datetime.timedelta(days=10 + number),
                created_by_label="Caf de Paris",
            )
        entry["in_progress"] = True
    return people


# The first step's values of the types the bench fills in; a draft of another type stays at its first step.
FIRST_STEPS = {
    "aide-au-logement": {
        "status": "locataire",
        "kind": "appartement",
        "entered_day": "01",
        "entered_month": "09",
        "entered_year": "2025",
    },
}


def populate_main(argv: list[str]) -> None:
    count, in_progress, drafts, caf_requests, output = (*map(int, argv[:4]), argv[4])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    people = populate(count, in_progress, drafts, caf_requests)
    Path(output).write_text(json.dumps(people), encoding="utf-8")


# --- Main -------------------------------------------------------------------------------------

MARKER = "Ce que vous pouvez faire"


def home_worker(base_url: str, session: requests.Session, person: dict):
    expected = ["Reprendre", "attend"] if person.get("in_progress") else ["Aucune démarche en cours."]

    def work() -> float:
        started = time.perf_counter()
        answer = session.get(base_url + "/mon-compte/", allow_redirects=False, timeout=60)
        latency = time.perf_counter() - started
        if answer.status_code != 200 or MARKER not in answer.text:
            raise BenchError(f"GET /mon-compte/: {answer.status_code}")
        if not all(text in answer.text for text in expected):
            raise BenchError(f"GET /mon-compte/: the dashboard lacks {expected}")
        return latency

    return work


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent sessions per group (50)")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each measured phase (8)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of both groups (5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--drafts", type=int, default=3, help="procedures begun per person in progress (3)")
    parser.add_argument("--caf-requests", type=int, default=2, help="Caf's requests waiting per person (2)")
    return parser.parse_args()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "populate":
        populate_main(sys.argv[2:])
        return 0
    args = parse_arguments()
    started = time.monotonic()
    python = sys.version.split()[0]
    print(
        f"Home page benchmark, {datetime.date.today()}, {os.cpu_count()} cores, Python {python}, code {code_revision()}"
    )
    with tempfile.TemporaryDirectory(prefix="moncompte-bench-home-") as tmp:
        workdir = Path(tmp)
        env = environment(workdir, DATABASE_NAME, CACHE_PREFIX)
        server = None
        try:
            count = 2 * args.concurrency
            print(f"Preparing {DATABASE_NAME}: {count} people, {args.concurrency} with requests in progress ...")
            people = prepare(
                env,
                DATABASE_NAME,
                workdir,
                [
                    "bench.home_dashboard",
                    "populate",
                    str(count),
                    str(args.concurrency),
                    str(args.drafts),
                    str(args.caf_requests),
                ],
            )
            server = Server(env, workdir, workers=args.workers, name="home")
            server.wait_ready()
            print(f"Signing in {count} sessions ...", flush=True)
            groups = {"with requests in progress": [], "without": []}
            for person in people:
                group = "with requests in progress" if person.get("in_progress") else "without"
                groups[group].append(home_worker(server.url, signed_in(server.url, person), person))
            for works in groups.values():  # warm-up: first imports, templates, connections
                for work in works[: 4 * args.workers]:
                    work()
            results: dict[str, list[Measure]] = {name: [] for name in groups}
            for number in range(args.rounds):
                print(f"Round {number + 1}/{args.rounds} ...", flush=True)
                order = list(groups) if number % 2 == 0 else list(groups)[::-1]
                for name in order:
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
    print("Rounds: pages per server CPU-second")
    for name, measures in results.items():
        print(f"  {name:<28}" + "  ".join(f"{m.per_cpu_second:6.1f}" for m in measures))
    print_other_load(results)
    print()
    header = (
        f"{'':<28}{'pages/CPU-s':>12}{'pages/wall-s':>13}{'CPU ms/page':>12}{'PG+Redis ms':>12}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'/ without':>10}"
    )
    print(header)
    print("-" * len(header))
    base = summaries["without"]["per_cpu_second"]
    for name, row in summaries.items():
        print(
            f"{name:<28}{row['per_cpu_second']:>12.1f}{row['per_wall_second']:>13.1f}{row['server_cpu_ms']:>12.2f}"
            f"{row['shared_cpu_ms']:>12.2f}{row['p50_ms']:>8.0f}{row['p99_ms']:>8.0f}{row['max_ms']:>8.0f}"
            f"{row['per_cpu_second'] / base:>10.2f}"
        )
    print(
        f"(medians of {args.rounds} rounds of {args.seconds:.0f} s; {args.concurrency} concurrent sessions per group, "
        f"one client thread each; gunicorn sync --workers {args.workers}; {args.drafts} procedures begun and "
        f"{args.caf_requests} Caf's requests per person in progress; latencies over all rounds)"
    )
    print(f"\n(whole benchmark: {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
