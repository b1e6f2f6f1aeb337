"""Reading and validating the legacy CSV: pure functions of the rows and the configuration.

The input is cut into tasks of whole files (``file_tasks``, ``row_tasks``); ``parse_chunk``
turns one task into a ``Chunk``: the accepted files and members as plain tuples (what
writing.py stores), and the rejected lines with a French reason that never quotes a NIR or a
code. No database access here: forked writers run it without a connection.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from moncompte.accounts.legacy import legacy_code_digest
from moncompte.households.legacy_format import COLUMNS, DELIMITER
from moncompte.households.legacy_import.report import LegacyImportError
from moncompte.households.models import Role
from moncompte.identity.identifiers import IdentifierError, IdentifierKind, parse_identifier
from moncompte.identity.models import IdentifierType
from moncompte.identity.normalise import birth_place_code, display_name, family_name, parse_birth_date
from moncompte.identity.protection import identifier_digest

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


@dataclass(frozen=True)
class Config:
    known_cafs: frozenset[str]
    create_cafs: bool
    replace_codes: bool
    method: str
    today: datetime.date


@dataclass
class Chunk:
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


def _parse_row(fields: list[str], config: Config) -> tuple[str | None, tuple | None]:
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
    # Stored as the forms store them (moncompte.identity.normalise), so that both match alike.
    first, birth_name, usage_name = display_name(first), family_name(birth_name), family_name(usage_name)
    if not first or len(first) > MAX_TEXT:
        return "prénoms manquants ou trop longs", None
    if not birth_name or len(birth_name) > MAX_TEXT:
        return "nom de naissance manquant ou trop long", None
    if len(usage_name) > MAX_TEXT:
        return "nom d'usage trop long", None
    birth_date = parse_birth_date(born, today=config.today)
    if birth_date is None:
        return "date de naissance invalide : AAAA-MM-JJ ou JJ/MM/AAAA attendu", None
    sex = sex.upper()
    if sex not in ("F", "M"):
        return "sexe invalide : F ou M attendu", None
    place, given_place = birth_place_code(place), place
    if given_place and not place:
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
        birth_name,
        usage_name,
        birth_date,
        sex,
        place,
        country,
    )
    return None, (dossier, member, identifier.value)


def _add_file(chunk: Chunk, rows: list[tuple[int, list[str]]], config: Config) -> None:
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


def parse_chunk(task: tuple[str, int, list], config: Config) -> Chunk:
    kind, start, payload = task
    chunk = Chunk()
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


def file_tasks(path: Path, chunk_rows: int) -> Iterator[tuple[str, int, list]]:
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


def row_tasks(rows: Iterable[Mapping], chunk_rows: int) -> Iterator[tuple[str, int, list]]:
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
