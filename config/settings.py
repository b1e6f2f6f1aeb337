"""Settings of Mon Compte, read from environment variables.

Without any variable the service runs on embedded defaults (SQLite, local-memory cache,
development keys) so that a laptop needs no server. With ``MONCOMPTE_ENV=production`` every
secret must be given and the service refuses to start otherwise. See docs/configuration.md.
"""

from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_date, env_float, env_int, env_list, env_path, env_str
from config.secrets import SECRET_SETTINGS, missing_in_production, read_secret, refusal_message
from moncompte.logging import LEVELS as _LOG_LEVELS
from moncompte.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("MONCOMPTE_VAR_DIR", BASE_DIR / "var")

ENVIRONMENT = env_choice("MONCOMPTE_ENV", "development", ("development", "production"))
PRODUCTION = ENVIRONMENT == "production"


def _secret(setting: str):
    """A secret of config.secrets.SECRETS: required in production, its public development value on a laptop."""
    return read_secret(setting, production=PRODUCTION)


# Development defaults are public on purpose: they protect nothing and are refused in production.
SECRET_KEY = _secret("SECRET_KEY")
# Off unless a developer asks for it (DJANGO_DEBUG=1): `make run` and every laptop get the
# French error pages, never Django's debug pages listing the URL patterns and the settings.
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("The environment variable DJANGO_ALLOWED_HOSTS is required in production.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Keys protecting identifiers (NIR, NIA, NNP): "keyid:secret" lists, the first one is current.
# Rotation: docs/configuration.md#rotation-des-cles.
MONCOMPTE_IDENTIFIER_HMAC_KEYS = _secret("MONCOMPTE_IDENTIFIER_HMAC_KEYS")
MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = _secret("MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS")
# Key of the keyed hash of the legacy 8-digit codes (moncompte.accounts.legacy).
MONCOMPTE_LEGACY_CODE_KEY = _secret("MONCOMPTE_LEGACY_CODE_KEY")
# Independent hash chains of the audit journal: appends to different chains run in parallel.
MONCOMPTE_AUDIT_CHAINS = env_int("MONCOMPTE_AUDIT_CHAINS", 16, min=1, max=1024)
# Key of the audit journal's hash chain (tamper evidence).
MONCOMPTE_AUDIT_KEY = _secret("MONCOMPTE_AUDIT_KEY")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dsfr",
    "widget_tweaks",
    "moncompte.identity",
    "moncompte.households",
    "moncompte.partners",
    "moncompte.caf_requests",
    "moncompte.accounts",
    "moncompte.audit",
    "django_tasks",
    "django_tasks_db",
    "moncompte.notifications",
    "moncompte.verification",
    "moncompte.access",
    "moncompte.procedures",
    "moncompte.franceconnect",
    "oauth2_provider",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "moncompte.agents",
    "moncompte.counter",
    "moncompte.telephony",
    "moncompte.api",
    "moncompte.phone",
    "moncompte.backoffice",
    "moncompte.web",
]

MIDDLEWARE = [
    # WhiteNoise answers static files before anything personal happens.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "moncompte.web.middleware.PersonalResponseHeadersMiddleware",
    # A 405 answers the French error page, not a blank one.
    "moncompte.web.middleware.MethodNotAllowedPageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The agents' own session, for /agents/ only (moncompte.backoffice.middleware).
    "moncompte.backoffice.middleware.AgentSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "moncompte.web.middleware.SessionTimeoutMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "moncompte.web.middleware.VerifiedContactRequiredMiddleware",
    # A policy refusal that reaches no view-level handling answers 404, never 500 nor 403.
    "moncompte.web.middleware.NotAllowedMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "moncompte.backoffice.context.agent_context",
            ],
            # An unknown variable in a template is a bug; tests turn this into an error.
            "string_if_invalid": env_str("DJANGO_TEMPLATE_STRING_IF_INVALID", ""),
        },
    }
]

# Database: SQLite on a laptop, PostgreSQL through DATABASE_URL in production and CI.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env_str("DATABASE_URL")
if PRODUCTION and not DATABASE_URL:
    raise ImproperlyConfigured("The environment variable DATABASE_URL is required in production.")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "moncompte.sqlite3",
            # IMMEDIATE: a write transaction takes the lock when it starts, so two requests never
            # both read then write on stale data (the audit chain relies on it).
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: shared by every web process through Redis in production; local memory on a laptop.
# An accelerator, never a dependency (moncompte.core.cache, docs/operations.md "When Redis
# fails"): short timeouts, no retry, every error answered as a miss, and a circuit
# breaker that stops calling a failed Redis for MONCOMPTE_CACHE_BREAKER_SECONDS. Sessions and
# throttling counters live in the database, so nothing is lost or stale when Redis is.
REDIS_URL = env_str("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("The environment variable REDIS_URL is required in production.")
MONCOMPTE_CACHE_CONNECT_TIMEOUT = env_float("MONCOMPTE_CACHE_CONNECT_TIMEOUT", 0.2, min=0.01, max=5)
MONCOMPTE_CACHE_TIMEOUT = env_float("MONCOMPTE_CACHE_TIMEOUT", 0.2, min=0.01, max=5)
MONCOMPTE_CACHE_BREAKER_SECONDS = env_float("MONCOMPTE_CACHE_BREAKER_SECONDS", 5, min=0, max=600)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "moncompte.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("MONCOMPTE_CACHE_PREFIX", "moncompte"),
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": MONCOMPTE_CACHE_CONNECT_TIMEOUT,
                "SOCKET_TIMEOUT": MONCOMPTE_CACHE_TIMEOUT,
                "BREAKER_OPEN_SECONDS": MONCOMPTE_CACHE_BREAKER_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions: in the database only (moncompte.web.session_store), so that a Redis outage neither
# loses a session nor brings back one that ended while Redis was away.
SESSION_ENGINE = "moncompte.web.session_store"
SESSION_COOKIE_NAME = "moncompte_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", PRODUCTION)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Idle and absolute limits, enforced by moncompte.web.middleware.SessionTimeoutMiddleware.
MONCOMPTE_SESSION_IDLE_SECONDS = env_int("MONCOMPTE_SESSION_IDLE_SECONDS", 30 * 60, min=60)
MONCOMPTE_SESSION_ABSOLUTE_SECONDS = env_int("MONCOMPTE_SESSION_ABSOLUTE_SECONDS", 12 * 3600, min=60)
SESSION_COOKIE_AGE = MONCOMPTE_SESSION_ABSOLUTE_SECONDS
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "moncompte.web.errors.csrf_failure"

