"""Identifiers are stored as a keyed digest and an authenticated ciphertext, never in clear."""

import base64
import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import ImproperlyConfigured

from moncompte.identity.identifiers import new_provisional_identifier, parse_identifier
from moncompte.identity.protection import (
    ASSOCIATED_DATA,
    check_configuration,
    current_encryption_key_id,
    current_hmac_key_id,
    decrypt_identifier,
    encrypt_identifier,
    generate_encryption_key,
    generate_hmac_key,
    identifier_digest,
    identifier_digests,
    needs_rotation,
    protect_identifier,
    reencrypt_identifier,
    token_key_id,
)

NIR = "2850575115042"
CORSICA = "290022A004021"
OLD_HMAC_SECRET = "old-hmac-secret-for-tests-only-0123456789"
NEW_HMAC_SECRET = "new-hmac-secret-for-tests-only-9876543210"
OLD_AES_KEY = bytes(range(32))
NEW_AES_KEY = bytes(range(100, 132))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def old_keys(settings):
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = [f"old:{OLD_HMAC_SECRET}"]
    settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = [f"old:{b64url(OLD_AES_KEY)}"]
    return settings


def rotate(settings):
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = [f"new:{NEW_HMAC_SECRET}", f"old:{OLD_HMAC_SECRET}"]
    settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = [f"new:{b64url(NEW_AES_KEY)}", f"old:{b64url(OLD_AES_KEY)}"]


# --- Digests -----------------------------------------------------------------------------------


def test_digest_is_the_hmac_sha256_of_the_canonical_value(old_keys):
    digest = identifier_digest(NIR)
    assert digest == hmac.new(OLD_HMAC_SECRET.encode(), NIR.encode(), hashlib.sha256).hexdigest()
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert identifier_digest(NIR) == digest


def test_digests_differ_between_identifiers(old_keys):
    values = [NIR, CORSICA, "290022B004021", new_provisional_identifier().value]
    assert len({identifier_digest(v) for v in values}) == len(values)


def test_digest_is_the_same_whatever_was_typed(old_keys):
    typed = ["2 85 05 75 115 042 95", "2.85.05.75.115.042", "285057511504295"]
    assert {identifier_digest(parse_identifier(t).value) for t in typed} == {identifier_digest(NIR)}


@pytest.mark.parametrize("value", ["2 85 05 75 115 042", "285057511504295", "290022a004021", "p0000000000", ""])
def test_non_canonical_values_are_refused(old_keys, value):
    for function in (identifier_digest, identifier_digests, encrypt_identifier):
        with pytest.raises(ValueError) as caught:
            function(value)
        assert value not in str(caught.value) or value == ""


def test_digests_during_a_rotation(old_keys):
    old_digest = identifier_digest(NIR)
    assert identifier_digests(NIR) == [old_digest]
    rotate(old_keys)
    digests = identifier_digests(NIR)
    assert len(digests) == 2
    assert digests[0] == identifier_digest(NIR) != old_digest
    assert digests[1] == old_digest
    assert current_hmac_key_id() == "new"


def test_digest_depends_on_the_key(settings):
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = [f"a:{OLD_HMAC_SECRET}"]
    first = identifier_digest(NIR)
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = [f"a:{NEW_HMAC_SECRET}"]
    assert identifier_digest(NIR) != first


# --- Encryption --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [NIR, CORSICA, "7112312345678"])
def test_round_trip(old_keys, value):
    token = encrypt_identifier(value)
    assert decrypt_identifier(token) == value
    assert parse_identifier(decrypt_identifier(token)).value == value


def test_provisional_round_trip(old_keys):
    identifier = new_provisional_identifier()
    assert parse_identifier(decrypt_identifier(encrypt_identifier(identifier.value))) == identifier


def test_token_shape(old_keys):
    token = encrypt_identifier(NIR)
    assert token.isascii()
    key_id, separator, payload = token.partition("$")
    assert (key_id, separator) == ("old", "$")
    assert set(payload) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    # 12-byte nonce + 13-byte ciphertext + 16-byte tag.
    assert len(unb64url(payload)) == 12 + 13 + 16
    assert len(token) == len("old") + 56
    assert token_key_id(token) == "old"


def test_token_is_aes_gcm_with_the_documented_associated_data(old_keys):
    raw = unb64url(encrypt_identifier(NIR).partition("$")[2])
    assert AESGCM(OLD_AES_KEY).decrypt(raw[:12], raw[12:], b"moncompte.identifier") == NIR.encode()
    assert ASSOCIATED_DATA == b"moncompte.identifier"


def test_no_clear_value_in_the_token(old_keys):
    for value in (NIR, CORSICA):
        token = encrypt_identifier(value)
        raw = unb64url(token.partition("$")[2])
        assert value not in token
        assert value[:7] not in token
        assert value.encode() not in raw
        assert value[:7].encode() not in raw


def test_each_encryption_uses_a_fresh_nonce(old_keys):
    tokens = {encrypt_identifier(NIR) for _ in range(50)}
    assert len(tokens) == 50
    assert len({unb64url(t.partition("$")[2])[:12] for t in tokens}) == 50


def test_padded_keys_are_accepted(settings):
    settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = ["k:" + base64.urlsafe_b64encode(OLD_AES_KEY).decode()]
    assert decrypt_identifier(encrypt_identifier(NIR)) == NIR


# --- Tampering ---------------------------------------------------------------------------------


def flip(token: str, index: int) -> str:
    key_id, _, payload = token.partition("$")
    raw = bytearray(unb64url(payload))
    raw[index] ^= 0x01
    return f"{key_id}${b64url(bytes(raw))}"


