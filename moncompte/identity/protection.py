"""Keeping identifiers (NIR, NIA, NNP, provisional) out of the database in clear.

Each person's canonical identifier (``Identifier.value``) is stored twice, never in clear:

- a **digest**, HMAC-SHA256 under a secret key, 64 hex characters, for exact look-ups
  (a plain hash would be reversed by enumerating the few billion plausible NIRs);
- a **token**, AES-256-GCM ciphertext, to show the identifier back to its holder or send it to a
  partner: ``"<keyid>$" + base64url(nonce + ciphertext)``, unpadded ASCII. For a 13-character
  value the token is ``len(keyid) + 56`` characters long.

Keys come from two settings, lists whose first entry is the current key:

- ``MONCOMPTE_IDENTIFIER_HMAC_KEYS``: ``"keyid:secret"``, the secret at least 32 characters;
- ``MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS``: ``"keyid:<base64url of 32 random bytes>"``.

Key ids are 1 to 32 characters among letters, digits, ``_``, ``.`` and ``-``.

Rotation: put the new key first and keep the old ones after it. Look-ups use
``identifier_digests`` (one digest per key) so that nobody is lost meanwhile; a rotation job
then re-encrypts each token whose ``needs_rotation`` is true (``reencrypt_identifier``) and
recomputes each digest from the decrypted value (``identifier_digest``). Once every row is done,
the old keys are removed from the settings.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from moncompte.identity.identifiers import is_canonical_value

__all__ = [
    "ASSOCIATED_DATA",
    "ProtectedIdentifier",
    "check_configuration",
    "current_encryption_key_id",
    "current_hmac_key_id",
    "decrypt_identifier",
    "encrypt_identifier",
    "generate_encryption_key",
    "generate_hmac_key",
    "identifier_digest",
    "identifier_digests",
    "needs_rotation",
    "protect_identifier",
    "reencrypt_identifier",
    "token_key_id",
]

ASSOCIATED_DATA = b"moncompte.identifier"
NONCE_BYTES = 12
TAG_BYTES = 16
ENCRYPTION_KEY_BYTES = 32
MIN_HMAC_SECRET_CHARS = 32
KEY_ID_SEPARATOR = "$"
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")


@dataclass(frozen=True)
class _Key:
    key_id: str
    secret: bytes = field(repr=False)


class ProtectedIdentifier(NamedTuple):
    digest: str
    token: str


def _entries(setting_name: str) -> list[tuple[str, str]]:
    entries = getattr(settings, setting_name, None)
    # A bare string would be iterated character by character: refuse it loudly.
    if isinstance(entries, str) or not isinstance(entries, (list, tuple)) or not entries:
        raise ImproperlyConfigured(f"{setting_name} must be a non-empty list of 'keyid:secret' strings.")
    parsed: list[tuple[str, str]] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries):
        key_id, sep, secret = entry.partition(":") if isinstance(entry, str) else ("", "", "")
        # Messages name the position and key id only, never the secret.
        if not sep or not _KEY_ID.fullmatch(key_id):
            raise ImproperlyConfigured(
                f"{setting_name}[{position}] must look like 'keyid:secret', the key id made of "
                "1 to 32 letters, digits, '_', '.' or '-'."
            )
        if key_id in seen:
            raise ImproperlyConfigured(f"{setting_name}: the key id {key_id!r} appears twice.")
        seen.add(key_id)
        parsed.append((key_id, secret))
    return parsed


def _hmac_keys() -> list[_Key]:
    return _parsed_keys("MONCOMPTE_IDENTIFIER_HMAC_KEYS")


def _encryption_keys() -> list[_Key]:
    return _parsed_keys("MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS")


def _parsed_keys(setting_name: str) -> list[_Key]:
    """The keys of a setting, parsed and checked once per distinct value of the setting (a hot
    path: every sign-in and every imported member), so a settings override still takes effect."""
    entries = getattr(settings, setting_name, None)
    frozen = tuple(entries) if isinstance(entries, list | tuple) else entries
    try:
        return _parse_cached(setting_name, frozen)
    except TypeError:  # unhashable garbage: let the checks below say what is wrong
        return _PARSERS[setting_name]()


@functools.lru_cache(maxsize=16)
def _parse_cached(setting_name: str, frozen) -> tuple[_Key, ...]:
    return tuple(_PARSERS[setting_name]())


def _parse_hmac_keys() -> list[_Key]:
    keys = []
    for key_id, secret in _entries("MONCOMPTE_IDENTIFIER_HMAC_KEYS"):
        if len(secret) < MIN_HMAC_SECRET_CHARS:
            raise ImproperlyConfigured(
                f"MONCOMPTE_IDENTIFIER_HMAC_KEYS: the secret of key {key_id!r} must be at least "
                f"{MIN_HMAC_SECRET_CHARS} characters long."
            )
        keys.append(_Key(key_id, secret.encode("utf-8")))
    return keys


def _parse_encryption_keys() -> list[_Key]:
    keys = []
    for key_id, encoded in _entries("MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS"):
        try:
            secret = _b64decode(encoded)
        except ValueError:
            secret = b""
        if len(secret) != ENCRYPTION_KEY_BYTES:
            raise ImproperlyConfigured(
                f"MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS: key {key_id!r} must be the base64url "
                f"encoding of {ENCRYPTION_KEY_BYTES} random bytes."
            )
        keys.append(_Key(key_id, secret))
    return keys


_PARSERS = {
    "MONCOMPTE_IDENTIFIER_HMAC_KEYS": _parse_hmac_keys,
    "MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS": _parse_encryption_keys,
}


@functools.lru_cache(maxsize=16)
def _aead(secret: bytes) -> AESGCM:
    return AESGCM(secret)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    # Strict: urlsafe_b64decode would silently skip characters outside the alphabet.
    try:
        data = text.encode("ascii")
        return base64.b64decode(data + b"=" * (-len(data) % 4), altchars=b"-_", validate=True)
    except (UnicodeEncodeError, binascii.Error) as error:
        raise ValueError("not base64url") from error


def _require_canonical(value: str) -> bytes:
    # A digest of "2 85 05 ..." or "2a..." would never match the stored one: fail loudly instead.
    if not isinstance(value, str) or not is_canonical_value(value):
        raise ValueError("expected a canonical identifier value (Identifier.value)")
    return value.encode("ascii")


def _digest(key: _Key, message: bytes) -> str:
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()


def identifier_digest(value: str) -> str:
    """The look-up digest of a canonical identifier value under the current HMAC key."""
    return _digest(_hmac_keys()[0], _require_canonical(value))


def identifier_digests(value: str) -> list[str]:
    """The digest under every configured HMAC key, current first, for look-ups during a rotation."""
    message = _require_canonical(value)
    return [_digest(key, message) for key in _hmac_keys()]


def encrypt_identifier(value: str) -> str:
    """An authenticated ciphertext of a canonical identifier value under the current key."""
    message = _require_canonical(value)
    key = _encryption_keys()[0]
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = _aead(key.secret).encrypt(nonce, message, ASSOCIATED_DATA)
    return f"{key.key_id}{KEY_ID_SEPARATOR}{_b64encode(nonce + ciphertext)}"


def token_key_id(token: str) -> str:
    """The id of the key a token was encrypted with. Raises ValueError on a malformed token."""
    if not isinstance(token, str):
        raise ValueError("malformed identifier token")
    key_id, sep, _payload = token.partition(KEY_ID_SEPARATOR)
    if not sep or not _KEY_ID.fullmatch(key_id):
        raise ValueError("malformed identifier token")
    return key_id


def decrypt_identifier(token: str) -> str:
    """The canonical value inside a token. Raises ValueError if the key is unknown or the
    token was altered."""
    key_id = token_key_id(token)
    keys = {key.key_id: key for key in _encryption_keys()}
    if key_id not in keys:
        raise ValueError(f"unknown identifier encryption key id {key_id!r}")
    raw = _b64decode(token.partition(KEY_ID_SEPARATOR)[2])
    if len(raw) <= NONCE_BYTES + TAG_BYTES:
        raise ValueError("malformed identifier token")
    try:
        plaintext = _aead(keys[key_id].secret).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], ASSOCIATED_DATA)
    except InvalidTag:
        raise ValueError("identifier token failed authentication") from None
    return plaintext.decode("ascii")


def protect_identifier(value: str) -> ProtectedIdentifier:
    """Both stored forms of a canonical identifier value: (digest, token)."""
    return ProtectedIdentifier(digest=identifier_digest(value), token=encrypt_identifier(value))


def current_hmac_key_id() -> str:
    return _hmac_keys()[0].key_id


def current_encryption_key_id() -> str:
    return _encryption_keys()[0].key_id


def needs_rotation(token: str) -> bool:
    """Whether a token was encrypted with another key than the current one."""
    return token_key_id(token) != current_encryption_key_id()


def reencrypt_identifier(token: str) -> str:
    """The token under the current key (the same token if it already is)."""
    if not needs_rotation(token):
        return token
    return encrypt_identifier(decrypt_identifier(token))


def check_configuration() -> None:
    """Raise ImproperlyConfigured if either key list is missing or malformed."""
    _hmac_keys()
    _encryption_keys()


def generate_hmac_key(key_id: str) -> str:
    """A new entry for MONCOMPTE_IDENTIFIER_HMAC_KEYS."""
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError("key id: 1 to 32 letters, digits, '_', '.' or '-'")
    return f"{key_id}:{secrets.token_urlsafe(48)}"


def generate_encryption_key(key_id: str) -> str:
    """A new entry for MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS."""
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError("key id: 1 to 32 letters, digits, '_', '.' or '-'")
    return f"{key_id}:{_b64encode(secrets.token_bytes(ENCRYPTION_KEY_BYTES))}"
