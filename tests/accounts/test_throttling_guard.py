"""The device token escapes the per-identifier counter only when it is genuine and was given for
that very identifier (docs/security.md, "Throttling"): a forged token, or the token a stranger got
for their own account, is counted like no token at all. Fails if the token's HMAC, or its binding
to the identifier, is no longer checked."""

from django.test import Client

from moncompte.accounts.throttling import DEVICE_COOKIE_NAME
from tests.conftest import sign_in

WRONG_PASSWORD = "Mauvais2021mot"


def _hammer(client, identifier, settings) -> None:
    for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER + 1):
        assert sign_in(client, identifier, WRONG_PASSWORD).status_code == 401


def test_a_forged_device_token_is_counted_per_identifier(family, settings):
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    stranger.cookies[DEVICE_COOKIE_NAME] = "forgednonce.0123456789abcdef0123456789abcdef"
    _hammer(stranger, family.spouse.identifier, settings)
    assert sign_in(stranger, *family.spouse.credentials).status_code == 429


def test_the_device_token_of_another_account_is_counted_per_identifier(family, settings):
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    # A genuine token, but given to this browser for the responsible person's identifier.
    assert sign_in(stranger, *family.responsible.credentials).status_code == 302
    assert DEVICE_COOKIE_NAME in stranger.cookies
    stranger.post("/deconnexion/")
    _hammer(stranger, family.spouse.identifier, settings)
    assert sign_in(stranger, *family.spouse.credentials).status_code == 429


def test_fresh_forged_tokens_do_not_give_fresh_counters(family, settings):
    """Each failure with a new forged token is still counted on the identifier."""
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    for index in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER + 1):
        stranger.cookies[DEVICE_COOKIE_NAME] = f"forged{index}.0123456789abcdef0123456789abcdef"
        assert sign_in(stranger, family.spouse.identifier, WRONG_PASSWORD).status_code == 401
    stranger.cookies[DEVICE_COOKIE_NAME] = "forgedlast.0123456789abcdef0123456789abcdef"
    assert sign_in(stranger, *family.spouse.credentials).status_code == 429


def test_genuine_tokens_of_another_account_do_not_give_fresh_counters(family, settings):
    """A stranger collecting real tokens from their own account cannot use them on someone else's."""
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    tokens = []
    for _ in range(settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER + 2):
        stranger.cookies.pop(DEVICE_COOKIE_NAME, None)
        assert sign_in(stranger, *family.responsible.credentials).status_code == 302
        tokens.append(stranger.cookies[DEVICE_COOKIE_NAME].value)
        stranger.post("/deconnexion/")
    for token in tokens[:-1]:
        stranger.cookies[DEVICE_COOKIE_NAME] = token
        assert sign_in(stranger, family.spouse.identifier, WRONG_PASSWORD).status_code == 401
    stranger.cookies[DEVICE_COOKIE_NAME] = tokens[-1]
    assert sign_in(stranger, *family.spouse.credentials).status_code == 429
