"""Plain SQL for the phone authentications, the hot path of the telephony API (docs/benchmarks.md,
"Telephony").

Building a statement through the ORM costs about 0.25 ms of CPU, executing a plain one about
0.06 ms. So, as moncompte.audit.services does for the journal, each statement here is written
once per database vendor from the models' own tables and columns; values are prepared by the
fields themselves (``get_db_prep_value`` / ``get_db_prep_save``), read back through the ORM's own
converters (SQLite gives text for a date) and made into instances with ``Model.from_db``, as a
queryset would. The database wrapper is the cursor's (``cursor.db``): each ``connection.x``
costs a look-up of the thread's connection. Nothing here decides anything: the rules stay in
moncompte.telephony.services and moncompte.accounts.legacy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.db import connection
from django.db.models import Field, Model

from moncompte.accounts.models import LegacyCodeAttempt, LegacyCredential
from moncompte.households.models import Caf, Dossier, Member
from moncompte.identity.models import Person
from moncompte.telephony.models import PhoneAttempt, PhoneCode, TelephonyClient

_sql: dict[tuple[str, str], str] = {}
_converters: dict[tuple[str, str], list] = {}


# Building blocks -------------------------------------------------------------------------------


def statement(db, name: str, build: Callable[[], str]) -> str:
    """The statement ``name`` for the vendor of ``db``, built on first use."""
    key = (db.vendor, name)
    sql = _sql.get(key)
    if sql is None:
        sql = _sql[key] = build()
    return sql


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[Model], name: str, alias: str = "") -> str:
    quoted = connection.ops.quote_name(model._meta.get_field(name).column)
    return f"{alias}.{quoted}" if alias else quoted


def columns(*models_and_aliases: tuple[type[Model], str]) -> str:
    """Every concrete column of each model, in the order ``instances`` reads them."""
    return ", ".join(
        f"{alias}.{connection.ops.quote_name(f.column)}"
        for model, alias in models_and_aliases
        for f in model._meta.concrete_fields
    )


def _literal(value: str) -> str:
    """A choice of ours written into the statement (so that PostgreSQL's planner sees the partial
    indexes' condition whatever the parameter binding); never a value that came in."""
    if not value.replace("_", "").isalpha():
        raise ValueError(value)
    return f"'{value}'"


def _prepared(db, model: type[Model], name: str, value):
    """``value`` as a parameter compared with the field ``name`` (a lookup's preparation)."""
    return model._meta.get_field(name).get_db_prep_value(value, db, prepared=False)


def _converted(db, name: str, fields: Sequence[Field], row: Sequence) -> list:
    """A row as the ORM would give it: each value through its field's converters."""
    key = (db.vendor, name)
    found = _converters.get(key)
    if found is None:
        found = []
        for index, field in enumerate(fields):
            expression = field.get_col(field.model._meta.db_table)
            converters = db.ops.get_db_converters(expression) + expression.get_db_converters(db)
            if converters:
                found.append((index, expression, converters))
        _converters[key] = found
    values = list(row)
    for index, expression, converters in found:
        value = values[index]
        for converter in converters:
            value = converter(value, expression, db)
        values[index] = value
    return values


def _fields(*models: type[Model]) -> list[Field]:
    return [field for model in models for field in model._meta.concrete_fields]


def _instances(db, name: str, models: Sequence[type[Model]], row: Sequence) -> list:
    """The instances of a row read by ``columns`` (None for a LEFT JOIN's NULLs)."""
    values = _converted(db, name, _fields(*models), row)
    result, start = [], 0
    for model in models:
        end = start + len(model._meta.concrete_fields)
        part = values[start:end]
        result.append(model.from_db(db.alias, None, part) if part[0] is not None else None)
        start = end
    return result


def _fetch(cursor, sql: str, params: Iterable) -> list[tuple]:
    cursor.execute(sql, list(params))
    return cursor.fetchall()


def _locks_relation(db, locks: Sequence[tuple[int, int]]) -> tuple[str, list[int]]:
    """A one-row relation whose reading takes PostgreSQL transaction advisory locks on two int4
    keys each, in the order given (SQLite's IMMEDIATE transactions serialize every writer)."""
    if db.vendor != "postgresql":
        return "(SELECT 1 AS one)", []
    calls = ", ".join(f"pg_advisory_xact_lock(%s, %s) AS lock{n}" for n in range(len(locks)))
    return f"(SELECT {calls})", [key for lock in locks for key in lock]


# Writes ----------------------------------------------------------------------------------------


def _insert_sql(model: type[Model], db) -> str:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = ", ".join(db.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {table(model)} ({names}) VALUES ({placeholders})"  # noqa: S608


def insert_all(cursor, objs: Sequence[Model]) -> None:
    """``obj.save()`` of each new row (defaults and ``pre_save`` applied), in one statement on
    PostgreSQL (the first ones in ``WITH`` clauses), one plain INSERT each elsewhere."""
    db = cursor.db
    models = [type(obj) for obj in objs]
    params = []
    for obj in objs:
        params += [
            f.get_db_prep_save(f.pre_save(obj, add=True), db) for f in obj._meta.concrete_fields if not f.primary_key
        ]
    if db.vendor == "postgresql":

        def build() -> str:
            pk = [db.ops.quote_name(m._meta.pk.column) for m in models]
            withs = [f"w{n} AS ({_insert_sql(m, db)} RETURNING {pk[n]})" for n, m in enumerate(models[:-1])]
            returned = [pk[-1], *(f"(SELECT {pk[n]} FROM w{n})" for n in range(len(models) - 1))]  # noqa: S608
            head = f"WITH {', '.join(withs)} " if withs else ""
            return f"{head}{_insert_sql(models[-1], db)} RETURNING {', '.join(returned)}"

        cursor.execute(statement(db, "insert:" + ",".join(m._meta.label for m in models), build), params)
        last, *firsts = cursor.fetchone()
        for obj, pk in zip(objs, [*firsts, last], strict=True):
            obj.pk = pk
    else:
        start = 0
        for obj, model in zip(objs, models, strict=True):
            count = len(model._meta.concrete_fields) - 1
            sql = statement(db, f"insert:{model._meta.label}", lambda model=model: _insert_sql(model, db))
            cursor.execute(sql, params[start : start + count])
            obj.pk = cursor.lastrowid
            start += count
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias


def phone_code_take(cursor, *, code_id: int, now) -> bool:
    """Marks the code used if it still is live; False if someone used or superseded it meanwhile."""

    def build() -> str:
        return (
            f"UPDATE {table(PhoneCode)} SET {column(PhoneCode, 'used_at')} = %s "  # noqa: S608
            f"WHERE {column(PhoneCode, 'id')} = %s AND {column(PhoneCode, 'used_at')} IS NULL "
            f"AND {column(PhoneCode, 'superseded_at')} IS NULL"
        )

    db = cursor.db
    cursor.execute(statement(db, "phone_code_take", build), [_prepared(db, PhoneCode, "used_at", now), code_id])
    return cursor.rowcount == 1


# Reads -----------------------------------------------------------------------------------------

_LEGACY_FILE = (Caf, Dossier, LegacyCredential)


def locked_legacy_file(
    cursor, *, locks: Sequence[tuple[int, int]], caf_code: str, numero: str
) -> tuple[Caf | None, LegacyCredential | None]:
    """Takes ``locks``, then gives the Caf of that number and, if (Caf, numéro) is a file with an
    old code, its credential (``credential.dossier`` read with it): one statement, the same for
    an unknown numéro or Caf."""
    db = cursor.db
    relation, params = _locks_relation(db, locks)

    def build() -> str:
        return (
            f"SELECT {columns((Caf, 'f'), (Dossier, 'd'), (LegacyCredential, 'c'))} FROM {relation} l "  # noqa: S608
            f"LEFT JOIN {table(Caf)} f ON {column(Caf, 'code', 'f')} = %s "
            f"LEFT JOIN {table(Dossier)} d ON {column(Dossier, 'caf', 'd')} = {column(Caf, 'id', 'f')} "
            f"AND {column(Dossier, 'numero', 'd')} = %s "
            f"LEFT JOIN {table(LegacyCredential)} c "
            f"ON {column(LegacyCredential, 'dossier', 'c')} = {column(Dossier, 'id', 'd')}"
        )

    (row,) = _fetch(cursor, statement(db, f"locked_legacy_file:{len(locks)}", build), [*params, caf_code, numero])
    caf, dossier, credential = _instances(db, "legacy_file", _LEGACY_FILE, row)
    if credential is not None:
        dossier.caf = caf
        credential.dossier = dossier
    return caf, credential


_PERSON_AND_CODE = (Person, PhoneCode)


def locked_person_and_live_code(
    cursor, *, locks: Sequence[tuple[int, int]], identifier_digests: Sequence[str]
) -> tuple[Person | None, PhoneCode | None]:
    """Takes ``locks``, then gives the person of these identifier digests (moncompte.identity:
    one per configured key; the lowest id if several) and their newest live phone code (neither
    used nor superseded): one statement, the same whether the person exists, has a live code or
    not. (The code is consumed by a conditional update: reading it before the lock is held is safe.)"""
    db = cursor.db
    relation, params = _locks_relation(db, locks)
    count = len(identifier_digests)

    def build() -> str:
        return (
            f"SELECT {columns((Person, 'p'), (PhoneCode, 'c'))} FROM {relation} l "  # noqa: S608
            f"LEFT JOIN {table(Person)} p "
            f"ON {column(Person, 'identifier_digest', 'p')} IN ({', '.join(['%s'] * count)}) "
            f"LEFT JOIN {table(PhoneCode)} c ON {column(PhoneCode, 'person', 'c')} = {column(Person, 'id', 'p')} "
            f"AND {column(PhoneCode, 'used_at', 'c')} IS NULL AND {column(PhoneCode, 'superseded_at', 'c')} IS NULL "
            f"ORDER BY {column(Person, 'id', 'p')}, {column(PhoneCode, 'created_at', 'c')} DESC, "
            f"{column(PhoneCode, 'id', 'c')} DESC LIMIT 1"
        )

    sql = statement(db, f"locked_person_and_live_code:{len(locks)}:{count}", build)
    (row,) = _fetch(cursor, sql, [*params, *identifier_digests])
    person, code = _instances(db, "person_and_live_code", _PERSON_AND_CODE, row)
    return person, code


_AT = (PhoneAttempt._meta.get_field("at"),)


def wrong_tries(
    cursor,
    *,
    line_key: str,
    target_key: str,
    since,
    legacy_file_key: str | None = None,
    legacy_since=None,
) -> tuple[list[tuple[str, str, object]], list[tuple[str, object]]]:
    """The phone's wrong tries since ``since`` from this line or on this target, (line key,
    target key, time) each; and, with ``legacy_file_key``, the file's wrong old codes since
    ``legacy_since`` on both channels (moncompte.accounts.legacy counts them), (client key,
    time) each. One statement for both; run it after the locks' statement, so that it sees
    what the previous holder committed."""
    db = cursor.db

    def build_phone() -> str:
        wrong = _literal(PhoneAttempt.Outcome.WRONG)
        return (
            f"SELECT 1, {column(PhoneAttempt, 'line_key', 'a')}, {column(PhoneAttempt, 'target_key', 'a')}, "  # noqa: S608
            f"{column(PhoneAttempt, 'at', 'a')} FROM {table(PhoneAttempt)} a "
            f"WHERE ({column(PhoneAttempt, 'line_key', 'a')} = %s OR {column(PhoneAttempt, 'target_key', 'a')} = %s) "
            f"AND {column(PhoneAttempt, 'outcome', 'a')} = {wrong} AND {column(PhoneAttempt, 'at', 'a')} > %s"
        )

    def build_both() -> str:
        wrong = _literal(LegacyCodeAttempt.Outcome.WRONG)
        return (
            f"{build_phone()} UNION ALL SELECT 2, {column(LegacyCodeAttempt, 'client_key', 'b')}, '', "  # noqa: S608
            f"{column(LegacyCodeAttempt, 'at', 'b')} FROM {table(LegacyCodeAttempt)} b "
            f"WHERE {column(LegacyCodeAttempt, 'file_key', 'b')} = %s "
            f"AND {column(LegacyCodeAttempt, 'outcome', 'b')} = {wrong} "
            f"AND {column(LegacyCodeAttempt, 'at', 'b')} > %s"
        )

    params = [line_key, target_key, _prepared(db, PhoneAttempt, "at", since)]
    if legacy_file_key is None:
        sql = statement(db, "wrong_tries", build_phone)
    else:
        sql = statement(db, "wrong_tries_and_legacy", build_both)
        params += [legacy_file_key, _prepared(db, LegacyCodeAttempt, "at", legacy_since)]
    phone, legacy = [], []
    for kind, key, target, at in _fetch(cursor, sql, params):
        (at,) = _converted(db, "wrong_tries", _AT, (at,))
        if kind == 1:
            phone.append((key, target, at))
        else:
            legacy.append((key, at))
    return phone, legacy


_HOUSEHOLD = (Member, Person)


def household(cursor, dossier_id: int) -> list[Member]:
    """Every membership row of the file, current or not, each with its person (``member.person``)."""

    def build() -> str:
        return (
            f"SELECT {columns((Member, 'm'), (Person, 'p'))} FROM {table(Member)} m "  # noqa: S608
            f"JOIN {table(Person)} p ON {column(Person, 'id', 'p')} = {column(Member, 'person', 'm')} "
            f"WHERE {column(Member, 'dossier', 'm')} = %s ORDER BY {column(Member, 'id', 'm')}"
        )

    db = cursor.db
    members = []
    for row in _fetch(cursor, statement(db, "household", build), [dossier_id]):
        member, person = _instances(db, "household", _HOUSEHOLD, row)
        member.person = person
        members.append(member)
    return members


def telephony_client(cursor, client_id: str) -> TelephonyClient | None:
    def build() -> str:
        return (
            f"SELECT {columns((TelephonyClient, 't'))} FROM {table(TelephonyClient)} t "  # noqa: S608
            f"WHERE {column(TelephonyClient, 'client_id', 't')} = %s"
        )

    db = cursor.db
    rows = _fetch(cursor, statement(db, "telephony_client", build), [client_id])
    return _instances(db, "telephony_client", (TelephonyClient,), rows[0])[0] if rows else None


_MEMBERSHIPS = (Member, Dossier, Caf)


def memberships(cursor, person_id: int) -> list[Member]:
    """Every membership row of the person, current or not, each with its file and the file's Caf
    (``member.dossier.caf``), in id order: what moncompte.access.policy.memberships_with_standing
    reads, in one plain statement."""

    def build() -> str:
        return (
            f"SELECT {columns((Member, 'm'), (Dossier, 'd'), (Caf, 'f'))} FROM {table(Member)} m "  # noqa: S608
            f"JOIN {table(Dossier)} d ON {column(Dossier, 'id', 'd')} = {column(Member, 'dossier', 'm')} "
            f"JOIN {table(Caf)} f ON {column(Caf, 'id', 'f')} = {column(Dossier, 'caf', 'd')} "
            f"WHERE {column(Member, 'person', 'm')} = %s ORDER BY {column(Member, 'id', 'm')}"
        )

    db = cursor.db
    found = []
    for row in _fetch(cursor, statement(db, "memberships", build), [person_id]):
        member, dossier, caf = _instances(db, "memberships", _MEMBERSHIPS, row)
        dossier.caf = caf
        member.dossier = dossier
        found.append(member)
    return found
