"""Procedures benchmark: a step save and a draft resume per server CPU-second on PostgreSQL, with
the partners answering in 200 ms, hanging, and down; and whether the step page ever waited longer
than the partners' budget (issue 10, Acceptance: "the page never waits longer than the partner
budget, whatever the partner does").

    .venv/bin/python bench/procedures.py            # about three minutes on 2 cores
    .venv/bin/python bench/procedures.py --help     # --people, --rounds, --seconds, --latency-ms, --hang-ms, ...

What it does:

1. drops and recreates the PostgreSQL database ``moncompte_bench_procedures`` (BENCH_DATABASE_URL),
   migrates it and creates ``--people`` people with an account, a validated contact and a file
   (bench/populate.py), each with a housing-aid draft whose first three steps are saved through
   the engine: resuming it opens the resources step, pre-filled from the tax administration and
   the monthly resources (two partners);
2. starts the partner simulator (tools/partner_simulator.py) on a free port, with every bench
   person's data, and one real gunicorn (production mode, ``--workers`` sync workers, Redis)
   whose partner settings point at it, with the per-person partner cache
   (MONCOMPTE_PARTNER_CACHE_SECONDS) set to ``--partner-cache-seconds``, 0 by default: every page
   asks the partners again, as for a person seen for the first time (the case that waits);
3. signs each person in once, then, for each partner scenario in turn, ``--rounds`` rounds of
   three phases of ``--seconds`` each, from ``--concurrency`` client threads (as many as the
   workers by default: a request never queues for a worker, so its wall time is the page's own):
   - **home** (the baseline, the most requested page): ``GET /mon-compte/``;
   - **step save**: ``POST`` the rent step (validation, write, journal) with the draft's
     version, answered by the redirect to the next step (not followed);
   - **resume**: ``GET /mon-compte/demarches/<pk>/`` (the redirect to the step to resume) and the
     resources step it names, which asks the two partners within the budget
     (MONCOMPTE_PARTNER_BUDGET_MS) and says what came from whom or what is missing;
   the scenarios: **partner 200 ms** (the simulator's latency), **partner hanging** (latency
   ``--hang-ms``, beyond the budget), **partner down** (the simulator stopped);
4. prints, per scenario and phase, the requests per server CPU-second (gunicorn master and
   workers, user + system), the server CPU ms, the p50 / p99 / max wall times, the ratios to the
   home page of the same scenario, and PASS / FAIL: the resources step's longest wall time against
   the budget plus the page's own time (the p99 of the step with the partners down, which do not
   make it wait). The exit code is 0 whatever the figures, 1 if it could not run or a page was wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.home_dashboard import (  # noqa: E402
    BenchError,
    Measure,
    Server,
    csrf_of,
    drive,
    environment,
    prepare,
    print_other_load,
    redis_url,
    signed_in,
    summary,
)
from bench.signin import code_revision, percentile  # noqa: E402
from tests.support import server as harness  # noqa: E402

PYTHON = sys.executable
DATABASE_NAME = "moncompte_bench_procedures"
CACHE_PREFIX = "bench-procedures"
SIMULATOR = ROOT / "tools" / "partner_simulator.py"
SOURCES = ("impots", "drm")  # the partners of the resources step

# The housing aid's steps, as the bench fills them (tests/procedures/helpers.py's values).
STEPS = {
    "logement": {
        "status": "locataire",
        "kind": "appartement",
        "entered_day": "01",
        "entered_month": "09",
        "entered_year": "2025",
    },
    "loyer": {
        "address_line1": "12 rue des Lilas",
        "postal_code": "75011",
        "city": "Paris",
        "rent": "650",
        "charges": "80,50",
        "landlord": "Paris Habitat",
    },
    "identite": {"confirm": "on"},
}
SHOWN = "Informations transmises par"  # the step page, when a partner answered
MISSING = "Saisissez-les vous-même"  # ... and when one did not
VERSION_INPUT = re.compile(r'name="version" value="(\d+)"')


# --- The data (run in a subprocess with the server's environment) ---------------------------


def populate(count: int) -> list[dict]:
    from bench.populate import populate as populate_people
    from moncompte.core.actors import Actor, Channel
    from moncompte.identity.models import Person
    from moncompte.procedures.services import procedure_start, step_save

    people = populate_people(count)
    for entry in people:
        person = Person.objects.get(pk=entry["person_pk"])
        actor = Actor(channel=Channel.WEB, person=person)
        procedure = procedure_start(actor=actor, type_code="aide-au-logement").procedure
        for slug, values in STEPS.items():
            procedure = step_save(
                actor=actor, procedure=procedure, slug=slug, data=values, base_version=procedure.version
            ).procedure
        entry["procedure"] = procedure.pk
    return people


def populate_main(argv: list[str]) -> None:
    count, output = int(argv[0]), argv[1]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    Path(output).write_text(json.dumps(populate(count)), encoding="utf-8")


def forget_partner_data() -> None:
    import psycopg

    from bench.home_dashboard import database_urls

    with psycopg.connect(database_urls(DATABASE_NAME)[1], autocommit=True) as connection:
        connection.execute("UPDATE procedures_procedure SET partner_data = '{}', corrections = '{}'")


# --- The partner simulator ---------------------------------------------------------------------


class Simulator:
    """tools/partner_simulator.py in a subprocess, driven through its control API."""

    def __init__(self, workdir: Path) -> None:
        self.port = harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "partner-simulator.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [PYTHON, str(SIMULATOR), "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise BenchError(f"the partner simulator did not start:\n{self.log_path.read_text(errors='replace')[-2000:]}")

    def control(self, path: str, body: dict | None = None) -> dict:
        answer = requests.post(f"{self.url}/_control/{path}", json=body or {}, timeout=10)
        if answer.status_code >= 400:
            raise BenchError(f"simulator /_control/{path}: {answer.status_code} {answer.text[:200]}")
        return answer.json() if answer.content else {}

    def calls(self) -> dict:
        answer = requests.get(f"{self.url}/_control/calls", timeout=10)
        return answer.json() if answer.status_code == 200 else {}

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 15)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)


def simulator_data(person: dict, index: int) -> dict[str, dict]:
    """What the simulator answers for a bench person (the shapes of docs/partners.md)."""
    year = datetime.date.today().year - 1
    months = []
    today = datetime.date.today().replace(day=1)
    for back in range(1, 4):
        month = (today - datetime.timedelta(days=28 * back)).replace(day=1)
        months.append(
            {
                "mois": month.strftime("%Y-%m"),
                "salaires_cents": 150_000 + 100 * index,
                "indemnites_chomage_cents": 0,
                "pensions_cents": 0,
            }
        )
    return {
        "impots": {
            "revenu_fiscal_de_reference": 18_000 + index,
            "nombre_de_parts": "1",
            "situation_familiale": "celibataire",
            "annee_des_revenus": year,
        },
        "drm": {"mois": months},
    }


# --- The client ----------------------------------------------------------------------------------


class Client:
    """One signed-in person: their session, their draft and its version (only this client saves it)."""

    def __init__(self, base_url: str, person: dict) -> None:
        self.base_url = base_url
        self.person = person
        self.session = signed_in(base_url, person)
        self.procedure = person["procedure"]
        page = self.session.get(f"{base_url}/mon-compte/demarches/{self.procedure}/loyer/", timeout=30)
        match = VERSION_INPUT.search(page.text)
        if page.status_code != 200 or not match:
            raise BenchError(f"GET the rent step: {page.status_code}, no version in the form")
        self.version = int(match.group(1))
        self.csrf = csrf_of(self.session, page.text)

    def home(self) -> float:
        started = time.perf_counter()
        answer = self.session.get(self.base_url + "/mon-compte/", allow_redirects=False, timeout=60)
        latency = time.perf_counter() - started
        if answer.status_code != 200 or self.person["display_name"] not in answer.text:
            raise BenchError(f"GET /mon-compte/: {answer.status_code}")
        return latency

    def step_save(self) -> float:
        data = {"csrfmiddlewaretoken": self.csrf, "version": str(self.version), "action": "continuer", **STEPS["loyer"]}
        started = time.perf_counter()
        answer = self.session.post(
            f"{self.base_url}/mon-compte/demarches/{self.procedure}/loyer/",
            data=data,
            headers={"Referer": self.base_url + "/"},
            allow_redirects=False,
            timeout=60,
        )
        latency = time.perf_counter() - started
        if answer.status_code != 302 or not answer.headers.get("Location", "").endswith("/identite/"):
            raise BenchError(f"POST the rent step: {answer.status_code} to {answer.headers.get('Location')!r}")
        self.version += 1
        return latency

    def resume(self) -> list[float]:
        """The draft's address (its redirect), then the step it names: the pair's wall time, and
        the step's alone (what the partners may make wait) recorded apart by the caller."""
        started = time.perf_counter()
        answer = self.session.get(
            f"{self.base_url}/mon-compte/demarches/{self.procedure}/", allow_redirects=False, timeout=60
        )
        location = answer.headers.get("Location", "")
        if answer.status_code != 302 or not location.endswith("/ressources/"):
            raise BenchError(f"GET the draft: {answer.status_code} to {location!r}")
        step_started = time.perf_counter()
        page = self.session.get(self.base_url + location, allow_redirects=False, timeout=60)
        ended = time.perf_counter()
        if page.status_code != 200 or "Vos ressources" not in page.text:
            raise BenchError(f"GET the resources step: {page.status_code}")
        if self.expect not in page.text:
            raise BenchError(f"GET the resources step: {self.expect!r} is not on the page")
        self.step_times.append(ended - step_started)
        return ended - started

    step_times: list[float]
    expect: str