AUTH_USER_MODEL = "accounts.Account"
AUTHENTICATION_BACKENDS = ["moncompte.accounts.backends.AccountBackend"]
LOGIN_URL = "web:signin"
LOGIN_REDIRECT_URL = "web:home"

# Argon2id with m=19 MiB, t=2, p=1 (OWASP); hashes made with other parameters are re-derived at
# sign-in. The parameters can be raised through the environment without a code change.
PASSWORD_HASHERS = ["moncompte.accounts.hashers.MonCompteArgon2Hasher"]
MONCOMPTE_ARGON2_MEMORY_KIB = env_int("MONCOMPTE_ARGON2_MEMORY_KIB", 19 * 1024, min=8)
MONCOMPTE_ARGON2_TIME_COST = env_int("MONCOMPTE_ARGON2_TIME_COST", 2, min=1)
MONCOMPTE_ARGON2_PARALLELISM = env_int("MONCOMPTE_ARGON2_PARALLELISM", 1, min=1)

# Password policy (moncompte.accounts.passwords): letters and digits, this minimum, at most 128.
MONCOMPTE_PASSWORD_MIN_LENGTH = env_int("MONCOMPTE_PASSWORD_MIN_LENGTH", 12, min=1, max=128)
AUTH_PASSWORD_VALIDATORS = [{"NAME": "moncompte.accounts.passwords.MonComptePasswordValidator"}]

