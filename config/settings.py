"""Settings of Mon Compte, read from environment variables.

Without any variable the service runs on embedded defaults (SQLite, local-memory cache,
development keys) so that a laptop needs no server. With ``MONCOMPTE_ENV=production`` every
secret must be given and the service refuses to start otherwise. See docs/configuration.md.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MONCOMPTE_VAR_DIR", BASE_DIR / "var"))

ENVIRONMENT = os.environ.get("MONCOMPTE_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured("MONCOMPTE_ENV must be 'development' or 'production'.")
PRODUCTION = ENVIRONMENT == "production"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _secret(name: str, development_default: str) -> str:
    """A secret: required in production, a fixed and public value on a laptop."""
    value = os.environ.get(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"The environment variable {name} is required in production.")
    return development_default


# Development defaults are public on purpose: they protect nothing and are refused in production.
SECRET_KEY = _secret("DJANGO_SECRET_KEY", "dev-only-insecure-secret-key-do-not-use-in-production")
DEBUG = _env_bool("DJANGO_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = _env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("The environment variable DJANGO_ALLOWED_HOSTS is required in production.")
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Keys protecting identifiers (NIR, NIA, NNP): "keyid:secret" lists, the first one is current.
# Rotation: docs/configuration.md#rotation-des-cles.
MONCOMPTE_IDENTIFIER_HMAC_KEYS = _env_list(
    "MONCOMPTE_IDENTIFIER_HMAC_KEYS",
    ["dev1:dev-only-identifier-hmac-key-not-secret-0123456789"] if not PRODUCTION else [],
)
MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = _env_list(
    "MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS",
    ["dev1:ZGV2LW9ubHktaWRlbnRpZmllci1hZXMta2V5LTAwMDA="] if not PRODUCTION else [],
)
# Key of the keyed hash of the legacy 8-digit codes (moncompte.accounts.legacy).
MONCOMPTE_LEGACY_CODE_KEY = _secret("MONCOMPTE_LEGACY_CODE_KEY", "dev-only-legacy-code-key-not-secret")
# Independent hash chains of the audit journal: appends to different chains run in parallel.
MONCOMPTE_AUDIT_CHAINS = int(os.environ.get("MONCOMPTE_AUDIT_CHAINS", 16))
# Key of the audit journal's hash chain (tamper evidence).
MONCOMPTE_AUDIT_KEY = _secret("MONCOMPTE_AUDIT_KEY", "dev-only-audit-chain-key-not-secret")
if PRODUCTION and not (MONCOMPTE_IDENTIFIER_HMAC_KEYS and MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS):
    raise ImproperlyConfigured(
        "MONCOMPTE_IDENTIFIER_HMAC_KEYS and MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS are required in production."
    )

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
    "moncompte.accounts",
    "moncompte.audit",
    "django_tasks",
    "django_tasks_db",
    "moncompte.notifications",
    "moncompte.verification",
    "moncompte.access",
    "moncompte.web",
]

MIDDLEWARE = [
    # WhiteNoise answers static files before anything personal happens.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "moncompte.web.middleware.PersonalResponseHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "moncompte.accounts.middleware.SessionTimeoutMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "moncompte.accounts.middleware.VerifiedContactRequiredMiddleware",
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
            ],
            # An unknown variable in a template is a bug; tests turn this into an error.
            "string_if_invalid": os.environ.get("DJANGO_TEMPLATE_STRING_IF_INVALID", ""),
        },
    }
]

# Database: SQLite on a laptop, PostgreSQL through DATABASE_URL in production and CI.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = os.environ.get("DATABASE_URL")
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
REDIS_URL = os.environ.get("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("The environment variable REDIS_URL is required in production.")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("MONCOMPTE_CACHE_PREFIX", "moncompte"),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Sessions: cached_db, so a Redis outage loses no session.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_NAME = "moncompte_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("DJANGO_SECURE_COOKIES", PRODUCTION)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Idle and absolute limits, enforced by moncompte.accounts.middleware.SessionTimeoutMiddleware.
MONCOMPTE_SESSION_IDLE_SECONDS = int(os.environ.get("MONCOMPTE_SESSION_IDLE_SECONDS", 30 * 60))
MONCOMPTE_SESSION_ABSOLUTE_SECONDS = int(os.environ.get("MONCOMPTE_SESSION_ABSOLUTE_SECONDS", 12 * 3600))
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
MONCOMPTE_ARGON2_MEMORY_KIB = int(os.environ.get("MONCOMPTE_ARGON2_MEMORY_KIB", 19 * 1024))
MONCOMPTE_ARGON2_TIME_COST = int(os.environ.get("MONCOMPTE_ARGON2_TIME_COST", 2))
MONCOMPTE_ARGON2_PARALLELISM = int(os.environ.get("MONCOMPTE_ARGON2_PARALLELISM", 1))

# Password policy (moncompte.accounts.passwords): letters and digits, this minimum, at most 128.
MONCOMPTE_PASSWORD_MIN_LENGTH = int(os.environ.get("MONCOMPTE_PASSWORD_MIN_LENGTH", 12))
AUTH_PASSWORD_VALIDATORS = [{"NAME": "moncompte.accounts.passwords.MonComptePasswordValidator"}]

# The address people reach the service at: the links the domain puts in emails and SMS.
MONCOMPTE_PUBLIC_URL = os.environ.get("MONCOMPTE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# The phone channel accepts a file's old 8-digit code until this date (ISO, end excluded), even
# after the web's first connection retired it there (the source document: until March 2022).
MONCOMPTE_LEGACY_CODE_PHONE_UNTIL = os.environ.get("MONCOMPTE_LEGACY_CODE_PHONE_UNTIL", "2022-04-01")

# Members of a household hold an account from this age on ("plus de 15 ans").
MONCOMPTE_ACCOUNT_MIN_AGE = int(os.environ.get("MONCOMPTE_ACCOUNT_MIN_AGE", 16))

# After a provisional identifier is replaced by a NIR, signing in with the old one says what the
# new one is during this many days.
MONCOMPTE_FORMER_IDENTIFIER_DAYS = int(os.environ.get("MONCOMPTE_FORMER_IDENTIFIER_DAYS", 180))

# Sign-in throttling (moncompte.accounts.throttling): free failures, then growing waits, capped.
MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER = 5
MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 30
MONCOMPTE_THROTTLE_MAX_WAIT_PER_IDENTIFIER = 15 * 60
MONCOMPTE_THROTTLE_MAX_WAIT_PER_ADDRESS = 60 * 60
MONCOMPTE_THROTTLE_WINDOW_SECONDS = 24 * 3600
# Number of reverse proxies in front of the service whose X-Forwarded-For is trusted.
MONCOMPTE_TRUSTED_PROXY_COUNT = int(os.environ.get("MONCOMPTE_TRUSTED_PROXY_COUNT", 0))

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
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
WHITENOISE_AUTOREFRESH = DEBUG

# Security headers. HSTS and secure cookies in production (TLS ends at the reverse proxy).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 63072000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = _env_bool("DJANGO_SSL_REDIRECT", True)
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "moncompte.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("MONCOMPTE_LOG_LEVEL", "INFO")},
    "loggers": {
        # Request bodies never reach the logs; Django's own request logger is enough for 4xx/5xx.
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Demo mode: pages tell that the data are fictional (make run sets it).
MONCOMPTE_DEMO = _env_bool("MONCOMPTE_DEMO", False)


# --- Notifications, background tasks and one-time codes -------------------------------------
# moncompte.notifications and moncompte.verification; see docs/notifications.md.

# Key sealing message bodies (AES-256-GCM, derived with HKDF): bodies hold one-time codes.
MONCOMPTE_MESSAGE_KEY = _secret("MONCOMPTE_MESSAGE_KEY", "dev-only-message-body-key-not-secret")
# Key of the keyed hash (HMAC-SHA256) of one-time codes: the database never holds a code.
MONCOMPTE_CODE_KEY = _secret("MONCOMPTE_CODE_KEY", "dev-only-one-time-code-key-not-secret")

# Background tasks (django-tasks API). "database": django-tasks-db, the task row is written in
# the caller's transaction and `manage.py db_worker` runs it. "immediate": the task runs in the
# committing process right after commit, never for a rolled-back transaction (laptop, tests).
MONCOMPTE_TASKS_BACKEND = os.environ.get("MONCOMPTE_TASKS_BACKEND", "database" if PRODUCTION else "immediate")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "moncompte.notifications.backends.ImmediateOnCommitBackend",
}
if MONCOMPTE_TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured("MONCOMPTE_TASKS_BACKEND must be 'database' or 'immediate'.")
if PRODUCTION and MONCOMPTE_TASKS_BACKEND != "database":
    raise ImproperlyConfigured("MONCOMPTE_TASKS_BACKEND must be 'database' in production.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[MONCOMPTE_TASKS_BACKEND]}}

# Sending attempts of one message, and the waits before each retry (database backend only).
MONCOMPTE_MESSAGE_MAX_ATTEMPTS = int(os.environ.get("MONCOMPTE_MESSAGE_MAX_ATTEMPTS", 5))
MONCOMPTE_MESSAGE_RETRY_DELAYS = [30, 120, 600, 1800]

# Email: SMTP in production, the development outbox (/dev/messages/) on a laptop.
_OUTBOX_EMAIL_BACKEND = "moncompte.notifications.email.OutboxEmailBackend"
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else _OUTBOX_EMAIL_BACKEND
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", 10))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Mon Compte - Caf <ne-pas-repondre@moncompte.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Domain of the Message-ID header (<idempotency key@domain>); default: DEFAULT_FROM_EMAIL's domain.
MONCOMPTE_EMAIL_MESSAGE_ID_DOMAIN = os.environ.get("MONCOMPTE_EMAIL_MESSAGE_ID_DOMAIN", "")

# SMS: the operator's HTTP gateway in production, the development outbox on a laptop.
_OUTBOX_SMS_BACKEND = "moncompte.notifications.sms.OutboxSmsGateway"
MONCOMPTE_SMS_BACKEND = os.environ.get(
    "MONCOMPTE_SMS_BACKEND", "moncompte.notifications.sms.HttpSmsGateway" if PRODUCTION else _OUTBOX_SMS_BACKEND
)
MONCOMPTE_SMS_URL = os.environ.get("MONCOMPTE_SMS_URL", "")
MONCOMPTE_SMS_TOKEN = (
    _secret("MONCOMPTE_SMS_TOKEN", "dev-only-sms-token-not-secret")
    if MONCOMPTE_SMS_BACKEND.endswith(".HttpSmsGateway")
    else os.environ.get("MONCOMPTE_SMS_TOKEN", "")
)
MONCOMPTE_SMS_TIMEOUT = float(os.environ.get("MONCOMPTE_SMS_TIMEOUT", 10))
# Mobile numbers accepted for SMS: France and its overseas territories (ISO 3166 regions).
MONCOMPTE_SMS_REGIONS = _env_list(
    "MONCOMPTE_SMS_REGIONS", ["FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"]
)

if PRODUCTION:
    if EMAIL_BACKEND == _OUTBOX_EMAIL_BACKEND or MONCOMPTE_SMS_BACKEND == _OUTBOX_SMS_BACKEND:
        raise ImproperlyConfigured("The development outbox cannot be used in production.")
    if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend" and not os.environ.get("EMAIL_HOST"):
        raise ImproperlyConfigured("The environment variable EMAIL_HOST is required in production.")
    if not os.environ.get("DEFAULT_FROM_EMAIL"):
        raise ImproperlyConfigured("The environment variable DEFAULT_FROM_EMAIL is required in production.")
    if MONCOMPTE_SMS_BACKEND.endswith(".HttpSmsGateway") and not MONCOMPTE_SMS_URL.startswith("https://"):
        raise ImproperlyConfigured("MONCOMPTE_SMS_URL (https://...) is required in production.")

# One-time codes (moncompte.verification): lifetime, tries per code, waits before each resend
# (the last one repeats), and codes sent to one destination per hour, all flows together.
MONCOMPTE_CODE_TTL_SECONDS = int(os.environ.get("MONCOMPTE_CODE_TTL_SECONDS", 10 * 60))
MONCOMPTE_CODE_MAX_ATTEMPTS = 5
MONCOMPTE_CODE_RESEND_DELAYS = [30, 60, 120, 300, 600, 900]
MONCOMPTE_CODE_MAX_SENDS_PER_DESTINATION_PER_HOUR = int(
    os.environ.get("MONCOMPTE_CODE_MAX_SENDS_PER_DESTINATION_PER_HOUR", 10)
)


# --- Account creation of new beneficiaries and identity documents ---------------------------
# moncompte.accounts.signup, moncompte.identity.documents; see docs/signup.md.

# Uploaded identity documents: stored by the default storage under random names, in a folder
# that is never served (no MEDIA_URL route). Only the owner of the process may read them.
MEDIA_ROOT = Path(os.environ.get("MONCOMPTE_MEDIA_ROOT", VAR_DIR / "media"))
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# Largest identity document accepted (bytes); larger uploads are cut off while they arrive.
MONCOMPTE_DOCUMENT_MAX_BYTES = int(os.environ.get("MONCOMPTE_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024))


# --- Invitations of household members (moncompte.households.invitations) -------------------
# The invitation link's token is stored as an HMAC with this key; the link lives this many days.
MONCOMPTE_INVITATION_KEY = _secret("MONCOMPTE_INVITATION_KEY", "dev-only-invitation-key-not-secret")
MONCOMPTE_INVITATION_DAYS = int(os.environ.get("MONCOMPTE_INVITATION_DAYS", 7))
# Wrong identity proofs (NIR + birth date) accepted on one invitation before it is cancelled.
MONCOMPTE_INVITATION_MAX_ATTEMPTS = int(os.environ.get("MONCOMPTE_INVITATION_MAX_ATTEMPTS", 5))
# Public address of the service, for links sent by email or SMS (https://moncompte.caf.fr).
# Empty on a laptop: the address of the page the invitation is sent from is used instead.
MONCOMPTE_SITE_URL = os.environ.get("MONCOMPTE_SITE_URL", "").rstrip("/")
