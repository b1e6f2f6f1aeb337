"""Settings of the benchmark's "bare" server: Django's LoginView with nothing around it.

The second baseline of bench/signin.py: what a sign-in costs in plain Django on the same data,
with the same Argon2 hasher and parameters, the same PostgreSQL database and sessions stored in
it (``db`` backend, no cache in front), but minimal pages (bench/templates/bare/), no context
processor and only the three middlewares a sign-in needs (sessions, CSRF, authentication).
"""

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR

ROOT_URLCONF = "bench.bare_urls"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
SESSION_ENGINE = "django.contrib.sessions.backends.db"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "bench" / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"context_processors": []},
    }
]
LOGIN_URL = "/bench/connexion-nue/"
LOGIN_REDIRECT_URL = "/mon-compte/"