# The address people reach the service at: the links the domain puts in emails and SMS.
MONCOMPTE_PUBLIC_URL = env_str("MONCOMPTE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# The phone channel accepts a file's old 8-digit code until this date (ISO, end excluded), even
# after the web's first connection retired it there (the source document: until March 2022).
MONCOMPTE_LEGACY_CODE_PHONE_UNTIL = env_date("MONCOMPTE_LEGACY_CODE_PHONE_UNTIL", "2022-04-01")

# Members of a household hold an account from this age on ("plus de 15 ans").
MONCOMPTE_ACCOUNT_MIN_AGE = env_int("MONCOMPTE_ACCOUNT_MIN_AGE", 16, min=0, max=120)

# After a provisional identifier is replaced by a NIR, signing in with the old one says what the
# new one is during this many days.
MONCOMPTE_FORMER_IDENTIFIER_DAYS = env_int("MONCOMPTE_FORMER_IDENTIFIER_DAYS", 180, min=0)

# Sign-in throttling (moncompte.accounts.throttling): free failures, then growing waits, capped.
MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER = 5
MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 30
MONCOMPTE_THROTTLE_MAX_WAIT_PER_IDENTIFIER = 15 * 60
MONCOMPTE_THROTTLE_MAX_WAIT_PER_ADDRESS = 60 * 60
# A request for a sign-in unlock code lasts at least this long, whatever the identifier (no
# timing tells whether a code went out; moncompte.accounts.unlock).
MONCOMPTE_SIGNIN_UNLOCK_MIN_SECONDS = env_float("MONCOMPTE_SIGNIN_UNLOCK_MIN_SECONDS", 0.25, min=0.0)
MONCOMPTE_THROTTLE_WINDOW_SECONDS = 24 * 3600
# Number of reverse proxies in front of the service whose X-Forwarded-For is trusted.
MONCOMPTE_TRUSTED_PROXY_COUNT = env_int("MONCOMPTE_TRUSTED_PROXY_COUNT", 0, min=0, max=10)

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env_path("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# On a laptop WhiteNoise serves files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
# Read from the apps at each request on a laptop (edited files served at once), DEBUG or not.
WHITENOISE_AUTOREFRESH = not PRODUCTION

# Security headers. HSTS and secure cookies in production (TLS ends at the reverse proxy).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 63072000, min=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Content Security Policy: no inline script without the per-response nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# django-dsfr: no integrity checksums needed for files served from our own origin.
DSFR_USE_INTEGRITY_CHECKSUMS = False

# Logging: one configuration for Django and gunicorn (moncompte.logging.logging_config, also
# read by config/gunicorn.conf.py), every handler masking identifiers and secrets.
_LOG_LEVEL = env_choice("MONCOMPTE_LOG_LEVEL", "INFO", _LOG_LEVELS)
LOGGING = logging_config(
    level=_LOG_LEVEL,
    # The application's log in a file too (a test run scans it: tests/support/log_scan.py).
    log_file=env_str("MONCOMPTE_LOG_FILE") or None,
    log_file_level=env_choice("MONCOMPTE_LOG_FILE_LEVEL", _LOG_LEVEL, _LOG_LEVELS),
    # gunicorn's access log and server messages (stdout and stderr by default).
    access_log_file=env_str("MONCOMPTE_ACCESS_LOG_FILE") or None,
    error_log_file=env_str("MONCOMPTE_ERROR_LOG_FILE") or None,
)

# Demo mode: pages tell that the data are fictional (make run sets it).
MONCOMPTE_DEMO = env_bool("MONCOMPTE_DEMO", False)


# --- Notifications, background tasks and one-time codes -------------------------------------
# moncompte.notifications and moncompte.verification; see docs/notifications.md.

# Key sealing message bodies (AES-256-GCM, derived with HKDF): bodies hold one-time codes.
MONCOMPTE_MESSAGE_KEY = _secret("MONCOMPTE_MESSAGE_KEY")
# Key of the keyed hash (HMAC-SHA256) of one-time codes: the database never holds a code.
MONCOMPTE_CODE_KEY = _secret("MONCOMPTE_CODE_KEY")

# Background tasks (django-tasks API). "database": django-tasks-db, the task row is written in
# the caller's transaction and `manage.py db_worker` runs it. "immediate": the task runs in the
# committing process right after commit, never for a rolled-back transaction (laptop, tests).
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "moncompte.notifications.backends.ImmediateOnCommitBackend",
}
MONCOMPTE_TASKS_BACKEND = env_choice(
    "MONCOMPTE_TASKS_BACKEND", "database" if PRODUCTION else "immediate", tuple(_TASK_BACKENDS)
)
if PRODUCTION and MONCOMPTE_TASKS_BACKEND != "database":
    raise ImproperlyConfigured("MONCOMPTE_TASKS_BACKEND must be 'database' in production.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[MONCOMPTE_TASKS_BACKEND]}}

# Sending attempts of one message, and the waits before each retry (database backend only).
MONCOMPTE_MESSAGE_MAX_ATTEMPTS = env_int("MONCOMPTE_MESSAGE_MAX_ATTEMPTS", 5, min=1)
MONCOMPTE_MESSAGE_RETRY_DELAYS = [30, 120, 600, 1800]

# Email: SMTP in production, the development outbox (/dev/messages/) on a laptop.
_OUTBOX_EMAIL_BACKEND = "moncompte.notifications.email.OutboxEmailBackend"
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else _OUTBOX_EMAIL_BACKEND
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, min=1, max=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, min=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Mon Compte - Caf <ne-pas-repondre@moncompte.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Domain of the Message-ID header (<idempotency key@domain>); default: DEFAULT_FROM_EMAIL's domain.
MONCOMPTE_EMAIL_MESSAGE_ID_DOMAIN = env_str("MONCOMPTE_EMAIL_MESSAGE_ID_DOMAIN", "")

# SMS: the operator's HTTP gateway in production, the development outbox on a laptop.
_OUTBOX_SMS_BACKEND = "moncompte.notifications.sms.OutboxSmsGateway"
MONCOMPTE_SMS_BACKEND = env_str(
    "MONCOMPTE_SMS_BACKEND", "moncompte.notifications.sms.HttpSmsGateway" if PRODUCTION else _OUTBOX_SMS_BACKEND
)
MONCOMPTE_SMS_URL = env_str("MONCOMPTE_SMS_URL", "")
# Needed by the HTTP gateway only: another gateway may run in production without it.
MONCOMPTE_SMS_TOKEN = _secret("MONCOMPTE_SMS_TOKEN")
_SECRETS_NOT_NEEDED = () if MONCOMPTE_SMS_BACKEND.endswith(".HttpSmsGateway") else ("MONCOMPTE_SMS_TOKEN",)
MONCOMPTE_SMS_TIMEOUT = env_float("MONCOMPTE_SMS_TIMEOUT", 10.0, min=0.1)
# Mobile numbers accepted for SMS: France and its overseas territories (ISO 3166 regions).
MONCOMPTE_SMS_REGIONS = env_list(
    "MONCOMPTE_SMS_REGIONS", ["FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"]
)

if PRODUCTION:
    if EMAIL_BACKEND == _OUTBOX_EMAIL_BACKEND or MONCOMPTE_SMS_BACKEND == _OUTBOX_SMS_BACKEND:
        raise ImproperlyConfigured("The development outbox cannot be used in production.")
    if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend" and not env_str("EMAIL_HOST"):
        raise ImproperlyConfigured("The environment variable EMAIL_HOST is required in production.")
    if not env_str("DEFAULT_FROM_EMAIL"):
        raise ImproperlyConfigured("The environment variable DEFAULT_FROM_EMAIL is required in production.")
    if MONCOMPTE_SMS_BACKEND.endswith(".HttpSmsGateway") and not MONCOMPTE_SMS_URL.startswith("https://"):
        raise ImproperlyConfigured("MONCOMPTE_SMS_URL (https://...) is required in production.")

# One-time codes (moncompte.verification): lifetime, tries per code, waits before each resend
# (the last one repeats), and codes sent to one destination per hour, all flows together.
MONCOMPTE_CODE_TTL_SECONDS = env_int("MONCOMPTE_CODE_TTL_SECONDS", 10 * 60, min=60)
MONCOMPTE_CODE_MAX_ATTEMPTS = 5
MONCOMPTE_CODE_RESEND_DELAYS = [30, 60, 120, 300, 600, 900]
MONCOMPTE_CODE_MAX_SENDS_PER_DESTINATION_PER_HOUR = env_int(
    "MONCOMPTE_CODE_MAX_SENDS_PER_DESTINATION_PER_HOUR", 10, min=1
)


# --- Account creation of new beneficiaries and identity documents ---------------------------
# moncompte.accounts.signup, moncompte.identity.documents; see docs/signup.md.

# Uploaded identity documents: stored by the default storage under random names, in a folder
# that is never served (no MEDIA_URL route). Only the owner of the process may read them.
MEDIA_ROOT = env_path("MONCOMPTE_MEDIA_ROOT", VAR_DIR / "media")
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# Largest identity document accepted (bytes); larger uploads are cut off while they arrive.
MONCOMPTE_DOCUMENT_MAX_BYTES = env_int("MONCOMPTE_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024, min=1)
# Documents are decoded and rewritten before they are stored (moncompte.identity.documents):
# largest image (width x height, also for the images inside a PDF; about 4 bytes of memory
# each while decoding), most pages of a PDF, and the limits of the child process that parses.
MONCOMPTE_DOCUMENT_MAX_PIXELS = env_int("MONCOMPTE_DOCUMENT_MAX_PIXELS", 50_000_000, min=1, max=200_000_000)
MONCOMPTE_DOCUMENT_MAX_PAGES = env_int("MONCOMPTE_DOCUMENT_MAX_PAGES", 20, min=1, max=500)
MONCOMPTE_DOCUMENT_PARSER_CPU_SECONDS = env_int("MONCOMPTE_DOCUMENT_PARSER_CPU_SECONDS", 10, min=1, max=300)
MONCOMPTE_DOCUMENT_PARSER_MEMORY_BYTES = env_int(
    "MONCOMPTE_DOCUMENT_PARSER_MEMORY_BYTES", 1024 * 1024 * 1024, min=256 * 1024 * 1024
)


# --- Invitations of household members (moncompte.households.invitations) -------------------
# The invitation code is stored as an HMAC with this key; the invitation lives this many days.
MONCOMPTE_INVITATION_KEY = _secret("MONCOMPTE_INVITATION_KEY")
MONCOMPTE_INVITATION_DAYS = env_int("MONCOMPTE_INVITATION_DAYS", 7, min=1)
# Wrong identity proofs (NIR + birth date) accepted on one invitation before it is cancelled.
MONCOMPTE_INVITATION_MAX_ATTEMPTS = env_int("MONCOMPTE_INVITATION_MAX_ATTEMPTS", 5, min=1)


# --- Partners (moncompte.partners, docs/partners.md) ------------------------------------------
# The HTTP services whose data pre-fill the procedures. A page waits MONCOMPTE_PARTNER_BUDGET_MS
# at most for all of them together; each request has its own timeout (connect and read), an
# idempotent lookup is tried again MONCOMPTE_PARTNER_RETRIES times after a doubling backoff with
# jitter, and a partner failing MONCOMPTE_PARTNER_BREAKER_FAILURES times in a row is left alone
# for MONCOMPTE_PARTNER_BREAKER_SECONDS. Each answer is kept MONCOMPTE_PARTNER_CACHE_SECONDS per
# person. By default every partner is the simulator (tools/partner_simulator.py) that `make run`
# starts; production sets each URL and token (secrets: config/secrets.py).
MONCOMPTE_PARTNER_BUDGET_MS = env_int("MONCOMPTE_PARTNER_BUDGET_MS", 800, min=50, max=10_000)
MONCOMPTE_PARTNER_TIMEOUT_MS = env_int("MONCOMPTE_PARTNER_TIMEOUT_MS", 700, min=50, max=30_000)
MONCOMPTE_PARTNER_CONNECT_TIMEOUT_MS = env_int("MONCOMPTE_PARTNER_CONNECT_TIMEOUT_MS", 300, min=10, max=30_000)
MONCOMPTE_PARTNER_RETRIES = env_int("MONCOMPTE_PARTNER_RETRIES", 1, min=0, max=5)
MONCOMPTE_PARTNER_BACKOFF_MS = env_int("MONCOMPTE_PARTNER_BACKOFF_MS", 50, min=0, max=5_000)
MONCOMPTE_PARTNER_BREAKER_FAILURES = env_int("MONCOMPTE_PARTNER_BREAKER_FAILURES", 3, min=1, max=100)
MONCOMPTE_PARTNER_BREAKER_SECONDS = env_int("MONCOMPTE_PARTNER_BREAKER_SECONDS", 30, min=1, max=3600)
MONCOMPTE_PARTNER_CACHE_SECONDS = env_int("MONCOMPTE_PARTNER_CACHE_SECONDS", 600, min=0, max=86_400)
MONCOMPTE_PARTNER_WORKERS = env_int("MONCOMPTE_PARTNER_WORKERS", 8, min=1, max=64)
MONCOMPTE_PARTNER_IMPOTS_TOKEN = _secret("MONCOMPTE_PARTNER_IMPOTS_TOKEN")
MONCOMPTE_PARTNER_FRANCE_TRAVAIL_TOKEN = _secret("MONCOMPTE_PARTNER_FRANCE_TRAVAIL_TOKEN")
MONCOMPTE_PARTNER_DRM_TOKEN = _secret("MONCOMPTE_PARTNER_DRM_TOKEN")
MONCOMPTE_PARTNER_QUOTIENT_FAMILIAL_TOKEN = _secret("MONCOMPTE_PARTNER_QUOTIENT_FAMILIAL_TOKEN")
# Production never talks to a simulator by default: a partner without its URL is not asked (its
# fields are typed by the person), and the service still starts.
_PARTNER_SIMULATOR = env_str("MONCOMPTE_PARTNER_SIMULATOR_URL", "" if PRODUCTION else "http://127.0.0.1:8091")
MONCOMPTE_PARTNERS = {
    code: {
        "url": env_str(f"MONCOMPTE_PARTNER_{code.upper()}_URL", _PARTNER_SIMULATOR),
        "token": globals()[f"MONCOMPTE_PARTNER_{code.upper()}_TOKEN"],
    }
    for code in ("impots", "france_travail", "drm", "quotient_familial")
}


# --- FranceConnect (moncompte.franceconnect, moncompte.web.franceconnect; docs/franceconnect.md) ---
# FRANCECONNECT-SETTINGS (the FranceConnect client's settings go here)
# The OpenID provider FranceConnect v2 (the local one of tools/franceconnect/ for `make run` and
# the tests). No issuer: FranceConnect is off (no button, its addresses answer 404), and its
# client secret is not needed in production.
MONCOMPTE_FRANCECONNECT_ISSUER = env_str("MONCOMPTE_FRANCECONNECT_ISSUER", "").rstrip("/")
MONCOMPTE_FRANCECONNECT_CLIENT_ID = env_str("MONCOMPTE_FRANCECONNECT_CLIENT_ID", "")
MONCOMPTE_FRANCECONNECT_CLIENT_SECRET = _secret("MONCOMPTE_FRANCECONNECT_CLIENT_SECRET")
MONCOMPTE_FRANCECONNECT_SCOPES = env_list(
    "MONCOMPTE_FRANCECONNECT_SCOPES",
    "openid given_name family_name birthdate gender birthplace birthcountry email preferred_username".split(),
)
# The eIDAS level asked for, and the levels accepted in the id_token (that one or stronger).
MONCOMPTE_FRANCECONNECT_ACR = "eidas1"
MONCOMPTE_FRANCECONNECT_ACR_ACCEPTED = ("eidas1", "eidas2", "eidas3")
# Each call to FranceConnect (discovery, keys, token, userinfo): connect and read timeouts.
MONCOMPTE_FRANCECONNECT_CONNECT_TIMEOUT = env_float("MONCOMPTE_FRANCECONNECT_CONNECT_TIMEOUT", 2.0, min=0.1, max=30)
MONCOMPTE_FRANCECONNECT_TIMEOUT = env_float("MONCOMPTE_FRANCECONNECT_TIMEOUT", 5.0, min=0.1, max=60)
# Discovery document and keys (JWKS) kept in the cache; an unknown key id fetches the keys again.
MONCOMPTE_FRANCECONNECT_METADATA_SECONDS = env_int("MONCOMPTE_FRANCECONNECT_METADATA_SECONDS", 3600, min=0)
# Clock skew accepted on the tokens' exp and iat.
MONCOMPTE_FRANCECONNECT_LEEWAY_SECONDS = env_int("MONCOMPTE_FRANCECONNECT_LEEWAY_SECONDS", 30, min=0, max=300)
# How long a started sign-in (its state and nonce) and a recognised identity waiting for its
# confirmation live in the session.
MONCOMPTE_FRANCECONNECT_PENDING_SECONDS = env_int("MONCOMPTE_FRANCECONNECT_PENDING_SECONDS", 10 * 60, min=60)
if MONCOMPTE_FRANCECONNECT_ISSUER:
    if not MONCOMPTE_FRANCECONNECT_CLIENT_ID:
        raise ImproperlyConfigured("MONCOMPTE_FRANCECONNECT_CLIENT_ID is required with MONCOMPTE_FRANCECONNECT_ISSUER.")
    if PRODUCTION and not MONCOMPTE_FRANCECONNECT_ISSUER.startswith("https://"):
        raise ImproperlyConfigured("MONCOMPTE_FRANCECONNECT_ISSUER (https://...) is required in production.")
    # The sign-in button and the sign-out are forms whose answer redirects to FranceConnect: the
    # browser checks form-action on those redirects too.
    _FRANCECONNECT_ORIGIN = "/".join(MONCOMPTE_FRANCECONNECT_ISSUER.split("/")[:3])
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] = [
        *CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"],
        _FRANCECONNECT_ORIGIN,
    ]
else:
    _SECRETS_NOT_NEEDED = (*_SECRETS_NOT_NEEDED, "MONCOMPTE_FRANCECONNECT_CLIENT_SECRET")


# --- Our OpenID provider (django-oauth-toolkit; moncompte.api.oidc, docs/api.md) --------------
# OIDC-PROVIDER-SETTINGS (OAUTH2_PROVIDER and the provider's settings go here)
# The key signing the id_tokens (RS256) and the key of the people's "sub" (an HMAC of the person:
# never change it, every client would see new people). Both are secrets (config/secrets.py).
MONCOMPTE_OIDC_RSA_PRIVATE_KEY = _secret("MONCOMPTE_OIDC_RSA_PRIVATE_KEY").replace("\\n", "\n")
MONCOMPTE_OIDC_SUBJECT_KEY = _secret("MONCOMPTE_OIDC_SUBJECT_KEY")
# The issuer (iss of the id_tokens, base of the discovery document). Empty: the address the request
# came to (a laptop, the tests); production defaults to MONCOMPTE_PUBLIC_URL.
MONCOMPTE_OIDC_ISSUER = env_str("MONCOMPTE_OIDC_ISSUER", MONCOMPTE_PUBLIC_URL if PRODUCTION else "").rstrip("/")
# Short access tokens; refresh tokens rotate at each use and die after this long unused.
MONCOMPTE_OIDC_ACCESS_TOKEN_SECONDS = env_int("MONCOMPTE_OIDC_ACCESS_TOKEN_SECONDS", 5 * 60, min=30, max=3600)
MONCOMPTE_OIDC_REFRESH_TOKEN_DAYS = env_int("MONCOMPTE_OIDC_REFRESH_TOKEN_DAYS", 30, min=1, max=365)
# The level of the sign-in stated in the id_tokens' acr: NIR and password (throttled) or
# FranceConnect at eidas1, both at the eIDAS "low" level.
MONCOMPTE_OIDC_ACR = env_str("MONCOMPTE_OIDC_ACR", "eidas1")
# Schemes a client's redirect URI may use: https, and the mobile app's own scheme (RFC 8252);
# plain http on a laptop only (the tests' clients listen on 127.0.0.1).
MONCOMPTE_OIDC_REDIRECT_SCHEMES = env_list(
    "MONCOMPTE_OIDC_REDIRECT_SCHEMES", ["https", "fr.caf.moncompte"] + ([] if PRODUCTION else ["http"])
)
# Where the clients' redirect URIs lead ("https://service.caf.fr", "fr.caf.moncompte:"): the sign-in
# form's answer ends with a redirect there, and the browser checks form-action on it. On a laptop,
# also a client listening on 127.0.0.1 (any port).
MONCOMPTE_OIDC_REDIRECT_ORIGINS = env_list(
    "MONCOMPTE_OIDC_REDIRECT_ORIGINS", ["fr.caf.moncompte:"] + ([] if PRODUCTION else ["http://127.0.0.1:*"])
)
CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] = [
    *CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"],
    *MONCOMPTE_OIDC_REDIRECT_ORIGINS,
]
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": MONCOMPTE_OIDC_RSA_PRIVATE_KEY,
    "OIDC_ISS_ENDPOINT": MONCOMPTE_OIDC_ISSUER,
    "OAUTH2_VALIDATOR_CLASS": "moncompte.api.oidc.validators.OidcValidator",
    "OIDC_SERVER_CLASS": "moncompte.api.oidc.validators.OidcServer",
    "SCOPES": {
        "openid": "Vous reconnaître (un identifiant propre à Mon Compte, jamais votre numéro de sécurité sociale)",
        "profile": "Vos nom, prénoms et date de naissance",
        "email": "Votre adresse électronique validée",
        "phone": "Votre numéro de téléphone mobile validé",
        # The REST API (moncompte.api.defaults.API_SCOPE): for our own apps only.
        "moncompte": "Utiliser votre espace Mon Compte : vos dossiers, vos démarches, les demandes de la Caf",
    },
    "DEFAULT_SCOPES": ["openid"],
    # The authorization code flow only, with PKCE (S256 only: moncompte.api.oidc.validators) for
    # every client, public (the mobile app) or confidential (the Caf's services).
    "PKCE_REQUIRED": True,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post", "none"],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post", "none"],
    "ALLOWED_REDIRECT_URI_SCHEMES": MONCOMPTE_OIDC_REDIRECT_SCHEMES,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ACCESS_TOKEN_EXPIRE_SECONDS": MONCOMPTE_OIDC_ACCESS_TOKEN_SECONDS,
    "ID_TOKEN_EXPIRE_SECONDS": MONCOMPTE_OIDC_ACCESS_TOKEN_SECONDS,
    # A refresh token serves once; presented again, its whole family is revoked (and its session
    # ended: moncompte.api.oidc.validators).
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_EXPIRE_SECONDS": MONCOMPTE_OIDC_REFRESH_TOKEN_DAYS * 24 * 3600,
    # Third-party clients ask the person each time; first-party ones (skip_authorization) never.
    "REQUEST_APPROVAL_PROMPT": "force",
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": True,
    # Our logout view ends the app's API sessions itself (their tokens with them), not every token
    # of the person as the toolkit would.
    "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": False,
    # RFC 9700 (OAuth 2.0 security best current practice): no implicit nor password grant, no
    # "plain" PKCE, no token in a URL, the issuer in the authorization response, tokens stored as
    # their hash only.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}


