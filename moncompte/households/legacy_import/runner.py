"""Running an import: the tasks in this process, or in a pool of forked writers.

Parsing, the keyed hashes and the encryption cost about as much CPU as PostgreSQL's own work,
and one connection is served by one server process: with ``workers`` > 0 (COPY only), forked
processes each take whole batches and parse, hash, encrypt and write them through a connection
of their own, while this process only reads the file and hands out the batches.
"""

from __future__ import annotations

import collections
import datetime
import logging
import multiprocessing
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from django.db import connection, transaction

from moncompte.households.legacy_import.parsing import Chunk, Config, file_tasks, parse_chunk, row_tasks
from moncompte.households.legacy_import.report import ImportReport, LegacyImportError
from moncompte.households.legacy_import.writing import write_copy, write_orm
from moncompte.households.models import Caf

# The package's name, as before the split: log configuration and readers of the logs keep it.
logger = logging.getLogger("moncompte.households.legacy_import")

DEFAULT_BATCH_SIZE = 50_000
# Files smaller than this are imported in the calling process: writers cost more than they save.
POOL_MIN_BYTES = 4 * 1024 * 1024


_CONFIG: Config | None = None


def _init_worker(config: Config) -> None:
    global _CONFIG
    _CONFIG = config


def _parsed_part(task: tuple[str, int, list], config: Config) -> tuple[Chunk, ImportReport]:
    chunk = parse_chunk(task, config)
    part = ImportReport()
    part.rows_read = chunk.rows
    for line, reason in chunk.rejected:
        part.reject(line, reason)
    part.files_imported = len(chunk.dossiers)
    part.members_imported = len(chunk.members)
    return chunk, part


def _run_here(task: tuple[str, int, list], config: Config) -> ImportReport:
    chunk, part = _parsed_part(task, config)
    if chunk.dossiers:
        with transaction.atomic():
            if config.method == "copy":
                with connection.cursor() as cursor:
                    # A batch lost in a crash is written again by the next run: no need to wait for the disk.
                    cursor.execute("SET LOCAL synchronous_commit = off")
                    write_copy(cursor, chunk, part, config)
            else:
                write_orm(chunk, part, config)
    return part


def _run_in_worker(task: tuple[str, int, list]) -> ImportReport:
    """A task in a forked worker: parse, hash, encrypt and write through a connection of its own."""
    import psycopg

    config = _CONFIG
    chunk, part = _parsed_part(task, config)
    if chunk.dossiers:
        # The connection inherited from the parent process is left alone: never used, never closed.
        with psycopg.connect(**connection.get_connection_params()) as own:  # commits, or rolls back, and closes
            with own.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
                cursor.execute("SET temp_buffers = '64MB'")  # the staging tables stay in memory
                write_copy(cursor, chunk, part, config)
    return part


def _default_workers(path: Path | None, method: str) -> int:
    if (
        method != "copy"
        or path is None
        or path.stat().st_size < POOL_MIN_BYTES
        or connection.in_atomic_block
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        return 0
    return min(os.cpu_count() or 1, 16)


def legacy_import(
    *,
    rows: Iterable[Mapping] | str | os.PathLike | None = None,
    path: str | os.PathLike | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    create_cafs: bool = False,
    replace_codes: bool = False,
    workers: int | None = None,
    method: str = "auto",
) -> ImportReport:
    """Import legacy files from a CSV ``path`` (or ``rows``, mappings keyed by ``COLUMNS``).

    ``rows`` may also be a path. ``batch_size``: rows per transaction (whole files: a batch ends
    at the first file boundary after that many rows). ``create_cafs``: create the Cafs of
    unknown codes (named "Caf <code>") instead of rejecting their rows. ``replace_codes``:
    replace the old code of files already imported (a retired code stays retired).
    ``method``: "copy" (PostgreSQL only), "orm", or "auto" (copy on PostgreSQL).
    ``workers``: with "copy", processes that each parse, hash, encrypt and write whole batches
    through a connection of their own (None: one per core for files of 4 MB or more, 0: all in
    this process and its connection). Workers commit batch by batch, outside any transaction
    of the caller: with workers, call this outside ``transaction.atomic``.

    Raises LegacyImportError when the input cannot be read at all (nothing is written then).
    """
    if isinstance(rows, (str, os.PathLike)):
        rows, path = None, rows
    if (rows is None) == (path is None):
        raise TypeError("legacy_import() takes either rows or path")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if method == "auto":
        method = "copy" if connection.vendor == "postgresql" else "orm"
    if method not in ("copy", "orm") or (method == "copy" and connection.vendor != "postgresql"):
        raise ValueError("method must be 'auto', 'orm', or 'copy' on PostgreSQL")
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise LegacyImportError("Fichier introuvable.")
        tasks = file_tasks(path, batch_size)
        # Read the header now, so that a wrong file fails before anything starts.
        tasks = _prepend(next(tasks, None), tasks)
    else:
        tasks = row_tasks(rows, batch_size)
    if workers is None:
        workers = _default_workers(path, method)
    if workers and method != "copy":
        raise ValueError("workers write through COPY: method 'copy' (PostgreSQL) only")
    if workers and connection.in_atomic_block:
        raise ValueError("workers commit through connections of their own: call this outside transaction.atomic")

    config = Config(
        known_cafs=frozenset(Caf.objects.values_list("code", flat=True)),
        create_cafs=create_cafs,
        replace_codes=replace_codes,
        method=method,
        today=datetime.date.today(),
    )
    report = ImportReport(method=method, workers=workers)
    started = time.perf_counter()
    if workers:
        pool = multiprocessing.get_context("fork").Pool(workers, initializer=_init_worker, initargs=(config,))
        try:
            pending: collections.deque = collections.deque()
            for task in tasks:
                pending.append(pool.apply_async(_run_in_worker, (task,)))
                if len(pending) >= 2 * workers:
                    report.merge(pending.popleft().get())
            while pending:
                report.merge(pending.popleft().get())
        except BaseException:
            pool.terminate()
            raise
        else:
            pool.close()
        finally:
            pool.join()
    else:
        for task in tasks:
            report.merge(_run_here(task, config))
    report.rejected.sort(key=lambda rejected: rejected.line)
    report.seconds = time.perf_counter() - started
    logger.info(
        "legacy import: %d rows, %d files (%d created), %d members (%d created), %d persons created, "
        "%d rejected rows, %.1f s",
        report.rows_read,
        report.files_imported,
        report.files_created,
        report.members_imported,
        report.members_created,
        report.persons_created,
        report.rejected_count,
        report.seconds,
    )
    return report


def _prepend(first, rest: Iterator) -> Iterator:
    if first is not None:
        yield first
    yield from rest
