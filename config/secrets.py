"""The secrets of Mon Compte, listed once (docs/configuration.md#secrets).

Every secret setting is read from its environment variable by ``config.settings`` through
``read_secret``; the production refusal to start (``missing_in_production``), the test server
harness (tests/support/server.py) and the benchmark enumerate them from ``SECRETS``. A secret
missing here cannot be read by the settings, so none can be added without being listed.

On a laptop each secret has a fixed development value: public on purpose, it protects nothing
and production refuses to run without a real one. Importable without Django settings.
"""

import os
from collections.abc import Iterable, Mapping
from typing import NamedTuple


class Secret(NamedTuple):
    setting: str  # the name in django.conf.settings
    variable: str  # the environment variable it is read from
    development: str  # the public value used when the variable is not set outside production
    is_list: bool = False  # comma-separated "keyid:secret" entries, current first


SECRETS: tuple[Secret, ...] = (
    Secret("SECRET_KEY", "DJANGO_SECRET_KEY", "dev-only-insecure-secret-key-do-not-use-in-production"),
    Secret(
        "MONCOMPTE_IDENTIFIER_HMAC_KEYS",
        "MONCOMPTE_IDENTIFIER_HMAC_KEYS",
        "dev1:dev-only-identifier-hmac-key-not-secret-0123456789",
        is_list=True,
    ),
    Secret(
        "MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS",
        "MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS",
        "dev1:ZGV2LW9ubHktaWRlbnRpZmllci1hZXMta2V5LTAwMDA=",
        is_list=True,
    ),
    Secret("MONCOMPTE_LEGACY_CODE_KEY", "MONCOMPTE_LEGACY_CODE_KEY", "dev-only-legacy-code-key-not-secret"),
    Secret("MONCOMPTE_AUDIT_KEY", "MONCOMPTE_AUDIT_KEY", "dev-only-audit-chain-key-not-secret"),
    Secret("MONCOMPTE_MESSAGE_KEY", "MONCOMPTE_MESSAGE_KEY", "dev-only-message-body-key-not-secret"),
    Secret("MONCOMPTE_CODE_KEY", "MONCOMPTE_CODE_KEY", "dev-only-one-time-code-key-not-secret"),
    Secret("MONCOMPTE_SMS_TOKEN", "MONCOMPTE_SMS_TOKEN", "dev-only-sms-token-not-secret"),
    Secret("MONCOMPTE_INVITATION_KEY", "MONCOMPTE_INVITATION_KEY", "dev-only-invitation-key-not-secret"),
    # The partners' bearer tokens (docs/partners.md); the development ones are the simulator's.
    Secret("MONCOMPTE_PARTNER_IMPOTS_TOKEN", "MONCOMPTE_PARTNER_IMPOTS_TOKEN", "demo-impots"),
    Secret("MONCOMPTE_PARTNER_FRANCE_TRAVAIL_TOKEN", "MONCOMPTE_PARTNER_FRANCE_TRAVAIL_TOKEN", "demo-france_travail"),
    Secret("MONCOMPTE_PARTNER_DRM_TOKEN", "MONCOMPTE_PARTNER_DRM_TOKEN", "demo-drm"),
    Secret(
        "MONCOMPTE_PARTNER_QUOTIENT_FAMILIAL_TOKEN",
        "MONCOMPTE_PARTNER_QUOTIENT_FAMILIAL_TOKEN",
        "demo-quotient_familial",
    ),
    # FranceConnect's client secret (docs/franceconnect.md): needed only when FranceConnect is on.
    Secret(
        "MONCOMPTE_FRANCECONNECT_CLIENT_SECRET",
        "MONCOMPTE_FRANCECONNECT_CLIENT_SECRET",
        "dev-only-franceconnect-client-secret-not-secret",
    ),
    # Our OpenID provider (docs/api.md): the RSA key signing the id_tokens (PEM, "\n" accepted for
    # its line breaks), and the key of the HMAC giving each person an opaque and stable "sub".
    Secret(
        "MONCOMPTE_OIDC_RSA_PRIVATE_KEY",
        "MONCOMPTE_OIDC_RSA_PRIVATE_KEY",
        # A public development key, generated for this repository: it signs nothing that matters.
        (
            "-----BEGIN PRIVATE KEY-----\n"
            "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDjrMiOxo25ttJo\n"
            "Q98/CrW82GsbcCyA4DM/XHEpVHEvVajedS/KhDcvSuWuw5icjvkyPtSZyTKR+gMq\n"
            "RTbrM08PaL5SAjOQ6F0d10pLD7se6VAk+ZrkSfDXOeZawWWHaKD+74ddU0uVU4XN\n"
            "H+N2yUq1E9EsYXT035UWAyu+KdzgWz+OtIeIfDQfZIJFuYXwFNkCkegPruxuzwHS\n"
            "hpMTomqEc8MMWIA+9OpOFzH97XtswTfq3vgv6+iLXGiNJX66/iWz2sMWcaq03uef\n"
            "adKSp6anvEfRlhFJAM6AMoyjJChJxsJRgecbW1bsk6vjkqRORtiXP/wphYmTrSF4\n"
            "9tyG+pJXAgMBAAECggEAB3bAInIe7lIwhquG85WhzJ2ZsU4Vn2n6NB8PNKgoh8E6\n"
            "poRX+z8nYf0GF5sg8yz6vWty49HFPyTfmrCnMsG9W0d3Sc/5qcv8VYCb1mcfHs3O\n"
            "S1AFhGtqIlwrEZmafvxunrzyhpw285/H2KgteFT0BoiuSFKvl2GHDTAwbG0J6S70\n"
            "ybt2o6M0F70DnHWdpwZbjYP70PC+Z8+mv9iKMeD9iCWvCTtaBYhHjGnq/A89yvFy\n"
            "N+fYn/ZCLHtHS1Fts9nJAIPE0nuFea1T8ZDdAksp3/qW3l88ss50HVqqd5e7XWiT\n"
            "oRU4U9Lhgqzo+wQ9G0XAPz2U+/WFg4EPYw8yhivmuQKBgQD48reCdcRUYP/4sY13\n"
            "FqQwXlGWnIYKZ/pzCbQKBowaxpjqaX0P48PRtnPG/huXhpjrguiPX/yf5e9KUqk/\n"
            "J2IyVSOaXy8vzbJpJuz3r3yq+Q3IWS+FGZ7jYw+TL21Vyu4Eg5zAuQOOR53fxkN4\n"
            "JFffzD8qSWooh3V8toYWZBc93wKBgQDqH80TeoTooKa+qiD2pQL4IbcDti0SVi3q\n"
            "S1Hnqw/UC2XQ9frOM/RgxqXuqnq/W1DZzHXW/fEODc9TqDLZAyNELfMcxUde0aFt\n"
            "n4iF6aQkPKgU88VTSM2znImG2w452AogNJ90yBMco/Tx1cqZqfrxw5OW48zNDog0\n"
            "NJQ2RlhKiQKBgBiXkX03uP9E3cRpdboP6IRGrPSd3bflcZ4vlTNwViLG/5AYf5w0\n"
            "OcHbrjA4Je2gBDcvpV2Uc9Yv1qWW6NUuRMsIEg5L3NNyFG/CwqHtGfmhxLTH6qPR\n"
            "VhrMTFuT0c8pzr1vauq23B0QAg56/Ws+29dly8+XlP8P8pExTqmjlZAtAoGAHEwF\n"
            "rFIFmFw6axcC7uyYxEbG6PLu1aWG3SeHWbnKKvXJs4zXaG7NHZlE2ujN9yzhQ8G7\n"
            "iGWe6fTvVwwgQSxo6cen95U8gBBUM3yxsoW/qgWOxyGDewJ0oj3MPXliaclbx/K0\n"
            "Rxgbfz2t0EDnwNTTmL7rqrQTv8D+41hrhXfRGgkCgYAwPYiVZmeXSIPgjjOr2cOK\n"
            "SmbzH2BhmZ0CPJWvVI3fp5muTAN+sC7+IWx8Cm8b4aRGPoYDaY7SAMBx76V6mouI\n"
            "pi9r/njvVegnXoSd/Hng79Z728BCudHtwQtg8KD800xLV1HThWQyWErcyQiy0fZ7\n"
            "4par1OXC2ScXywYegFlqEQ==\n"
            "-----END PRIVATE KEY-----\n"
        ),
    ),
    Secret("MONCOMPTE_OIDC_SUBJECT_KEY", "MONCOMPTE_OIDC_SUBJECT_KEY", "dev-only-oidc-subject-key-not-secret"),
    # The agents (docs/agents.md): the keyed hashes of their activation and recovery codes.
    Secret("MONCOMPTE_AGENT_KEY", "MONCOMPTE_AGENT_KEY", "dev-only-agent-code-key-not-secret"),
    # The telephony (docs/telephony.md): the keyed hashes of the phone codes, the calling lines
    # and the telephony platform's client secrets.
    Secret("MONCOMPTE_PHONE_KEY", "MONCOMPTE_PHONE_KEY", "dev-only-phone-key-not-secret"),
)

