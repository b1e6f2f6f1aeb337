"""Sealing of message bodies: AES-256-GCM under a key derived from MONCOMPTE_MESSAGE_KEY.

Bodies hold one-time codes and identifiers, so they are never written in clear. The stored blob
is ``version byte | 12-byte nonce | ciphertext and tag``; the associated data binds a blob to
its row (a sealed body copied to another row does not open).
"""

import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_VERSION = b"\x01"
_NONCE_BYTES = 12


class UnsealError(Exception):
    """The blob was not sealed with the current key or was altered."""


@functools.lru_cache(maxsize=4)
def _aead(secret: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"moncompte/message-body/v1").derive(
        secret.encode()
    )
    return AESGCM(key)


def seal(plaintext: str, *, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + _aead(settings.MONCOMPTE_MESSAGE_KEY).encrypt(nonce, plaintext.encode(), aad)


def unseal(blob: bytes, *, aad: bytes) -> str:
    blob = bytes(blob)
    if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _VERSION:
        raise UnsealError("Unknown or truncated sealed body.")
    nonce, ciphertext = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return _aead(settings.MONCOMPTE_MESSAGE_KEY).decrypt(nonce, ciphertext, aad).decode()
    except InvalidTag as exc:
        raise UnsealError("The sealed body does not open with the current key.") from exc
