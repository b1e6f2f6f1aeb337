"""Timing oracle of the first connection: does a known file answer slower than an unknown numéro?

Run from the repository root: ``.venv/bin/python bench/first_connection_oracle.py``
(``--help`` for the knobs). Results and their reading: docs/benchmarks.md, "First connection".

The attack of issue 8 found known files answering 4 to 6 ms slower than unknown numéros (two
series of 30): the page told whether a numéro allocataire is a file's. The fix makes the work
the same (tests/accounts/test_first_connection_oracle.py checks the SQL statements and keyed
hashes, never the time); this measures the time, in-process through Django's test client (the
whole stack of a request but the network: middleware, sessions, CSRF, the view, the service, the
template):

1. a fresh database (``--database sqlite``: a temporary file, the default; ``postgresql``: the
   database ``moncompte_bench_oracle``, dropped and recreated on the server of
   BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/), migrated; the cache is local
   memory (the throttling's cache calls are the same for every kind of try);
2. ``--rounds`` known files with their old code, and as many unknown numéros, of one Caf; for
   the capped kinds, each file and each unknown numéro gets 5 wrong codes from a client of its own
   (the client's cap);
3. ``--rounds`` rounds, each timing one POST of /premiere-connexion/dossier/ of every kind, in a
   random order (interleaved, so that drifts of the machine hit every kind alike), each try from a
   fresh client (address and cookies) on a numéro tried by nobody else in the measured phase:
   - ``unknown``: an unknown numéro, any code;
   - ``known-wrong``: a known file, a wrong code;
   - ``known-capped``: a known file capped for this client, its right code (refused unchecked);
   - ``unknown-capped``: an unknown numéro capped for this client;
4. prints, per kind, the median wall time and its 10th/90th percentiles in milliseconds, the
   median CPU time of this process (the client, Django and, on SQLite, the database: steadier
   than the wall time on a shared machine), the ratio of each median to the unknown numéros'
   one, and the answers' statuses (a check that each kind did what it says). The exit code is
   0 whatever the figures; 1 if a try answered otherwise.

The benchmark only uses the page and ``LegacyCredential``: it runs unchanged on the code before
the fix (to reproduce the finding) and after.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATABASE_NAME = "moncompte_bench_oracle"
PAGE = "/premiere-connexion/dossier/"
KINDS = ("unknown", "known-wrong", "known-capped", "unknown-capped")
EXPECTED_STATUS = {"unknown": 400, "known-wrong": 400, "known-capped": (400, 429), "unknown-capped": (400, 429)}


def _postgresql_url() -> str:
    import psycopg

    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    base = base if base.endswith("/") else base + "/"
    with psycopg.connect(base + "postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return base + DATABASE_NAME


def _setup(database: str, workdir: Path) -> None:
    os.environ["DATABASE_URL"] = (
        _postgresql_url() if database == "postgresql" else f"sqlite:///{workdir / 'bench.sqlite3'}"
    )
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, the local-memory mail outbox
    settings.DEBUG = False  # no query log
    call_command("migrate", verbosity=0, interactive=False)


def _address(n: int) -> str:
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="tries of each kind (default 300)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-oracle-") as workdir:
        _setup(args.database, Path(workdir))
        from django.test import Client

        from moncompte.accounts.legacy import legacy_code_digest
        from moncompte.accounts.models import LegacyCredential
        from moncompte.households.models import Caf, Dossier

        rounds = args.rounds
        caf = Caf.objects.create(code="751", name="Caf de Paris", departement="75")
        code = "40506070"
        digest = legacy_code_digest(code)
        known = {kind: [] for kind in ("known-wrong", "known-capped")}
        for kind, numeros in known.items():
            for n in range(rounds):
                numero = f"{(8_000_000 if kind == 'known-wrong' else 8_500_000) + n}"
                dossier = Dossier.objects.create(
                    caf=caf, numero=numero, address_line1="1 rue du Banc", postal_code="75011", city="Paris"
                )
                LegacyCredential.objects.create(dossier=dossier, code_digest=digest)
                numeros.append(numero)
        numeros = {
            **known,
            "unknown": [f"{1_000_000 + n}" for n in range(rounds)],
            "unknown-capped": [f"{1_500_000 + n}" for n in range(rounds)],
        }
        clients = {kind: [] for kind in KINDS}
        address = 0
        for kind in KINDS:
            for numero in numeros[kind]:
                address += 1
                client = Client(REMOTE_ADDR=_address(address))
                client.get(PAGE)  # the CSRF cookie, as a browser has it before posting
                if kind.endswith("capped"):
                    for _ in range(5):
                        client.post(PAGE, {"place": "75011", "numero": numero, "code": "00000000"})
                clients[kind].append(client)

        # Warm-up: the first requests pay for imports, caches and connections.
        for n in range(20):
            warm = Client(REMOTE_ADDR=_address(10**6 + n))
            warm.post(PAGE, {"place": "75011", "numero": f"{1_900_000 + n}", "code": "00000000"})

        draw = random.Random(args.seed)
        times = {kind: [] for kind in KINDS}
        cpu = {kind: [] for kind in KINDS}
        statuses = {kind: {} for kind in KINDS}
        for index in range(rounds):
            order = list(KINDS)
            draw.shuffle(order)
            for kind in order:
                client, numero = clients[kind][index], numeros[kind][index]
                data = {"place": "75011", "numero": numero, "code": code if kind != "known-wrong" else "00000000"}
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.post(PAGE, data)
                times[kind].append(1000 * (time.perf_counter() - start))
                cpu[kind].append(1000 * (time.process_time() - start_cpu))
                statuses[kind][response.status_code] = statuses[kind].get(response.status_code, 0) + 1

    print(f"First connection, {rounds} interleaved tries of each kind, {args.database}, Django test client")
    reference = statistics.median(times["unknown"])
    reference_cpu = statistics.median(cpu["unknown"])
    print(f"{'kind':<16}{'wall ms':>9}{'p10':>8}{'p90':>8}{'ratio':>8}{'cpu ms':>9}{'ratio':>8}  statuses")
    for kind in KINDS:
        deciles = statistics.quantiles(times[kind], n=10)
        median, median_cpu = statistics.median(times[kind]), statistics.median(cpu[kind])
        print(
            f"{kind:<16}{median:>9.2f}{deciles[0]:>8.2f}{deciles[-1]:>8.2f}{median / reference:>8.3f}"
            f"{median_cpu:>9.2f}{median_cpu / reference_cpu:>8.3f}  "
            + ", ".join(f"{status}: {count}" for status, count in sorted(statuses[kind].items()))
        )
    ok = True
    for kind, expected in EXPECTED_STATUS.items():
        allowed = expected if isinstance(expected, tuple) else (expected,)
        if set(statuses[kind]) - set(allowed):
            print(f"unexpected answers for {kind}: {statuses[kind]}", file=sys.stderr)
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
