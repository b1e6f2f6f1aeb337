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
"""

from __future__ import annotations

import collections
import csv
import datetime
import logging
import multiprocessing
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from moncompte.accounts.legacy import legacy_code_digest
from moncompte.accounts.models import LegacyCredential
from moncompte.households.legacy_format import COLUMNS, DELIMITER
from moncompte.households.models import Caf, Dossier, Member, Role
from moncompte.identity.identifiers import IdentifierError, IdentifierKind, parse_identifier
from moncompte.identity.models import IdentifierType, Person
from moncompte.identity.protection import encrypt_identifier, identifier_digest

__all__ = [
    "COLUMNS",
    "DEFAULT_BATCH_SIZE",
    "ImportReport",
    "LegacyImportError",
    "RejectedRow",
    "legacy_import",
]

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 50_000
# Files smaller than this are imported in the calling process: writers cost more than they save.
POOL_MIN_BYTES = 4 * 1024 * 1024
# The report lists at most this many rejected rows (all of them are counted).
MAX_REJECTED_LISTED = 100_000
MAX_TEXT = 200
FRANCE = "99100"

_ROLES = frozenset(Role.values)
_KIND_TO_TYPE = {IdentifierKind.NIR: IdentifierType.NIR.value, IdentifierKind.NNP: IdentifierType.NNP.value}
# Reasons by IdentifierError.code. Ours, not the error's message: that one may quote the key.
_IDENTIFIER_REASONS = {
    "empty": "NIR manquant",
    "character": "NIR invalide : caractère non admis",
    "length": "NIR invalide : 13 chiffres attendus, suivis ou non de la clé de 2 chiffres",
    "letter_position": "NIR invalide : lettre hors de 2A ou 2B",
    "sex": "NIR invalide : premier chiffre impossible",
    "month": "NIR invalide : mois de naissance impossible",
    "department": "NIR invalide : département de naissance impossible",
    "key": "NIR invalide : la clé ne correspond pas au numéro",
}
_NOT_LEGACY = "NIR invalide : un identifiant provisoire n'est pas un numéro de l'ancien système"
_MIN_BIRTH_DATE = datetime.date(1890, 1, 1)


class LegacyImportError(Exception):
    """The input cannot be imported at all (no header, wrong columns): nothing was written."""


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.reason}"


@dataclass
class ImportReport:
    """What an import did. Counts only, line numbers and reasons: never an identifier or a code."""

    rows_read: int = 0
    files_imported: int = 0
    files_created: int = 0
    members_imported: int = 0
    members_created: int = 0
    persons_created: int = 0
    cafs_created: int = 0
    codes_created: int = 0
    codes_replaced: int = 0
    rejected_count: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    method: str = ""
    workers: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rejected_count == 0

    @property
    def files_existing(self) -> int:
        return self.files_imported - self.files_created

    @property
    def members_existing(self) -> int:
        """Members already there (or conflicting with the file's current members: left as they are)."""
        return self.members_imported - self.members_created

    @property
    def persons_reused(self) -> int:
        """Member rows whose person was already known (from the database or an earlier row)."""
        return self.members_imported - self.persons_created

    @property
    def codes_kept(self) -> int:
        """Files whose existing old code was left as it is (retired codes included)."""
        return self.files_imported - self.codes_created - self.codes_replaced

    def _reject(self, line: int, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REJECTED_LISTED:
            self.rejected.append(RejectedRow(line, reason))

    def _merge(self, part: ImportReport) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(part, name))
        self.rejected.extend(part.rejected[: max(0, MAX_REJECTED_LISTED - len(self.rejected))])

    def summary_lines(self) -> list[str]:
        rate = self.members_imported / self.seconds if self.seconds else 0.0
        return [
            f"Lignes lues : {self.rows_read}",
            f"Dossiers importés : {self.files_imported} (créés : {self.files_created}, "
            f"déjà présents : {self.files_existing})",
            f"Membres importés : {self.members_imported} (créés : {self.members_created}, "
            f"déjà présents : {self.members_existing})",
            f"Personnes créées : {self.persons_created}, réutilisées : {self.persons_reused}",
            f"Anciens codes : créés {self.codes_created}, remplacés {self.codes_replaced}, conservés {self.codes_kept}",
            f"Caf créées : {self.cafs_created}",
            f"Lignes rejetées : {self.rejected_count}",
            f"Durée : {_decimal(self.seconds)} s ({_number(rate)} membres par seconde, méthode {self.method}, "
            f"{self.workers} processus d'écriture)",
        ]


_COUNTS = (
    "rows_read",
    "files_imported",
    "files_created",
    "members_imported",
    "members_created",
    "persons_created",
    "cafs_created",
    "codes_created",
    "codes_replaced",
    "rejected_count",
)


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def _decimal(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


# --------------------------------------------------------------------------------------------
# Parsing and validation: pure functions of the rows and the configuration.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Config:
    known_cafs: frozenset[str]
    create_cafs: bool
    replace_codes: bool
    method: str
    today: datetime.date


_CONFIG: _Config | None = None


def _init_worker(config: _Config) -> None:
    global _CONFIG
    _CONFIG = config


@dataclass
class _Chunk:
    """The parsed content of consecutive rows (whole files only).

    dossiers: (caf_code, numero, address_line1, postal_code, city, code_digest)
    members: (caf_code, numero, digest, role, identifier_type, first_names, birth_name,
    usage_name, birth_date, sex, birth_place_code, birth_country_code)
    values: the canonical identifier of each member, in memory only, to encrypt new persons.
    """

    rows: int = 0
    dossiers: list[tuple] = field(default_factory=list)
    members: list[tuple] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _digits(text: str, length: int) -> bool:
    return len(text) == length and text.isascii() and text.isdigit()


def _parse_date(text: str, today: datetime.date) -> datetime.date | None:
    try:
        if len(text) == 10 and text[2] == "/" and text[5] == "/":
            day, month, year = text.split("/")
            value = datetime.date(int(year), int(month), int(day))
        elif len(text) == 10 and text[4] == "-":
            value = datetime.date.fromisoformat(text)
        else:
            return None
    except ValueError:
        return None
    if not (_MIN_BIRTH_DATE <= value <= today):
        return None
    return value


def _parse_row(fields: list[str], config: _Config) -> tuple[str | None, tuple | None]:
    """(reason, None) for a rejected row, else (None, (dossier tuple or None, member tuple, value))."""
    if len(fields) != len(COLUMNS):
        return f"{len(fields)} colonnes au lieu de {len(COLUMNS)}", None
    (
        caf,
        numero,
        code,
        role,
        raw_nir,
        first,
        birth_name,
        usage_name,
        born,
        sex,
        place,
        country,
        street,
        postal,
        city,
    ) = (value.strip() for value in fields)
    if not _digits(caf, 3):
        return "code Caf invalide : 3 chiffres attendus", None
    if caf not in config.known_cafs and not config.create_cafs:
        return f"Caf inconnue (code {caf})", None
    if not _digits(numero, 7):
        return "numéro allocataire invalide : 7 chiffres attendus", None
    role = role.lower()
    if role not in _ROLES:
        return "rôle inconnu : responsable, conjoint, enfant ou autre attendu", None
    try:
        identifier = parse_identifier(raw_nir)
    except IdentifierError as error:
        if error.code.startswith("provisional"):
            return _NOT_LEGACY, None
        return _IDENTIFIER_REASONS.get(error.code, "NIR invalide"), None
    identifier_type = _KIND_TO_TYPE.get(identifier.kind)
    if identifier_type is None:
        return _NOT_LEGACY, None
    if not first or len(first) > MAX_TEXT:
        return "prénoms manquants ou trop longs", None
    if not birth_name or len(birth_name) > MAX_TEXT:
        return "nom de naissance manquant ou trop long", None
    if len(usage_name) > MAX_TEXT:
        return "nom d'usage trop long", None
    birth_date = _parse_date(born, config.today)
    if birth_date is None:
        return "date de naissance invalide : AAAA-MM-JJ ou JJ/MM/AAAA attendu", None
    sex = sex.upper()
    if sex not in ("F", "M"):
        return "sexe invalide : F ou M attendu", None
    place = place.upper()
    if place and not (len(place) == 5 and place.isascii() and place.isalnum()):
        return "commune de naissance invalide : code INSEE de 5 caractères attendu", None
    country = country or FRANCE
    if not _digits(country, 5):
        return "pays de naissance invalide : code INSEE de 5 chiffres attendu", None
    dossier = None
    if role == Role.RESPONSABLE:
        if not _digits(code, 8):
            return "ancien code confidentiel invalide : 8 chiffres attendus", None
        if not street or len(street) > MAX_TEXT:
            return "adresse manquante ou trop longue", None
        if not _digits(postal, 5):
            return "code postal invalide : 5 chiffres attendus", None
        if not city or len(city) > MAX_TEXT:
            return "commune manquante ou trop longue", None
        dossier = (caf, numero, street, postal, city, legacy_code_digest(code))
    member = (
        caf,
        numero,
        identifier_digest(identifier.value),
        role,
        identifier_type,
        first,
        birth_name.upper(),
        usage_name.upper(),
        birth_date,
        sex,
        place,
        country,
    )
    return None, (dossier, member, identifier.value)


def _add_file(chunk: _Chunk, rows: list[tuple[int, list[str]]], config: _Config) -> None:
    """Validate the rows of one file and add what is accepted to ``chunk``."""
    accepted: list[tuple[int, tuple]] = []
    rejected_responsable = None
    for line, fields in rows:
        reason, parsed = _parse_row(fields, config)
        if reason is None:
            accepted.append((line, parsed))
        else:
            chunk.rejected.append((line, reason))
            if rejected_responsable is None and len(fields) > 3 and fields[3].strip().lower() == Role.RESPONSABLE:
                rejected_responsable = line
    if not accepted:
        return
    responsable = next((entry for entry in accepted if entry[1][0] is not None), None)
    if responsable is None:
        if rejected_responsable is not None:
            reason = f"dossier non importé : la ligne du responsable (ligne {rejected_responsable}) est rejetée"
        else:
            reason = "dossier sans ligne responsable (les lignes d'un dossier doivent se suivre)"
        chunk.rejected.extend((line, reason) for line, _ in accepted)
        return
    responsable_line, (dossier, responsable_member, _value) = responsable
    chunk.dossiers.append(dossier)
    # The responsible person comes first, wherever their row is: a duplicate of them is the other row.
    seen: dict[str, int] = {responsable_member[2]: responsable_line}
    conjoint_line = None
    for line, (_dossier, member, value) in accepted:
        role, digest = member[3], member[2]
        if line != responsable_line:
            if role == Role.RESPONSABLE:
                reason = f"second responsable du dossier (le responsable est ligne {responsable_line})"
                chunk.rejected.append((line, reason))
                continue
            if digest in seen:
                chunk.rejected.append((line, f"personne déjà présente dans ce dossier (ligne {seen[digest]})"))
                continue
            if role == Role.CONJOINT:
                if conjoint_line is not None:
                    reason = f"second conjoint du dossier (le conjoint est ligne {conjoint_line})"
                    chunk.rejected.append((line, reason))
                    continue
                conjoint_line = line
            seen[digest] = line
        chunk.members.append(member)
        chunk.values.append(value)


def _numbered_rows(kind: str, start: int, payload: list) -> Iterator[tuple[int, list[str]]]:
    if kind == "rows":
        yield from enumerate(payload, start)
        return
    # Raw lines of the file: csv parses them here, in the worker.
    reader = csv.reader(payload, delimiter=DELIMITER, strict=True)
    while True:
        before = reader.line_num
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield start + reader.line_num - 1, None
            continue
        if reader.line_num - before > 1:
            yield start + before, None  # a quoted field runs over several lines
            continue
        yield start + before, fields


def _parse_chunk(task: tuple[str, int, list], config: _Config) -> _Chunk:
    kind, start, payload = task
    chunk = _Chunk()
    current_key = None
    rows: list[tuple[int, list[str]]] = []
    for line, fields in _numbered_rows(kind, start, payload):
        if fields is None:
            chunk.rows += 1
            chunk.rejected.append((line, "ligne illisible (guillemets non fermés ou caractère interdit)"))
            continue
        text = "".join(fields)
        if not text.strip():
            continue  # blank line
        chunk.rows += 1
        if "\ufffd" in text or "\x00" in text:
            chunk.rejected.append((line, "ligne non conforme à l'encodage UTF-8 ou caractère nul"))
            continue
        key = (fields[0].strip(), fields[1].strip()) if len(fields) > 1 else None
        if key != current_key and rows:
            _add_file(chunk, rows, config)
            rows = []
        current_key = key
        rows.append((line, fields))
    if rows:
        _add_file(chunk, rows, config)
    return chunk


# --------------------------------------------------------------------------------------------
# Reading the input into tasks of whole files.
# --------------------------------------------------------------------------------------------


def _check_header(names: Iterable[str]) -> None:
    found = tuple(name.strip().lower() for name in names)
    if found != COLUMNS:
        raise LegacyImportError(
            "En-tête invalide : les colonnes attendues, dans cet ordre et séparées par « ; », sont "
            + ";".join(COLUMNS)
            + "."
        )


def _file_tasks(path: Path, chunk_rows: int) -> Iterator[tuple[str, int, list]]:
    # Undecodable bytes become U+FFFD and their rows are rejected, instead of stopping everything.
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        header = handle.readline()
        if not header.strip():
            raise LegacyImportError("Fichier vide : la première ligne doit être l'en-tête.")
        _check_header(next(csv.reader([header], delimiter=DELIMITER)))
        start, line_number = 2, 1
        lines: list[str] = []
        previous_key = None
        for line in handle:
            line_number += 1
            # The file's key is what comes before the second separator: cut only between files.
            key = line[: line.find(DELIMITER, line.find(DELIMITER) + 1)]
            if len(lines) >= chunk_rows and key != previous_key:
                yield "lines", start, lines
                lines, start = [], line_number
            lines.append(line)
            previous_key = key
        if lines:
            yield "lines", start, lines


def _row_tasks(rows: Iterable[Mapping], chunk_rows: int) -> Iterator[tuple[str, int, list]]:
    # Rows given as mappings are numbered as the lines of a CSV file with its header on line 1.
    start = line_number = 2
    payload: list[list[str]] = []
    previous_key = None
    for row in rows:
        fields = ["" if row.get(name) is None else str(row.get(name)) for name in COLUMNS]
        key = (fields[0].strip(), fields[1].strip())
        if len(payload) >= chunk_rows and key != previous_key:
            yield "rows", start, payload
            payload, start = [], line_number
        payload.append(fields)
        previous_key = key
        line_number += 1
    if payload:
        yield "rows", start, payload


# --------------------------------------------------------------------------------------------
# Writing one batch (the rows of one task), in one transaction.
# --------------------------------------------------------------------------------------------

_STAGING_SQL = """
DROP TABLE IF EXISTS pg_temp.legacy_stage_dossier, pg_temp.legacy_stage_member, pg_temp.legacy_stage_person;
CREATE TEMPORARY TABLE legacy_stage_dossier (
    caf_id bigint, numero text, address_line1 text, postal_code text, city text, code_digest text
) ON COMMIT DROP;
CREATE TEMPORARY TABLE legacy_stage_member (seq integer, caf_id bigint, numero text, digest text, role text)
ON COMMIT DROP;
CREATE TEMPORARY TABLE legacy_stage_person (
    identifier_type text, identifier_digest text, identifier_encrypted text, first_names text, birth_name text,
    usage_name text, birth_date date, sex text, birth_place_code text, birth_country_code text
) ON COMMIT DROP;
"""
# Every join goes from the staging table to the unique index of the real table, whatever the
# statistics say: a hash join would read the whole table (tens of millions of rows) at each batch.
_INDEX_JOINS_ONLY = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
_ANY_JOINS = "SET LOCAL enable_hashjoin = DEFAULT; SET LOCAL enable_mergejoin = DEFAULT"


def _write_copy(cursor, chunk: _Chunk, part: ImportReport, config: _Config) -> None:
    """Write a batch through COPY into staging tables and INSERT ... SELECT (PostgreSQL).

    Rows are inserted in the order of the unique keys they may conflict on, so that writers
    running in parallel wait for each other in a consistent order and never deadlock.
    """
    codes = sorted({dossier[0] for dossier in chunk.dossiers})
    if config.create_cafs:
        cursor.execute(
            "INSERT INTO households_caf (code, name, departement) SELECT code, 'Caf ' || code, "
            "CASE WHEN code LIKE '97%%' THEN code ELSE left(code, 2) END FROM unnest(%s::text[]) AS code "
            "ORDER BY code ON CONFLICT DO NOTHING",
            [codes],
        )
        part.cafs_created += cursor.rowcount
    cursor.execute("SELECT code, id FROM households_caf WHERE code = ANY(%s::text[])", [codes])
    cafs = dict(cursor.fetchall())

    cursor.execute(_STAGING_SQL)
    with cursor.copy(
        "COPY legacy_stage_dossier (caf_id, numero, address_line1, postal_code, city, code_digest) FROM STDIN"
    ) as copy:
        for caf, numero, street, postal, city, code_digest in chunk.dossiers:
            copy.write_row((cafs[caf], numero, street, postal, city, code_digest))
    with cursor.copy("COPY legacy_stage_member (seq, caf_id, numero, digest, role) FROM STDIN") as copy:
        for seq, member in enumerate(chunk.members):
            copy.write_row((seq, cafs[member[0]], member[1], member[2], member[3]))
    cursor.execute(_INDEX_JOINS_ONLY)

    cursor.execute(
        "INSERT INTO households_dossier (caf_id, numero, address_line1, address_line2, postal_code, city, created_at) "
        "SELECT caf_id, numero, address_line1, '', postal_code, city, now() FROM legacy_stage_dossier "
        "ORDER BY caf_id, numero ON CONFLICT DO NOTHING"
    )
    part.files_created += cursor.rowcount

    # Only the persons unknown so far are encrypted and staged (the first row of each).
    cursor.execute(
        "SELECT min(s.seq) FROM legacy_stage_member s WHERE NOT EXISTS "
        "(SELECT 1 FROM identity_person p WHERE p.identifier_digest = s.digest) GROUP BY s.digest"
    )
    new = [row[0] for row in cursor.fetchall()]
    if new:
        members, values = chunk.members, chunk.values
        with cursor.copy(
            "COPY legacy_stage_person (identifier_type, identifier_digest, identifier_encrypted, first_names, "
            "birth_name, usage_name, birth_date, sex, birth_place_code, birth_country_code) FROM STDIN"
        ) as copy:
            for seq in new:
                m = members[seq]
                token = encrypt_identifier(values[seq])
                copy.write_row((m[4], m[2], token, m[5], m[6], m[7], m[8], m[9], m[10], m[11]))
        cursor.execute(
            "INSERT INTO identity_person (identifier_type, identifier_digest, identifier_encrypted, first_names, "
            "birth_name, usage_name, birth_date, sex, birth_place_code, birth_country_code, created_at) "
            "SELECT identifier_type, identifier_digest, identifier_encrypted, first_names, birth_name, usage_name, "
            "birth_date, sex, birth_place_code, birth_country_code, now() FROM legacy_stage_person "
            "ORDER BY identifier_digest ON CONFLICT DO NOTHING"
        )
        part.persons_created += cursor.rowcount

    # ON CONFLICT DO NOTHING also covers one_current_responsable_per_dossier.
    cursor.execute(
        "INSERT INTO households_member (dossier_id, person_id, role, joined_on, delegation_granted_at, ended_on) "
        "SELECT d.id, p.id, s.role, %s, NULL, NULL FROM legacy_stage_member s "
        "JOIN households_dossier d ON d.caf_id = s.caf_id AND d.numero = s.numero "
        "JOIN identity_person p ON p.identifier_digest = s.digest ORDER BY d.id, p.id ON CONFLICT DO NOTHING",
        [config.today],
    )
    part.members_created += cursor.rowcount

    if config.replace_codes:
        # A retired code (first connection done) stays retired and untouched.
        cursor.execute(
            "UPDATE accounts_legacycredential l SET code_digest = s.code_digest FROM legacy_stage_dossier s "
            "JOIN households_dossier d ON d.caf_id = s.caf_id AND d.numero = s.numero "
            "WHERE l.dossier_id = d.id AND l.retired_at IS NULL AND l.code_digest <> s.code_digest"
        )
        part.codes_replaced += cursor.rowcount
    cursor.execute(
        "INSERT INTO accounts_legacycredential (dossier_id, code_digest, retired_at) "
        "SELECT d.id, s.code_digest, NULL FROM legacy_stage_dossier s "
        "JOIN households_dossier d ON d.caf_id = s.caf_id AND d.numero = s.numero "
        "ORDER BY d.id ON CONFLICT DO NOTHING"
    )
    part.codes_created += cursor.rowcount
    cursor.execute(_ANY_JOINS)


def _write_orm(chunk: _Chunk, part: ImportReport, config: _Config) -> None:
    """Write a batch through the ORM (any database): same results as _write_copy, slower."""
    codes = {dossier[0] for dossier in chunk.dossiers}
    cafs = dict(Caf.objects.filter(code__in=codes).values_list("code", "id"))
    for code in sorted(codes - cafs.keys()):  # only with create_cafs: the rows were rejected otherwise
        caf, created = Caf.objects.get_or_create(
            code=code, defaults={"name": f"Caf {code}", "departement": _dept(code)}
        )
        cafs[code] = caf.pk
        part.cafs_created += created

    # Files: the first occurrence of each (Caf, numéro) wins; existing ones are kept.
    wanted: dict[tuple[int, str], tuple] = {}
    for dossier in chunk.dossiers:
        wanted.setdefault((cafs[dossier[0]], dossier[1]), dossier)
    dossier_ids = _dossier_ids(wanted)
    new_dossiers = [
        Dossier(caf_id=caf_id, numero=numero, address_line1=d[2], postal_code=d[3], city=d[4])
        for (caf_id, numero), d in wanted.items()
        if (caf_id, numero) not in dossier_ids
    ]
    Dossier.objects.bulk_create(new_dossiers, ignore_conflicts=True, batch_size=500)
    part.files_created += len(new_dossiers)
    dossier_ids.update(_dossier_ids((d.caf_id, d.numero) for d in new_dossiers))

    # Persons: only the unknown ones are encrypted and created.
    first_seq: dict[str, int] = {}
    for seq, member in enumerate(chunk.members):
        first_seq.setdefault(member[2], seq)
    person_ids = _person_ids(first_seq)
    new_persons = []
    for digest, seq in first_seq.items():
        if digest in person_ids:
            continue
        m = chunk.members[seq]
        new_persons.append(
            Person(
                identifier_type=m[4],
                identifier_digest=digest,
                identifier_encrypted=encrypt_identifier(chunk.values[seq]),
                first_names=m[5],
                birth_name=m[6],
                usage_name=m[7],
                birth_date=m[8],
                sex=m[9],
                birth_place_code=m[10],
                birth_country_code=m[11],
            )
        )
    Person.objects.bulk_create(new_persons, ignore_conflicts=True, batch_size=500)
    part.persons_created += len(new_persons)
    person_ids.update(_person_ids(p.identifier_digest for p in new_persons))

    # Members: a (file, person) pair once; a second current responsible person is never added.
    ids = sorted(set(dossier_ids.values()))
    pairs, with_responsable = set(), set()
    for some in _slices(ids):
        for dossier_id, person_id, role, ended_on in Member.objects.filter(dossier_id__in=some).values_list(
            "dossier_id", "person_id", "role", "ended_on"
        ):
            pairs.add((dossier_id, person_id))
            if role == Role.RESPONSABLE and ended_on is None:
                with_responsable.add(dossier_id)
    new_members = []
    for member in chunk.members:
        dossier_id, person_id = dossier_ids[(cafs[member[0]], member[1])], person_ids[member[2]]
        if (dossier_id, person_id) in pairs:
            continue
        if member[3] == Role.RESPONSABLE:
            if dossier_id in with_responsable:
                continue
            with_responsable.add(dossier_id)
        pairs.add((dossier_id, person_id))
        new_members.append(Member(dossier_id=dossier_id, person_id=person_id, role=member[3], joined_on=config.today))
    Member.objects.bulk_create(new_members, ignore_conflicts=True, batch_size=500)
    part.members_created += len(new_members)

    # Old codes: one per file, kept unless replace_codes; a retired one is never touched.
    existing = {}
    for some in _slices(ids):
        existing.update((c.dossier_id, c) for c in LegacyCredential.objects.filter(dossier_id__in=some))
    new_credentials, replaced = [], []
    for key, dossier in wanted.items():
        credential = existing.get(dossier_ids[key])
        if credential is None:
            new_credentials.append(LegacyCredential(dossier_id=dossier_ids[key], code_digest=dossier[5]))
        elif config.replace_codes and credential.retired_at is None and credential.code_digest != dossier[5]:
            credential.code_digest = dossier[5]
            replaced.append(credential)
    LegacyCredential.objects.bulk_create(new_credentials, ignore_conflicts=True, batch_size=500)
    LegacyCredential.objects.bulk_update(replaced, ["code_digest"], batch_size=500)
    part.codes_created += len(new_credentials)
    part.codes_replaced += len(replaced)


def _slices(items: list, size: int = 500) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _dossier_ids(keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], int]:
    by_caf: dict[int, list[str]] = collections.defaultdict(list)
    for caf_id, numero in keys:
        by_caf[caf_id].append(numero)
    found = {}
    for caf_id, numeros in by_caf.items():
        for some in _slices(numeros):
            for pk, numero in Dossier.objects.filter(caf_id=caf_id, numero__in=some).values_list("pk", "numero"):
                found[(caf_id, numero)] = pk
    return found


def _person_ids(digests: Iterable[str]) -> dict[str, int]:
    found = {}
    for some in _slices(list(digests)):
        found.update(Person.objects.filter(identifier_digest__in=some).values_list("identifier_digest", "pk"))
    return found


def _dept(caf_code: str) -> str:
    """The département of a Caf from its code: "751" -> "75", overseas "971" -> "971"."""
    return caf_code if caf_code.startswith("97") else caf_code[:2]


# --------------------------------------------------------------------------------------------
# Running the tasks: in this process, or in a pool of writers with their own connections.
# --------------------------------------------------------------------------------------------


def _parsed_part(task: tuple[str, int, list], config: _Config) -> tuple[_Chunk, ImportReport]:
    chunk = _parse_chunk(task, config)
    part = ImportReport()
    part.rows_read = chunk.rows
    for line, reason in chunk.rejected:
        part._reject(line, reason)
    part.files_imported = len(chunk.dossiers)
    part.members_imported = len(chunk.members)
    return chunk, part


def _run_here(task: tuple[str, int, list], config: _Config) -> ImportReport:
    chunk, part = _parsed_part(task, config)
    if chunk.dossiers:
        with transaction.atomic():
            if config.method == "copy":
                with connection.cursor() as cursor:
                    # A batch lost in a crash is written again by the next run: no need to wait for the disk.
                    cursor.execute("SET LOCAL synchronous_commit = off")
                    _write_copy(cursor, chunk, part, config)
            else:
                _write_orm(chunk, part, config)
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
                _write_copy(cursor, chunk, part, config)
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
        tasks = _file_tasks(path, batch_size)
        # Read the header now, so that a wrong file fails before anything starts.
        tasks = _prepend(next(tasks, None), tasks)
    else:
        tasks = _row_tasks(rows, batch_size)
    if workers is None:
        workers = _default_workers(path, method)
    if workers and method != "copy":
        raise ValueError("workers write through COPY: method 'copy' (PostgreSQL) only")
    if workers and connection.in_atomic_block:
        raise ValueError("workers commit through connections of their own: call this outside transaction.atomic")

    config = _Config(
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
                    report._merge(pending.popleft().get())
            while pending:
                report._merge(pending.popleft().get())
        except BaseException:
            pool.terminate()
            raise
        else:
            pool.close()
        finally:
            pool.join()
    else:
        for task in tasks:
            report._merge(_run_here(task, config))
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