SECRET_SETTINGS: tuple[str, ...] = tuple(secret.setting for secret in SECRETS)
SECRET_VARIABLES: tuple[str, ...] = tuple(secret.variable for secret in SECRETS)

_BY_SETTING = {secret.setting: secret for secret in SECRETS}


def secret(setting: str) -> Secret:
    try:
        return _BY_SETTING[setting]
    except KeyError:
        raise LookupError(f"{setting} is not listed in config.secrets.SECRETS") from None


def read_secret(setting: str, *, production: bool, environ: Mapping[str, str] | None = None) -> str | list[str]:
    """The secret's value from its variable; outside production, its development value if unset.

    In production an unset secret reads as empty; ``missing_in_production`` then names it, so
    that one start-up error lists every missing secret at once.
    """
    entry = secret(setting)
    raw = (os.environ if environ is None else environ).get(entry.variable, "").strip()
    if not raw and not production:
        raw = entry.development
    if entry.is_list:
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def missing_in_production(values: Mapping[str, object], not_needed: Iterable[str] = ()) -> list[str]:
    """The variables of the secrets that ``values`` (the settings) lack, in the order of SECRETS."""
    skipped = set(not_needed)
    return [s.variable for s in SECRETS if s.setting not in skipped and not values.get(s.setting)]


def refusal_message(missing: list[str]) -> str:
    first, rest = missing[0], missing[1:]
    also = f" (missing as well: {', '.join(rest)})" if rest else ""
    return f"The environment variable {first} is required in production{also}."


def development_environment() -> dict[str, str]:
    """Every secret variable with its development value ("a,b" for lists)."""
    return {s.variable: s.development for s in SECRETS}
