"""Settings of the benchmark's "stock" server: Django's own LoginView next to ours.

Everything else (middleware, hasher, sessions, cache, templates of the home page) is the
project's, so that the only difference measured is the sign-in view itself.
"""

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, TEMPLATES

ROOT_URLCONF = "bench.stock_urls"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
TEMPLATES = [{**TEMPLATES[0], "DIRS": [BASE_DIR / "bench" / "templates"]}]
# Django's own cached_db store, not ours (moncompte.web.session_store): the stock baseline stays stock.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