# --- Main ---------------------------------------------------------------------------------------


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=200, help="people, each with a draft (200)")
    parser.add_argument("--seconds", type=float, default=6.0, help="duration of each measured phase (6)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three phases per scenario (3)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--concurrency", type=int, default=0, help="client threads (0: as many as the workers)")
    parser.add_argument("--latency-ms", type=int, default=200, help="the partners' latency, first scenario (200)")
    parser.add_argument("--hang-ms", type=int, default=5000, help="the partners' latency when hanging (5000)")
    parser.add_argument("--budget-ms", type=int, default=800, help="MONCOMPTE_PARTNER_BUDGET_MS of the server (800)")
    parser.add_argument(
        "--partner-cache-seconds", type=int, default=0, help="the server's per-person partner cache (0: ask each time)"
    )
    parser.add_argument(
        "--scenarios", default="200ms,hanging,down", help="among 200ms, hanging, down, in this order (all)"
    )
    parser.add_argument("--phases", default="home,step save,resume", help="among home, step save, resume (all)")
    return parser.parse_args()


def server_extra(args: argparse.Namespace, simulator: Simulator) -> dict[str, str]:
    """The partner settings of the server: every partner at the simulator (docs/partners.md)."""
    extra = {
        "MONCOMPTE_PARTNER_BUDGET_MS": str(args.budget_ms),
        "MONCOMPTE_PARTNER_CACHE_SECONDS": str(args.partner_cache_seconds),
    }
    for code in ("IMPOTS", "FRANCE_TRAVAIL", "DRM", "QUOTIENT_FAMILIAL"):
        extra[f"MONCOMPTE_PARTNER_{code}_URL"] = simulator.url
    return extra


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "populate":
        populate_main(sys.argv[2:])
        return 0
    args = parse_arguments()
    concurrency = args.concurrency or args.workers
    scenarios = [s for s in args.scenarios.split(",") if s]
    started = time.monotonic()
    print(
        f"Procedures benchmark, {datetime.date.today()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, code {code_revision()}"
    )
    results: dict[tuple[str, str], list[Measure]] = {}
    step_times: dict[str, list[float]] = {}
    calls: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="moncompte-bench-procedures-") as tmp:
        workdir = Path(tmp)
        simulator = Simulator(workdir)
        env = environment(workdir, DATABASE_NAME, CACHE_PREFIX, extra=server_extra(args, simulator))
        server = None
        try:
            print(f"Preparing {DATABASE_NAME}: {args.people} people, each with a housing-aid draft ...", flush=True)
            people = prepare(env, DATABASE_NAME, workdir, ["bench.procedures", "populate", str(args.people)])
            server = Server(env, workdir, workers=args.workers, name="procedures")
            server.wait_ready()
            print(f"Signing in {len(people)} sessions ...", flush=True)
            clients = [Client(server.url, person) for person in people]
            groups = [clients[i::concurrency] for i in range(concurrency)]

            def cycling(method):
                """One client thread's unit of work: the next person of its group, in turn."""
                works = []
                for group in groups:
                    position = [0]

                    def work(group=group, position=position):
                        client = group[position[0] % len(group)]
                        position[0] += 1
                        return method(client)

                    works.append(work)
                return works

            methods = {"home": Client.home, "step save": Client.step_save, "resume": Client.resume}
            phases = {name: cycling(methods[name]) for name in args.phases.split(",") if name}
            for scenario in scenarios:
                if scenario == "down":
                    simulator.stop()
                else:
                    if simulator.process is None or simulator.process.poll() is not None:
                        simulator.start()  # its data is in its memory: given again at each start
                        for index, person in enumerate(people):
                            nir = person["identifier"][:13]  # what the partners know: the NIR without its key
                            for source, data in simulator_data(person, index).items():
                                simulator.control("data", {"partner": source, "nir": nir, "data": data})
                    latency = args.latency_ms if scenario == "200ms" else args.hang_ms
                    for source in SOURCES:
                        simulator.control("latency", {"partner": source, "latency_ms": latency})
                    with contextlib.suppress(BenchError):
                        simulator.control("reset_calls")
                times = step_times.setdefault(scenario, [])
                for client in clients:
                    client.step_times = times
                    # What the page must say: the partners' data, or that they did not answer.
                    client.expect = SHOWN if scenario == "200ms" else MISSING
                print(f"Scenario: partners {scenario} ...", flush=True)
                # Every draft as never shown to a partner: a partner's earlier answer kept in the
                # draft is shown again when it does not answer now (moncompte.procedures.prefill).
                forget_partner_data()
                # Warm-up of the scenario: connections, breakers in their steady state.
                for works in phases.values():
                    for work in works * 2:
                        work()
                times.clear()
                for number in range(args.rounds):
                    print(f"  round {number + 1}/{args.rounds} ...", flush=True)
                    order = list(phases) if number % 2 == 0 else list(phases)[::-1]
                    for phase in order:
                        measure = drive(f"{scenario} {phase}", server, DATABASE_NAME, phases[phase], args.seconds)
                        results.setdefault((scenario, phase), []).append(measure)
                if scenario != "down":
                    calls[scenario] = simulator.calls()
        except BenchError as error:
            print(f"\nBENCHMARK ERROR: {error}", file=sys.stderr)
            return 1
        finally:
            if server is not None:
                server.stop()
            simulator.stop()
            harness.forget_cache(redis_url(), CACHE_PREFIX)
    report(args, concurrency, scenarios, results, step_times, calls)
    print(f"\n(whole benchmark: {time.monotonic() - started:.0f} s)")
    return 0


