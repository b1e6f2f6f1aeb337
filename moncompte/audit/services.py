"""Writing to and verifying the access journal."""

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterator

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor

GENESIS = "0" * 64
# Any constant: chain N is ordered by the PostgreSQL advisory lock _CHAIN_LOCK_BASE + N.
_CHAIN_LOCK_BASE = 74511000


def session_ref(session_key: str | None) -> str:
    if not session_key:
        return ""
    return hmac.new(settings.MONCOMPTE_AUDIT_KEY.encode(), session_key.encode(), hashlib.sha256).hexdigest()[:32]


def _content(entry: JournalEntry) -> bytes:
    return json.dumps(
        [
            entry.chain,
            entry.at.isoformat(),
            entry.action,
            entry.actor_person_id,
            entry.subject_person_id,
            entry.dossier_id,
            entry.session_ref,
            entry.client_address,
            entry.detail,
        ]
        # Entries written before the channel was recorded keep the digest they were given.
        + ([entry.channel] if entry.channel else [])
        # So do entries without an agent, written before agents existed or since.
        + (["agent", entry.actor_agent_id] if entry.actor_agent_id else []),
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    ).encode()


def _chain(previous: str, entry: JournalEntry) -> str:
    return hmac.new(
        settings.MONCOMPTE_AUDIT_KEY.encode(), previous.encode() + b"|" + _content(entry), hashlib.sha256
    ).hexdigest()


def _chain_of_this_transaction() -> int:
    """One chain per transaction: a transaction writing several entries takes one chain lock
    only, so two transactions can never wait for each other's chains (no deadlock)."""
    outermost = connection.atomic_blocks[0]
    held = getattr(connection, "moncompte_audit_chain", None)
    if held is not None and held[0] is outermost:
        return held[1]
    chain = secrets.randbelow(settings.MONCOMPTE_AUDIT_CHAINS)
    connection.moncompte_audit_chain = (outermost, chain)
    return chain


_UNSET = object()


def journal_record(
    *,
    action: JournalAction,
    actor: Actor | None = None,
    subject_person=_UNSET,
    dossier=None,
    detail: dict | None = None,
) -> JournalEntry:
    """Append one entry, inside the caller's transaction if there is one.

    ``actor`` gives who acted, their session and address (None: nobody, as for a command);
    ``subject_person`` defaults to the person the actor acts for. ``action`` must be declared in
    moncompte.audit.actions.

    The entry goes to one of MONCOMPTE_AUDIT_CHAINS chains, drawn at random. Appends to one chain
    are serialized (an advisory lock on PostgreSQL, SQLite's IMMEDIATE transactions) so that each
    entry chains on the true previous one; the lock is held only until commit, and appends to
    different chains do not wait for each other.
    """
    action = JournalAction(action)  # an undeclared action is a programming error: ValueError
    actor = actor or Actor.system()
    if subject_person is _UNSET:
        subject_person = actor.subject
    # No savepoint inside the caller's transaction: one round trip less, same atomicity.
    with transaction.atomic(savepoint=False):
        chain = _chain_of_this_transaction()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Its own statement: the read below then takes its snapshot once the lock is held,
                # so it sees the entry the previous holder committed.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_BASE + chain])
            cursor.execute(_previous_sql(), [chain])
            row = cursor.fetchone()
            entry = JournalEntry(
                chain=chain,
                at=timezone.now(),
                action=action.value,
                channel=actor.channel,
                actor_person=actor.person,
                actor_agent=actor.agent,
                subject_person=subject_person,
                dossier=dossier,
                session_ref=session_ref(actor.session_key),
                client_address=actor.client_address or None,
                detail=detail or {},
            )
            # Serialize the detail the way the database will give it back.
            entry.detail = json.loads(json.dumps(entry.detail, default=str))
            entry.chain_digest = _chain(row[0] if row else GENESIS, entry)
            _insert(cursor, entry)
        return entry


# The append in plain SQL: two statements besides the lock, where the ORM's save() and .first()
# cost about 1.4 ms of CPU per entry to compile (docs/benchmarks.md). Built from the model's own
# fields and their database preparation, so a column added to JournalEntry is written too.
_statements: dict[str, str] = {}


def _previous_sql() -> str:
    if "previous" not in _statements:
        table = connection.ops.quote_name(JournalEntry._meta.db_table)
        _statements["previous"] = f"SELECT chain_digest FROM {table} WHERE chain = %s ORDER BY id DESC LIMIT 1"  # noqa: S608
    return _statements["previous"]


def _insert_fields():
    return [f for f in JournalEntry._meta.concrete_fields if not f.primary_key]


def _insert(cursor, entry: JournalEntry) -> None:
    fields = _insert_fields()
    key = f"insert:{connection.vendor}"
    if key not in _statements:
        table = connection.ops.quote_name(JournalEntry._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        returning = ""
        if connection.features.can_return_columns_from_insert:
            returning = f" RETURNING {connection.ops.quote_name(JournalEntry._meta.pk.column)}"
        placeholders = ", ".join(["%s"] * len(fields))
        _statements[key] = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}){returning}"  # noqa: S608
    values = [f.get_db_prep_save(f.pre_save(entry, add=True), connection) for f in fields]
    cursor.execute(_statements[key], values)
    entry.pk = cursor.fetchone()[0] if connection.features.can_return_columns_from_insert else cursor.lastrowid
    entry._state.adding = False
    entry._state.db = connection.alias


def journal_verify(batch_size: int = 5000) -> Iterator[tuple[int, bool]]:
    """Yield (entry id, intact) along every chain; a False marks where a chain was broken."""
    chains = JournalEntry.objects.values_list("chain", flat=True).distinct().order_by("chain")
    for chain in list(chains):
        previous = GENESIS
        last_id = 0
        while True:
            batch = list(JournalEntry.objects.filter(chain=chain, id__gt=last_id).order_by("id")[:batch_size])
            if not batch:
                break
            for entry in batch:
                intact = hmac.compare_digest(entry.chain_digest, _chain(previous, entry))
                yield entry.id, intact
                previous = entry.chain_digest
                last_id = entry.id
