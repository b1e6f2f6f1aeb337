"""The web channel's session store: sessions in the database only, written once per sign-in.

**Why not in Redis** (docs/decisions.md, docs/operations.md "When Redis fails"). Django's
``cached_db`` keeps a copy of each session in the cache. When Redis is away, a session ended
meanwhile (a sign-out, a session ended from the sessions page, every session ended by a password
change) is deleted from the database but not from the cache; when Redis comes back with its data
(it was frozen, partitioned, or restarted from its snapshot) the copy is served again and the
person, or whoever holds the cookie, is signed in again. Trusting a cached copy safely needs a
look at the database on every read, which is exactly what the cache saves. So every read goes to
the database: one primary-key ``SELECT`` in plain SQL (about 0.25 ms of CPU, against 0.1 ms for
the Redis read it replaces), and a Redis outage changes nothing for sessions.

Written once per sign-in: Django's stores, for a visitor without a session who signs in, run an
existence query for the new random key, insert the empty session at ``login()`` (inside a
savepoint), then update it when the response leaves. Here:

- a new key is not looked up first: 32 characters out of 36 (about 165 bits) never repeat, and
  the insert refuses an existing key anyway (``CreateError``: a new key is drawn);
- ``cycle_key()`` on a session stored under no key (a visitor's first sign-in, or a cookie naming
  a session that does not exist) only draws the new key in memory: the session is inserted once,
  by SessionMiddleware, when the response leaves.

Session fixation protection is unchanged: a key that names a stored session (one planted in the
browser, say) is cycled by Django's own code, the old session deleted.

A cookie of any content is harmless: a key that is not made of the characters Django draws keys
from is no key at all (no query is made with it: a NUL byte would make PostgreSQL refuse it).
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DbStore
from django.db import connections, router
from django.utils import timezone
from django.utils.crypto import get_random_string

_KEY_CHARS = frozenset(VALID_KEY_CHARS)


class _Row:
    __slots__ = ("session_data",)

    def __init__(self, session_data: str) -> None:
        self.session_data = session_data


class SessionStore(DbStore):
    _insert_on_save = False

    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def _validate_session_key(self, key) -> bool:
        return isinstance(key, str) and 8 <= len(key) <= 40 and _KEY_CHARS.issuperset(key)

    def _get_session_from_db(self):
        # Django's read through the ORM, in plain SQL: this runs on every request with a session.
        if self.session_key is None:
            return None
        model = self.model
        connection = connections[router.db_for_read(model)]
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",  # noqa: S608 (the table's own name)
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return _Row(row[0])

    def cycle_key(self) -> None:
        data = self._session  # loading first: a key naming no stored session is dropped here
        if self.session_key is not None:
            super().cycle_key()
            return
        self._session_key = self._get_new_session_key()
        self._session_cache = data
        self._insert_on_save = True
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if not self._insert_on_save:
            super().save(must_create=must_create)
            return
        while True:
            try:
                super().save(must_create=True)
            except CreateError:
                # The drawn key is taken (never seen in practice): draw another before the cookie is set.
                self._session_key = self._get_new_session_key()
                continue
            self._insert_on_save = False
            return
