"""In production, HSTS, the HTTPS redirect and secure cookies are on (docs/security.md, "Every
page"): the production settings are loaded in a child process and a request goes through the
real middleware stack there. Fails if any of them is removed or weakened."""

import json
import os
import subprocess
import sys
from pathlib import Path

from config import secrets

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client, override_settings
# No Redis nor database is needed for these answers: a local cache stands in.
override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}).enable()
client = Client(HTTP_HOST="moncompte.example")
plain = client.get("/connexion/")
secure = client.get("/healthz", secure=True)
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
    "hsts": secure.get("Strict-Transport-Security", ""),
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
}))
"""


def test_production_sends_hsts_redirects_to_https_and_secures_cookies(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONCOMPTE_", "DJANGO_", "EMAIL_"))}
    env.pop("REDIS_URL", None)
    env.update(
        {
            "MONCOMPTE_ENV": "production",
            "MONCOMPTE_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # No query runs for these answers; the database needs not exist.
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "DJANGO_ALLOWED_HOSTS": "moncompte.example",
            "EMAIL_HOST": "smtp.example",
            "DEFAULT_FROM_EMAIL": "Mon Compte <ne-pas-repondre@moncompte.example>",
            "MONCOMPTE_SMS_URL": "https://sms.example/v1/sms",
            **{s.variable: f"prod{index}:" + "p" * 44 for index, s in enumerate(secrets.SECRETS)},
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["plain_status"] == 301
    assert seen["plain_location"].startswith("https://moncompte.example/")
    hsts = seen["hsts"]
    assert "includeSubDomains" in hsts and "preload" in hsts
    max_age = int(hsts.split("max-age=")[1].split(";")[0])
    assert max_age >= 365 * 24 * 3600
    assert seen["session_secure"] is True and seen["csrf_secure"] is True


def test_the_middleware_itself_makes_every_answer_private_and_vary_on_cookie(rf):
    """Not left to the session middleware (which adds Vary only when the session was read): an
    answer that never touched the session gets the headers too."""
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    from moncompte.web.middleware import PersonalResponseHeadersMiddleware

    request = rf.get("/")
    request.user = AnonymousUser()
    response = PersonalResponseHeadersMiddleware(lambda request: HttpResponse("x"))(request)
    assert "Cookie" in response["Vary"]
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
