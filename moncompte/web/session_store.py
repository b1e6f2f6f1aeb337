"""The web channel's session store: Django's ``cached_db`` (Redis in front of PostgreSQL, so a
Redis outage loses no session), written once per sign-in instead of three statements and twice.

Django's stores, for a visitor without a session who signs in, run an existence query for the
new random key, insert the empty session at ``login()`` (inside a savepoint), then update it when
the response leaves. Here:

- a new key is not looked up first: 32 characters out of 36 (about 165 bits) never repeat, and
  the insert refuses an existing key anyway (``CreateError``: a new key is drawn);
- ``cycle_key()`` on a session stored under no key (a visitor's first sign-in, or a cookie naming
  a session that does not exist) only draws the new key in memory; the session is inserted once,
  by SessionMiddleware, when the response leaves.

Session fixation protection is unchanged: a key that names a stored session (one planted in the
browser, say) is cycled by Django's own code, the old session deleted.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbStore
from django.utils.crypto import get_random_string


class SessionStore(CachedDbStore):
    _insert_on_save = False

    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

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
