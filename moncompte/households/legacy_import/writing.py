"""Writing one batch (the rows of one task) in one transaction: COPY on PostgreSQL, or the ORM.

Both paths give the same results; rows are inserted in the order of the unique keys they may
conflict on, so that writers running in parallel (runner.py) never deadlock.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator

from moncompte.accounts.models import LegacyCredential
from moncompte.households.legacy_import.parsing import Chunk, Config
from moncompte.households.legacy_import.report import ImportReport
from moncompte.households.models import Caf, Dossier, Member, Role
from moncompte.identity.models import Person
from moncompte.identity.protection import encrypt_identifier

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


def write_copy(cursor, chunk: Chunk, part: ImportReport, config: Config) -> None:
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
            "WHERE l.dossier_id = d.id AND l.retired_on_web_at IS NULL AND l.code_digest <> s.code_digest"
        )
        part.codes_replaced += cursor.rowcount
    cursor.execute(
        "INSERT INTO accounts_legacycredential (dossier_id, code_digest, retired_on_web_at) "
        "SELECT d.id, s.code_digest, NULL FROM legacy_stage_dossier s "
        "JOIN households_dossier d ON d.caf_id = s.caf_id AND d.numero = s.numero "
        "ORDER BY d.id ON CONFLICT DO NOTHING"
    )
    part.codes_created += cursor.rowcount
    cursor.execute(_ANY_JOINS)


def write_orm(chunk: Chunk, part: ImportReport, config: Config) -> None:
    """Write a batch through the ORM (any database): same results as write_copy, slower."""
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
        elif config.replace_codes and credential.retired_on_web_at is None and credential.code_digest != dossier[5]:
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