def report(args, concurrency, scenarios, results, step_times, calls) -> None:
    print()
    print("Rounds: requests (resume: pairs) per server CPU-second")
    for (scenario, phase), measures in results.items():
        print(f"  {scenario:<8} {phase:<10}" + "  ".join(f"{m.per_cpu_second:7.1f}" for m in measures))
    print_other_load({f"{s} {p}": m for (s, p), m in results.items()})
    print()
    header = (
        f"{'scenario':<9}{'phase':<11}{'per CPU-s':>10}{'per wall-s':>11}{'CPU ms':>8}{'PG+Redis ms':>12}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'/ home':>8}"
    )
    print(header)
    print("-" * len(header))
    for scenario in scenarios:
        home = summary(results[(scenario, "home")])["per_cpu_second"] if (scenario, "home") in results else float("nan")
        for phase in ("home", "step save", "resume"):
            if (scenario, phase) not in results:
                continue
            row = summary(results[(scenario, phase)])
            print(
                f"{scenario:<9}{phase:<11}{row['per_cpu_second']:>10.1f}{row['per_wall_second']:>11.1f}"
                f"{row['server_cpu_ms']:>8.2f}{row['shared_cpu_ms']:>12.2f}{row['p50_ms']:>8.0f}"
                f"{row['p99_ms']:>8.0f}{row['max_ms']:>8.0f}{row['per_cpu_second'] / home:>8.2f}"
            )
    print(
        f"(medians of {args.rounds} rounds of {args.seconds:.0f} s per phase; {concurrency} client threads; gunicorn "
        f"sync --workers {args.workers}; resume = GET the draft (302) + GET the resources step; CPU = master + "
        "workers, user + system)"
    )
    print()
    print(f"The resources step alone (asks {len(SOURCES)} partners; budget {args.budget_ms} ms):")
    own = None
    if step_times.get("down"):
        own = 1000 * percentile(step_times["down"], 0.99)
    for scenario in scenarios:
        times = step_times.get(scenario) or []
        if not times:
            continue
        p50, p99, longest = 1000 * percentile(times, 0.5), 1000 * percentile(times, 0.99), 1000 * max(times)
        print(
            f"  partners {scenario:<8} p50 {p50:6.0f} ms  p99 {p99:6.0f} ms  max {longest:6.0f} ms"
            f"  ({len(times)} pages)"
        )
    if own is not None:
        limit = args.budget_ms + own
        worst = max(1000 * max(step_times[s]) for s in scenarios if step_times.get(s))
        verdict = "PASS" if worst <= limit else "FAIL"
        print(
            f"{verdict}  the step page never waited longer than the budget: longest {worst:.0f} ms <= budget "
            f"{args.budget_ms} ms + the page's own p99 with the partners down {own:.0f} ms = {limit:.0f} ms"
        )
    for scenario, counted in calls.items():
        if counted:
            print(f"  simulator calls during '{scenario}': {json.dumps(counted.get('calls', counted), sort_keys=True)}")


if __name__ == "__main__":
    sys.exit(main())
