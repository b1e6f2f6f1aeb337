"""Legacy import benchmark: members per second imported into PostgreSQL.

Run from the repository root: ``.venv/bin/python bench/legacy_import.py`` (``--help`` for the
knobs). Results and their reading: docs/benchmarks.md, section "Legacy import".

What it does, in a few minutes on 2 cores:

1. drops and recreates two PostgreSQL databases, ``moncompte_bench_import`` and
   ``moncompte_bench_import_orm`` (server from BENCH_DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/), and migrates them;
2. writes a synthetic CSV of ``--households`` households (bench/legacy_csv.py; 200,000
   households are about 575,000 members) into var/bench/, or reuses the one already there;
3. imports it with ``manage.py import_legacy --create-cafs`` in a subprocess (COPY path, one
   writer process per core), then imports it again (the idempotency path: nothing to write);
4. baseline, on the second database: the first ``--baseline-members`` members (20,000) through
   the ORM path (``bulk_create``, one process), then the same slice through the COPY path (one
   process, then one writer per core), the tables emptied in between;
5. prints members and files per second, the CPU time of the import's processes and of the
   PostgreSQL server processes serving it, the machine's load, the ratios to the ORM baseline,
   and the time the 13.8 million households of the agency would take at the measured rate.

The exit code is 0 whatever the figures (it is a measurement); 1 only when a step failed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import legacy_csv  # noqa: E402

PYTHON = sys.executable
DATABASE = "moncompte_bench_import"
BASELINE_DATABASE = "moncompte_bench_import_orm"
TARGET_MEMBERS_PER_SECOND = 50_000
AGENCY_HOUSEHOLDS = 13_800_000
TABLES = "accounts_legacycredential, households_member, households_dossier, identity_person, households_caf"


class BenchError(RuntimeError):
    pass


def database_url(name: str) -> str:
    base = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    return (base if base.endswith("/") else base + "/") + name


def environment(database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MONCOMPTE_", "DATABASE_URL"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url(database),
            "DJANGO_DEBUG": "0",
            "MONCOMPTE_LOG_LEVEL": "WARNING",
        }
    )
    return env


def run(args: list[str], env: dict[str, str], accept: tuple[int, ...] = (0,)) -> str:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode not in accept:
        raise BenchError(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def recreate(database: str) -> None:
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    run([PYTHON, "manage.py", "migrate", "--noinput"], environment(database))


def empty_tables(database: str) -> None:
    import psycopg

    with psycopg.connect(database_url(database), autocommit=True) as connection:
        connection.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        connection.execute("VACUUM ANALYZE")


def ensure_csv(households: int) -> Path:
    path = ROOT / "var" / "bench" / f"legacy-{households}.csv"
    if path.exists():
        print(f"Reusing {path.relative_to(ROOT)}", flush=True)
        return path
    started = time.perf_counter()
    _, members = legacy_csv.write(households, path)
    print(
        f"Wrote {path.relative_to(ROOT)}: {households} households, {members} members in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return path


def write_slice(source: Path, members: int) -> Path:
    """The first ``members`` rows of ``source`` (then up to the end of the current file)."""
    target = source.with_name(f"{source.stem}-first-{members}.csv")
    with open(source, encoding="utf-8") as reader, open(target, "w", encoding="utf-8") as writer:
        writer.write(reader.readline())
        count, previous = 0, None
        for line in reader:
            key = line.split(";", 2)[:2]
            if count >= members and key != previous:
                break
            writer.write(line)
            count, previous = count + 1, key
    return target


class ServerCpu:
    """CPU time of the PostgreSQL server processes serving ``database``, sampled in a thread.

    Writers open one connection per batch: each backend's last reading before it exits is kept
    (a sample every 0.1 s, so at most 0.1 s per backend is missed).
    """

    def __init__(self, database: str) -> None:
        self.marker = f" {database} "
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for process in psutil.process_iter(["pid", "cmdline"]):
                try:
                    cmdline = " ".join(process.info["cmdline"] or []) + " "
                    if cmdline.startswith("postgres:") and self.marker in cmdline:
                        times = process.cpu_times()
                        self.seen[process.pid] = times.user + times.system
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self._stop.wait(0.1)

    def __enter__(self) -> ServerCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


@dataclass
class Run:
    label: str
    seconds: float
    command_seconds: float
    files: int
    members: int
    created: int
    client_cpu: float
    server_cpu: float
    machine_busy: float  # share of all cores busy during the run, every process included
    load: float

    @property
    def members_per_second(self) -> float:
        return self.members / self.command_seconds

    @property
    def files_per_second(self) -> float:
        return self.files / self.command_seconds

    def line(self) -> str:
        return (
            f"{self.label:<34} {self.members:>8} members {self.files:>7} files "
            f"{self.command_seconds:7.1f} s  {self.members_per_second:>8,.0f} members/s {self.files_per_second:>7,.0f} "
            f"files/s  CPU: import {self.client_cpu:6.1f} s, PostgreSQL {self.server_cpu:6.1f} s "
            f"({(self.client_cpu + self.server_cpu) / self.members * 1e6:.0f} µs/member)  "
            f"machine busy {self.machine_busy:.0%}, load {self.load:.1f}"
        )


def _count(pattern: str, output: str) -> int:
    match = re.search(pattern, output)
    if not match:
        raise BenchError(f"no {pattern!r} in the command's output:\n{output}")
    return int(match.group(1).replace("\u202f", ""))


def startup_cpu_seconds(database: str, path: Path) -> float:
    """CPU time of the command on a file with a header only: Python and Django starting up."""
    empty = path.with_name("legacy-header-only.csv")
    with open(path, encoding="utf-8") as source:
        empty.write_text(source.readline(), encoding="utf-8")
    samples = []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        run([PYTHON, "manage.py", "import_legacy", str(empty)], environment(database))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime))
    return min(samples)


def import_run(label: str, database: str, path: Path, *options: str, startup_cpu: float = 0.0) -> Run:
    args = [PYTHON, "manage.py", "import_legacy", str(path), "--create-cafs", *options]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = psutil.cpu_times()
    started = time.perf_counter()
    with ServerCpu(database) as server:
        output = run(args, environment(database))
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after = psutil.cpu_times()
    idle = (busy_after.idle + busy_after.iowait) - (busy_before.idle + busy_before.iowait)
    total = sum(busy_after) - sum(busy_before)
    duration = re.search(r"Durée : ([\d,]+) s", output)
    result = Run(
        label=label,
        seconds=seconds,
        command_seconds=float(duration.group(1).replace(",", ".")) if duration else seconds,
        files=_count(r"Dossiers importés : (\d+)", output),
        members=_count(r"Membres importés : (\d+)", output),
        created=_count(r"Membres importés : \d+ \(créés : (\d+)", output),
        client_cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) - startup_cpu,
        server_cpu=server.seconds,
        machine_busy=1 - idle / total if total else 0.0,
        load=os.getloadavg()[0],
    )
    print(result.line(), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=200_000, help="households in the CSV (200,000)")
    parser.add_argument("--baseline-members", type=int, default=20_000, help="members of the ORM baseline (20,000)")
    parser.add_argument("--workers", type=int, default=None, help="writer processes (default: one per core)")
    parser.add_argument("--batch-size", type=int, default=None, help="rows per transaction (default: the command's)")
    args = parser.parse_args()
    options = []
    if args.workers is not None:
        options += ["--workers", str(args.workers)]
    if args.batch_size is not None:
        options += ["--batch-size", str(args.batch_size)]

    started = time.monotonic()
    print(
        f"Legacy import benchmark, {datetime.date.today().isoformat()}, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    try:
        print(f"Recreating and migrating {DATABASE} and {BASELINE_DATABASE} ...", flush=True)
        recreate(DATABASE)
        recreate(BASELINE_DATABASE)
        path = ensure_csv(args.households)

        startup = startup_cpu_seconds(DATABASE, path)
        print(f"Start-up of the command (subtracted from the import CPU below): {startup:.2f} CPU-s", flush=True)
        full = import_run("COPY, full file", DATABASE, path, *options, startup_cpu=startup)
        again = import_run("COPY, same file again", DATABASE, path, *options, startup_cpu=startup)
        if again.created:
            raise BenchError(f"the second import created {again.created} members")

        piece = write_slice(path, args.baseline_members)
        orm = import_run(
            "ORM baseline, slice", BASELINE_DATABASE, piece, "--method", "orm", "--workers", "0", startup_cpu=startup
        )
        empty_tables(BASELINE_DATABASE)
        copy_one = import_run("COPY, slice, 1 process", BASELINE_DATABASE, piece, "--workers", "0", startup_cpu=startup)
        empty_tables(BASELINE_DATABASE)
        # Small batches, so that every writer gets some of the slice.
        writers = ["--workers", str(args.workers or os.cpu_count() or 1), "--batch-size", "5000"]
        copy_many = import_run("COPY, slice, writers", BASELINE_DATABASE, piece, *writers, startup_cpu=startup)
    except BenchError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1

    members_per_household = full.members / full.files
    agency_members = AGENCY_HOUSEHOLDS * members_per_household
    agency_seconds = agency_members / full.members_per_second
    cpu_per_member = (full.client_cpu + full.server_cpu) / full.members
    cores_for_five_minutes = agency_members * cpu_per_member / 300
    verdict = "PASS" if full.members_per_second >= TARGET_MEMBERS_PER_SECOND else "FAIL"
    print()
    print(
        f"Full import: {full.members_per_second:,.0f} members/s, {full.files_per_second:,.0f} files/s "
        f"(target {TARGET_MEMBERS_PER_SECOND:,}: {verdict})"
    )
    print(f"Re-import (nothing to write): {again.members_per_second:,.0f} members/s")
    print(
        f"COPY vs ORM on the same slice: {copy_one.members_per_second / orm.members_per_second:.1f}x in one process, "
        f"{copy_many.members_per_second / orm.members_per_second:.1f}x with writers; "
        f"full run vs ORM slice: {full.members_per_second / orm.members_per_second:.1f}x"
    )
    print(
        f"13.8 million households ({members_per_household:.2f} members each, {agency_members / 1e6:.1f} million "
        f"members) at this rate: {agency_seconds / 60:.0f} min; at {cpu_per_member * 1e6:.0f} CPU-µs per member, "
        f"5 minutes need about {cores_for_five_minutes:.0f} busy cores"
    )
    print(f"Total benchmark time: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