# --- The REST API (Django REST framework, drf-spectacular; moncompte.api, docs/api.md) ---------
# Every view derives from moncompte.api.base (token authentication, usable account, per-token
# rates); errors are JSON with a code and a French message (moncompte.api.errors).
MONCOMPTE_API_RATE = env_str("MONCOMPTE_API_RATE", "600/min")
MONCOMPTE_API_WRITE_RATE = env_str("MONCOMPTE_API_WRITE_RATE", "60/min")
REST_FRAMEWORK = {
    # moncompte.api.defaults, not base: DRF imports these while importing its views (a cycle).
    "DEFAULT_AUTHENTICATION_CLASSES": ["moncompte.api.defaults.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["moncompte.api.defaults.UsableAccount"],
    "DEFAULT_THROTTLE_CLASSES": [
        "moncompte.api.defaults.TokenRateThrottle",
        "moncompte.api.defaults.WriteRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"token": MONCOMPTE_API_RATE, "token_write": MONCOMPTE_API_WRITE_RATE},
    "DEFAULT_PAGINATION_CLASS": "moncompte.api.defaults.Pagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "moncompte.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# REST-API-SETTINGS (SPECTACULAR_SETTINGS and the API's other settings go here)
# The OpenAPI 3 schema (/api/v1/schema/) and its documentation page (/api/v1/docs/, Swagger UI
# from drf-spectacular-sidecar's static files): moncompte.api.v1.schema, docs/api.md.
SPECTACULAR_SETTINGS = {
    "TITLE": "API Mon Compte",
    "DESCRIPTION": (
        "L'API de Mon Compte pour l'application « Caf – Mon Compte » et les services de la Caf : votre "
        "identité et vos coordonnées, vos dossiers tels que vous pouvez les voir, l'autorisation de "
        "gestion, vos démarches, les demandes de la Caf et vos appareils connectés. Chaque demande porte "
        "un jeton d'accès (en-tête « Authorization: Bearer … ») délivré par le fournisseur d'identité de "
        "Mon Compte. Les mêmes règles que sur le site s'appliquent. Les erreurs sont en JSON : "
        "« code » (stable), « message » (en français), « field » (le champ concerné ou null)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Separate request and response components: a write-only password is only in the request's.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "moncompte.api.v1.schema.add_error_responses",
    ],
    # One name per choice set that several resources call alike ("kind", "state").
    "ENUM_NAME_OVERRIDES": {
        "ContactKindEnum": "moncompte.core.actors.ContactChannel.choices",
        "CafRequestKindEnum": ["document", "information"],
        "CafRequestStateEnum": ["waiting", "answered", "closed"],
        "ProcedureStateEnum": ["draft", "submitted"],
        "DelegationChangeEnum": ["granted", "revoked", "renounced"],
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False, "displayOperationId": False},
}


# --- Agents (issue 12, AGENTS; moncompte.agents, moncompte.backoffice, docs/agents.md) ---------
# Short sessions: idle and absolute limits, and the time allowed between the password and the
# second factor. The cookie is the agents' own, sent for /agents/ only.
MONCOMPTE_AGENT_SESSION_COOKIE = "moncompte_agent"
# Key of the keyed hashes of the activation and recovery codes.
MONCOMPTE_AGENT_KEY = _secret("MONCOMPTE_AGENT_KEY")
MONCOMPTE_AGENT_SESSION_IDLE_SECONDS = env_int("MONCOMPTE_AGENT_SESSION_IDLE_SECONDS", 15 * 60, min=60, max=3600)
MONCOMPTE_AGENT_SESSION_ABSOLUTE_SECONDS = env_int(
    "MONCOMPTE_AGENT_SESSION_ABSOLUTE_SECONDS", 8 * 3600, min=300, max=12 * 3600
)
MONCOMPTE_AGENT_SECOND_FACTOR_SECONDS = env_int("MONCOMPTE_AGENT_SECOND_FACTOR_SECONDS", 5 * 60, min=30, max=900)
# django-otp's throttling of wrong TOTP codes: waits of factor × 2^(n-1) seconds.
MONCOMPTE_AGENT_TOTP_THROTTLE_FACTOR = env_int("MONCOMPTE_AGENT_TOTP_THROTTLE_FACTOR", 1, min=1, max=60)
# The TOTP issuer shown in the authenticator app.
MONCOMPTE_AGENT_TOTP_ISSUER = env_str("MONCOMPTE_AGENT_TOTP_ISSUER", "Mon Compte Caf (agents)")
# An activation code (given by the command or an administrator) is valid this long.
MONCOMPTE_AGENT_ACTIVATION_HOURS = env_int("MONCOMPTE_AGENT_ACTIVATION_HOURS", 72, min=1, max=24 * 14)
# A counter or phone service (one person served about one file) stays open this long.
MONCOMPTE_COUNTER_SERVICE_MINUTES = env_int("MONCOMPTE_COUNTER_SERVICE_MINUTES", 60, min=5, max=480)
# AGENTS-MORE settings
# ASSISTED-MORE settings
# An assisted first connection (moncompte.accounts.assisted): its handoff code, shown once on the
# agent's screen, is valid this long, and this many wrong codes cancel it.
MONCOMPTE_ASSISTED_MINUTES = env_int("MONCOMPTE_ASSISTED_MINUTES", 15, min=5, max=60)
MONCOMPTE_ASSISTED_MAX_ATTEMPTS = env_int("MONCOMPTE_ASSISTED_MAX_ATTEMPTS", 5, min=1, max=10)

# --- Telephony (issue 12, TELEPHONY; moncompte.telephony, moncompte.phone, docs/telephony.md) --
# Key of the keyed hashes of the phone codes, the calling lines and the platform's client secrets.
MONCOMPTE_PHONE_KEY = _secret("MONCOMPTE_PHONE_KEY")
# The phone code a person gets in Mon Compte or by SMS: valid this long, single use.
MONCOMPTE_PHONE_CODE_MINUTES = env_int("MONCOMPTE_PHONE_CODE_MINUTES", 30, min=5, max=120)
# Hard caps of failed phone authentications in 24 hours: per file (old code) or person (phone
# code), and per calling line, whatever the file.
MONCOMPTE_PHONE_MAX_FAILURES_PER_FILE = env_int("MONCOMPTE_PHONE_MAX_FAILURES_PER_FILE", 5, min=1, max=100)
MONCOMPTE_PHONE_MAX_FAILURES_PER_LINE = env_int("MONCOMPTE_PHONE_MAX_FAILURES_PER_LINE", 10, min=1, max=1000)
# A phone authentication identifies the caller to the agent who takes the call this long.
MONCOMPTE_PHONE_AUTHENTICATION_MINUTES = env_int("MONCOMPTE_PHONE_AUTHENTICATION_MINUTES", 30, min=5, max=240)
# TELEPHONY-MORE settings
# Phone codes a person may get in an hour (shown or sent by SMS, moncompte.telephony).
MONCOMPTE_PHONE_CODE_MAX_PER_HOUR = env_int("MONCOMPTE_PHONE_CODE_MAX_PER_HOUR", 5, min=1, max=50)
# Retention (manage.py purge_expired, moncompte.core.retention). Phone codes go with the other
# one-time codes (MONCOMPTE_RETENTION_CODE_DAYS), never within the hour their issues are counted.
# The phone's tries: the caps count 24 hours (never less than 1 day); every try is in the
# access journal anyway.
MONCOMPTE_RETENTION_PHONE_ATTEMPT_DAYS = env_int("MONCOMPTE_RETENTION_PHONE_ATTEMPT_DAYS", 7, min=1, max=90)
# Phone authentications redeemed or expired (who was identified, by which method, which agent
# redeemed it): a month to look into a disputed call; the acts themselves are in the journal.
MONCOMPTE_RETENTION_PHONE_AUTHENTICATION_DAYS = env_int(
    "MONCOMPTE_RETENTION_PHONE_AUTHENTICATION_DAYS", 30, min=1, max=366
)

# --- The queues (issue 12, QUEUES) -------------------------------------------------------------
# QUEUES-MORE settings


# --- Secrets: the production refusal to start ------------------------------------------------
# The secrets are listed once, in config/secrets.py; every one of them is read above.
MONCOMPTE_SECRET_SETTINGS = SECRET_SETTINGS
if PRODUCTION:
    _missing = missing_in_production(globals(), not_needed=_SECRETS_NOT_NEEDED)
    if _missing:
        raise ImproperlyConfigured(refusal_message(_missing))


# --- Ways in: identifier reminder and invitation request (issue 9, WAYSIN-B) ----------------
# moncompte.accounts.identifier_reminder: reminders per destination (typed contact) in a day,
# counted whether or not the contact belongs to an account; the request's minimum duration.
MONCOMPTE_IDENTIFIER_REMINDER_MAX_PER_DESTINATION = env_int(
    "MONCOMPTE_IDENTIFIER_REMINDER_MAX_PER_DESTINATION", 3, min=1
)
MONCOMPTE_IDENTIFIER_REMINDER_MIN_SECONDS = env_float("MONCOMPTE_IDENTIFIER_REMINDER_MIN_SECONDS", 0.25, min=0.0)
# moncompte.households.invitation_requests: notices to the inviters per member in a day.
MONCOMPTE_INVITATION_REQUEST_MAX_PER_MEMBER = env_int("MONCOMPTE_INVITATION_REQUEST_MAX_PER_MEMBER", 1, min=1)
MONCOMPTE_INVITATION_REQUEST_MIN_SECONDS = env_float("MONCOMPTE_INVITATION_REQUEST_MIN_SECONDS", 0.25, min=0.0)


# --- First-connection screens (issue 9, ONBOARDING; moncompte.accounts.onboarding) ----------
# The version of the screens shown after sign-in: each account sees them once per version, so
# raising it shows new screens once to everyone. 0 shows them to nobody.
MONCOMPTE_ONBOARDING_VERSION = env_int("MONCOMPTE_ONBOARDING_VERSION", 1, min=0, max=32767)


# --- Legal pages (moncompte.web.pages) -------------------------------------------------------
# What the mentions légales and the personal data page name; stated at deployment, the defaults
# say only what is known without it (docs/configuration.md).
MONCOMPTE_LEGAL_PUBLISHER = env_str(
    "MONCOMPTE_LEGAL_PUBLISHER",
    "Caisse nationale des allocations familiales (Cnaf), pour le compte des caisses d'allocations familiales (Caf)",
)
MONCOMPTE_LEGAL_PUBLISHER_ADDRESS = env_str("MONCOMPTE_LEGAL_PUBLISHER_ADDRESS", "")
MONCOMPTE_LEGAL_PUBLICATION_DIRECTOR = env_str("MONCOMPTE_LEGAL_PUBLICATION_DIRECTOR", "")
MONCOMPTE_LEGAL_HOST = env_str("MONCOMPTE_LEGAL_HOST", "")
MONCOMPTE_LEGAL_DPO_CONTACT = env_str("MONCOMPTE_LEGAL_DPO_CONTACT", "")


# --- French writing in templates (issue 9, DEFECTS; moncompte/web/templatetags/french.py) ----
# date_fr ("1er décembre"), elide ("qu'enfant"), commune_name/country_name (INSEE codes by
# name): builtins, so that every template, the messages' included, has them without a load.
TEMPLATES[0]["OPTIONS"].setdefault("builtins", []).append("moncompte.web.templatetags.french")


# --- Identity checks of accounts created alone (issue 9, STATE; web/signup/_what_happens_next.html)
# The delay announced to the person between the document sent and the agent's decision, in
# working days: what the Caf commits to, stated at deployment.
MONCOMPTE_IDENTITY_CHECK_WORKING_DAYS = env_int("MONCOMPTE_IDENTITY_CHECK_WORKING_DAYS", 10, min=1, max=90)


# --- Retention of personal data (issue 9, RETENTION; moncompte.core.retention) ----------------
# Days each kind of record is kept once it is no longer needed, applied by `manage.py
# purge_expired` (run daily, docs/operations.md) and stated on the personal data page (RGPD
# art. 13). Nothing still in use is ever deleted whatever these say (live sessions, open
# invitations, undecided checks, counters in their window). Reasons in docs/configuration.md.
# Ended or expired connections (device, IP address, approximate place): the person's history
# of their connections and the look back at an intrusion; CNIL: connection logs 6 months to 1 year.
MONCOMPTE_RETENTION_SESSION_DAYS = env_int("MONCOMPTE_RETENTION_SESSION_DAYS", 180, min=1, max=366)
# One-time codes (only their keyed hash) past their expiry: a few days answer "I got no code".
MONCOMPTE_RETENTION_CODE_DAYS = env_int("MONCOMPTE_RETENTION_CODE_DAYS", 7, min=1, max=90)
# Tries of an old code: the caps count a day and a week (docs/first-connection.md), so never
# less than 7; every try is in the access journal anyway, so nothing more is needed.
MONCOMPTE_RETENTION_LEGACY_ATTEMPT_DAYS = env_int("MONCOMPTE_RETENTION_LEGACY_ATTEMPT_DAYS", 7, min=7, max=90)
# Throttle counters after they lapse: a lapsed counter counts for nothing, so at the next purge.
MONCOMPTE_RETENTION_THROTTLE_DAYS = env_int("MONCOMPTE_RETENTION_THROTTLE_DAYS", 0, min=0, max=30)
# Messages sent or given up (their body is already erased: recipient, kind and dates remain):
# three months to answer "did you send me..." and look into delivery problems.
MONCOMPTE_RETENTION_MESSAGE_DAYS = env_int("MONCOMPTE_RETENTION_MESSAGE_DAYS", 90, min=1, max=366)
# Invitations accepted, cancelled or expired: three months for the inviter and support to see
# what became of one; the acts themselves are in the access journal.
MONCOMPTE_RETENTION_INVITATION_DAYS = env_int("MONCOMPTE_RETENTION_INVITATION_DAYS", 90, min=1, max=366)
# Identity documents after the agent's decision: the two months of an appeal against the
# decision (délai de recours), during which the same document may be looked at again.
MONCOMPTE_RETENTION_IDENTITY_DOCUMENT_DAYS = env_int("MONCOMPTE_RETENTION_IDENTITY_DOCUMENT_DAYS", 60, min=1, max=366)
# The sealed NIR typed at a sign-up, once the check is decided: bound to the person if accepted
# (the copy is then redundant), never bound if refused; kept as long as the documents.
MONCOMPTE_RETENTION_SIGNUP_CLAIM_DAYS = env_int("MONCOMPTE_RETENTION_SIGNUP_CLAIM_DAYS", 60, min=1, max=366)
# Procedures that expired (their values already wiped at the expiry) or were abandoned: the row
# and its history (who did what, no values), three months for support to answer "where is my
# request?". Drafts in progress and submitted requests are never purged.
MONCOMPTE_RETENTION_PROCEDURE_DAYS = env_int("MONCOMPTE_RETENTION_PROCEDURE_DAYS", 90, min=1, max=366)
# The access journal is NOT purged by purge_expired (its hash chain, docs/security.md): this is
# the duration the personal data page states and the separate, audited purge must apply.
# CNIL: traces of access 6 months to 1 year.
MONCOMPTE_RETENTION_JOURNAL_DAYS = env_int("MONCOMPTE_RETENTION_JOURNAL_DAYS", 365, min=180, max=3660)
# Rows deleted per statement: small enough that a big table is never locked for long.
MONCOMPTE_RETENTION_BATCH_SIZE = env_int("MONCOMPTE_RETENTION_BATCH_SIZE", 1000, min=1, max=100_000)

# Procedures (moncompte.procedures, docs/procedures.md): a draft lives this long after its last
# save, its people are reminded this many days before; a visitor's draft (before the account is
# created inside the request) lives only hours.
MONCOMPTE_PROCEDURE_DRAFT_DAYS = env_int("MONCOMPTE_PROCEDURE_DRAFT_DAYS", 60, min=1, max=366)
MONCOMPTE_PROCEDURE_REMINDER_DAYS = env_int("MONCOMPTE_PROCEDURE_REMINDER_DAYS", 7, min=1, max=60)
MONCOMPTE_PROCEDURE_VISITOR_DRAFT_HOURS = env_int("MONCOMPTE_PROCEDURE_VISITOR_DRAFT_HOURS", 24, min=1, max=168)

# The Caf's requests (moncompte.caf_requests, docs/caf-requests.md): largest file of an answer
# (bytes; larger uploads are cut off while they arrive; the identity documents' parser also
# applies MONCOMPTE_DOCUMENT_MAX_BYTES, so the smaller of the two holds), the virus scanner (the
# dotted path of a callable scan(content: bytes) -> ScanResult) and the clamd it calls by default
# (a unix socket path or host:port; empty: files are stored marked "not scanned").
MONCOMPTE_CAF_REQUEST_MAX_BYTES = env_int("MONCOMPTE_CAF_REQUEST_MAX_BYTES", 10 * 1024 * 1024, min=1)
MONCOMPTE_VIRUS_SCANNER = env_str("MONCOMPTE_VIRUS_SCANNER", "moncompte.caf_requests.scanning.clamd_scan")
MONCOMPTE_CLAMD_SOCKET = env_str("MONCOMPTE_CLAMD_SOCKET", "")
MONCOMPTE_CLAMD_TIMEOUT_SECONDS = env_float("MONCOMPTE_CLAMD_TIMEOUT_SECONDS", 30.0, min=1.0, max=600.0)
