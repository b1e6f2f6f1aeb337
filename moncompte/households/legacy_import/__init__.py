"""Import of the legacy system's files, members and old 8-digit codes (docs/legacy-import.md).

The input is a CSV with one row per member (``COLUMNS``, separator ``;``, UTF-8, header row);
the rows of one file follow each other and the file-level fields (old code, address) are taken
from the responsible person's row. ``legacy_import`` reads it, validates every row, and writes:

- ``identity.Person``, keyed by the HMAC digest of the identifier (``identifier_digest``); the
  ciphertext (``encrypt_identifier``) is computed for new persons only; an existing person is
  reused as it is (nothing of it is updated);
- ``households.Dossier``, keyed by (Caf, numéro allocataire); an existing file is kept as it is;
- ``households.Member``, keyed by (file, person);
- ``accounts.LegacyCredential``, one per file, the old code as a keyed hash
  (``legacy_code_digest``). An existing one is kept unless ``replace_codes``; a retired one
  (first connection done) is never touched.

Re-importing the same file changes nothing. Rejected rows are reported with their line number
and a French reason; no reason, log line or exception message ever holds a NIR or a code.

Two write paths, same results:

- PostgreSQL ("copy"): each batch is copied (COPY) into temporary staging tables, then moved
  with ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, one transaction per batch;
- any database ("orm"): ``bulk_create(ignore_conflicts=True)``, slower.

Parsing, the keyed hashes and the encryption cost about as much CPU as PostgreSQL's own work,
and one connection is served by one server process: with ``workers`` > 0 (copy only), forked processes
each take whole batches and parse, hash, encrypt and write them through a connection of their
own, while this process only reads the file and hands out the batches. Parallel writers insert
rows in the order of their unique keys, so that they never deadlock.
The package: ``parsing`` (reading and validating the CSV, no database), ``writing`` (one batch
in one transaction, COPY or ORM), ``runner`` (``legacy_import``: this process or the parallel
writers), ``report`` (``ImportReport``, ``LegacyImportError``). docs/legacy-import.md.
"""

from moncompte.households.legacy_format import COLUMNS
from moncompte.households.legacy_import.report import ImportReport, LegacyImportError, RejectedRow
from moncompte.households.legacy_import.runner import DEFAULT_BATCH_SIZE, legacy_import

__all__ = [
    "COLUMNS",
    "DEFAULT_BATCH_SIZE",
    "ImportReport",
    "LegacyImportError",
    "RejectedRow",
    "legacy_import",
]