def test_every_altered_byte_is_detected(old_keys):
    token = encrypt_identifier(NIR)
    for index in range(12 + 13 + 16):
        with pytest.raises(ValueError):
            decrypt_identifier(flip(token, index))


@pytest.mark.parametrize(
    "alter",
    [
        lambda t: t[:-4],  # truncated
        lambda t: t + "AAAA",  # extended
        lambda t: t.partition("$")[0] + "$",  # no payload
        lambda t: t.partition("$")[0] + "$" + "A" * 20,  # too short to hold a nonce and a tag
        lambda t: t.replace("$", ":"),  # no separator
        lambda t: t.partition("$")[2],  # no key id
        lambda t: "unknown$" + t.partition("$")[2],  # unknown key id
        lambda t: t[:-1] + "*",  # not base64url
        lambda t: t[:-1] + "é",  # not ASCII
        lambda t: "",
    ],
)
def test_altered_tokens_raise_value_error(old_keys, alter):
    with pytest.raises(ValueError):
        decrypt_identifier(alter(encrypt_identifier(NIR)))


def test_other_associated_data_is_rejected(old_keys):
    nonce = bytes(12)
    forged = AESGCM(OLD_AES_KEY).encrypt(nonce, NIR.encode(), b"another.purpose")
    with pytest.raises(ValueError):
        decrypt_identifier("old$" + b64url(nonce + forged))


def test_token_moved_to_another_key_id_is_rejected(old_keys):
    rotate(old_keys)
    token = encrypt_identifier(NIR)
    with pytest.raises(ValueError):
        decrypt_identifier("old$" + token.partition("$")[2])


def test_token_of_a_removed_key_is_rejected(old_keys):
    token = encrypt_identifier(NIR)
    old_keys.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = [f"new:{b64url(NEW_AES_KEY)}"]
    with pytest.raises(ValueError, match="unknown identifier encryption key id"):
        decrypt_identifier(token)


# --- Rotation ----------------------------------------------------------------------------------


def test_rotation_keeps_old_tokens_readable(old_keys):
    old_token = encrypt_identifier(NIR)
    assert not needs_rotation(old_token)
    rotate(old_keys)
    assert current_encryption_key_id() == "new"
    assert decrypt_identifier(old_token) == NIR
    assert needs_rotation(old_token)

    new_token = reencrypt_identifier(old_token)
    assert token_key_id(new_token) == "new"
    assert decrypt_identifier(new_token) == NIR
    assert not needs_rotation(new_token)
    assert reencrypt_identifier(new_token) == new_token

    # Once every token is re-encrypted the old key can go.
    old_keys.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = [f"new:{b64url(NEW_AES_KEY)}"]
    assert decrypt_identifier(new_token) == NIR


def test_new_tokens_use_the_current_key(old_keys):
    rotate(old_keys)
    assert token_key_id(encrypt_identifier(NIR)) == "new"


def test_protect_identifier(old_keys):
    protected = protect_identifier(CORSICA)
    assert protected.digest == identifier_digest(CORSICA)
    assert decrypt_identifier(protected.token) == CORSICA
    digest, token = protected
    assert (digest, token) == (protected.digest, protected.token)


# --- Configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hmac_keys",
    [
        [],
        "k:" + "s" * 40,  # a bare string instead of a list
        ["k:short"],  # secret under 32 characters
        ["no-separator" + "s" * 40],
        [":" + "s" * 40],  # empty key id
        ["bad$id:" + "s" * 40],  # "$" would break tokens
        ["k:" + "s" * 40, "k:" + "t" * 40],  # duplicate key id
        [None],
    ],
)
def test_bad_hmac_keys(settings, hmac_keys):
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = hmac_keys
    with pytest.raises(ImproperlyConfigured):
        identifier_digest(NIR)
    with pytest.raises(ImproperlyConfigured):
        check_configuration()


@pytest.mark.parametrize(
    "encryption_keys",
    [
        [],
        ["k:" + b64url(bytes(16))],  # AES-128 key
        ["k:" + b64url(bytes(33))],
        ["k:not base64!"],
        ["k:" + b64url(OLD_AES_KEY), "k:" + b64url(NEW_AES_KEY)],
        ["k"],
    ],
)
def test_bad_encryption_keys(old_keys, encryption_keys):
    old_keys.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = encryption_keys
    with pytest.raises(ImproperlyConfigured):
        encrypt_identifier(NIR)


def test_missing_settings(settings):
    del settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS
    del settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS
    with pytest.raises(ImproperlyConfigured):
        identifier_digest(NIR)
    with pytest.raises(ImproperlyConfigured):
        encrypt_identifier(NIR)


def test_configuration_errors_never_show_the_secret(settings):
    secret = "short-secret-x"
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = [f"k:{secret}"]
    with pytest.raises(ImproperlyConfigured) as caught:
        identifier_digest(NIR)
    assert secret not in str(caught.value)

    settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = ["k:" + b64url(b"sixteen-byte-key")]
    with pytest.raises(ImproperlyConfigured) as caught:
        encrypt_identifier(NIR)
    assert b64url(b"sixteen-byte-key") not in str(caught.value)


def test_generated_keys_are_usable(settings):
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = [generate_hmac_key("2025-01")]
    settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = [generate_encryption_key("2025-01")]
    check_configuration()
    assert current_hmac_key_id() == current_encryption_key_id() == "2025-01"
    assert decrypt_identifier(encrypt_identifier(NIR)) == NIR
    assert generate_encryption_key("a") != generate_encryption_key("a")
    with pytest.raises(ValueError):
        generate_hmac_key("bad id")
