"""Where a worker's CPU goes, request by request (``bench/signin.py --profile``). Bench only.

A gunicorn configuration module (``--config python:bench.profiling``): its ``post_worker_init``
hook wraps the application each worker loaded (``measured()``), its ``worker_exit`` hook writes
the worker's figures into BENCH_PROFILE_DIR. BENCH_PROFILE chooses what is recorded:

- ``regions`` (default): CPU time (process time, so waits on PostgreSQL and Redis are not
  counted) and count of each kind of request ("METHOD /path"), and inside each of them the CPU
  time and number of calls of the regions listed in REGIONS below (inclusive: a region nested
  in another is counted in both, a region nested in itself once), and the SQL statements of the
  first request of each kind. Written to ``regions-<pid>.json``. The timers cost about a
  microsecond per call, negligible next to what they measure.
- ``cprofile``: a cProfile (CPU timer) of each kind of request, ``<pid>-<METHOD>-<path>.pstats``.
  Deterministic profiling inflates pure-Python code several times: read it for structure, not
  for absolute figures.

The response body is consumed inside the measure, so lazy rendering counts. Requests carrying
an ``X-Bench-Warmup`` header (first imports, template compilation, connections) are not counted.
"""

import cProfile
import functools
import importlib
import json
import os
import re
import time
from collections import defaultdict

_MODE = os.environ.get("BENCH_PROFILE", "regions")
_OUTPUT = os.environ.get("BENCH_PROFILE_DIR", ".")

# (label, module, attribute path). Functions imported by name elsewhere are patched where used.
# The code moves (issue 7: the sign-in split into a domain credentials check and a web session):
# old and new places are both listed, and a place that does not exist is skipped.
REGIONS = [
    ("argon2 verify", "django.contrib.auth.hashers", "Argon2PasswordHasher.verify"),
    ("ours: signin()", "moncompte.web.signin.views", "signin"),
    ("ours: credentials_check() (domain)", "moncompte.web.signin.views", "credentials_check"),
    ("ours: open_session()", "moncompte.accounts.signin", "open_session"),
    ("ours: open_web_session() (web session)", "moncompte.web.signin.views", "open_web_session"),
    ("ours: session record (sessions list)", "moncompte.accounts.signin", "session_opened"),
    ("ours: session record (sessions list)", "moncompte.web.signin.session", "session_open"),
    ("ours: identifier_digest() (HMAC)", "moncompte.accounts.signin", "identifier_digest"),
    ("ours: throttling.signin_check", "moncompte.accounts.throttling", "signin_check"),
    ("ours: throttling.signin_succeeded", "moncompte.accounts.throttling", "signin_succeeded"),
    ("ours: remember_device", "moncompte.web.signin.views", "remember_device"),
    ("ours: actor_of()", "moncompte.web.signin.views", "actor_of"),
    ("ours: actor_of()", "moncompte.web.signin.session", "actor_of"),
    ("ours: actor_of()", "moncompte.web.home.views", "actor_of"),
    ("login()", "moncompte.accounts.signin", "login"),
    ("login()", "moncompte.web.signin.session", "login"),
    ("login()", "django.contrib.auth.views", "auth_login"),
    ("stock: authenticate()", "django.contrib.auth.forms", "authenticate"),
    ("form.is_valid()", "django.forms.forms", "BaseForm.is_valid"),
    ("session.cycle_key()", "django.contrib.sessions.backends.base", "SessionBase.cycle_key"),
    ("session save (all)", "django.contrib.sessions.backends.cached_db", "SessionStore.save"),
    ("session save (all)", "django.contrib.sessions.backends.db", "SessionStore.save"),
    ("session load", "django.contrib.sessions.backends.cached_db", "SessionStore.load"),
    ("session load", "django.contrib.sessions.backends.db", "SessionStore.load"),
    ("SessionMiddleware.process_response", "django.contrib.sessions.middleware", "SessionMiddleware.process_response"),
    ("auth.get_user() (middleware)", "django.contrib.auth", "get_user"),
    ("journal_record", "moncompte.accounts.signin", "journal_record"),
    ("journal_record", "moncompte.accounts.sessions", "journal_record"),
    ("journal_record", "moncompte.web.home.views", "journal_record"),
    ("journal_record", "moncompte.households.selectors", "journal_record"),
    ("home: memberships_with_standing", "moncompte.web.home.views", "memberships_with_standing"),
    ("home: dossier_overview", "moncompte.web.home.views", "dossier_overview"),
    ("home: home_overview", "moncompte.web.home.views", "home_overview"),
    ("home: home_files (memberships, policy, overviews)", "moncompte.web.home.views", "home_files"),
    ("home: dossier_overviews", "moncompte.web.home.views", "dossier_overviews"),
    ("home: current_memberships", "moncompte.web.home.views", "current_memberships"),
    ("template render", "django.template.backends.django", "Template.render"),
    ("CSRF middleware (view+response)", "django.middleware.csrf", "CsrfViewMiddleware.process_view"),
    ("CSRF middleware (view+response)", "django.middleware.csrf", "CsrfViewMiddleware.process_response"),
    ("CSP middleware", "csp.middleware", "CSPMiddleware.process_response"),
    ("SQL queries (count = queries)", "django.db.backends.utils", "CursorWrapper._execute_with_wrappers"),
    ("SQL transaction commits", "django.db.backends.base.base", "BaseDatabaseWrapper.commit"),
    ("Redis commands (count = commands)", "redis.client", "Redis.execute_command"),
]

_current: str | None = None
_requests: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
_regions: dict[str, dict[str, list[float]]] = defaultdict(dict)
_profiles: dict[str, cProfile.Profile] = {}
_active: set[str] = set()
_sql: dict[str, list[str]] = {}
_sql_done: set[str] = set()
_installed = False


def _timed(label, function):
    @functools.wraps(function)
    def timed(*args, **kwargs):
        if _current is None or label in _active:
            # Outside a counted request, or nested in the same region (templates including
            # templates): counted once, by the outermost call.
            return function(*args, **kwargs)
        key, started = _current, time.process_time()
        _active.add(label)
        try:
            return function(*args, **kwargs)
        finally:
            _active.discard(label)
            entry = _regions[key].setdefault(label, [0, 0.0])
            entry[0] += 1
            entry[1] += time.process_time() - started

    return timed


def _record_sql(execute):
    """Keep the SQL of the first counted request of each kind, to show what a request asks."""

    @functools.wraps(execute)
    def recording(self, sql, params, many, executor):
        if _current is not None and _current not in _sql_done:
            _sql.setdefault(_current, []).append(" ".join(str(sql).split())[:160])
        return execute(self, sql, params, many, executor)

    return recording


def _install_regions():
    from django.contrib.auth.signals import user_logged_in
    from django.db.backends.utils import CursorWrapper

    CursorWrapper._execute_with_wrappers = _record_sql(CursorWrapper._execute_with_wrappers)
    user_logged_in.send = _timed("user_logged_in signal (last_login)", user_logged_in.send)
    for label, module_name, path in REGIONS:
        try:
            owner = importlib.import_module(module_name)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            setattr(owner, name, _timed(label, getattr(owner, name)))
        except (ImportError, AttributeError):
            continue  # the code moved: that region is simply not measured


def measured(django_application):
    """The WSGI application ``django_application`` with its requests measured."""

    def application(environ, start_response):
        global _current, _installed
        if not _installed:
            _installed = True
            if _MODE == "regions":
                _install_regions()
        if environ.get("HTTP_X_BENCH_WARMUP"):
            return django_application(environ, start_response)
        key = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
        profile = _profiles.setdefault(key, cProfile.Profile(time.process_time)) if _MODE == "cprofile" else None
        _current = key
        started = time.process_time()
        if profile:
            profile.enable()
        try:
            result = django_application(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        finally:
            if profile:
                profile.disable()
            entry = _requests[key]
            entry[0] += 1
            entry[1] += time.process_time() - started
            _sql_done.add(key)
            _current = None
        return [body]

    return application


def post_worker_init(worker):
    """gunicorn hook: wrap whatever application the worker loaded (the harness names it)."""
    worker.wsgi = measured(worker.wsgi)


def worker_exit(server, worker):
    pid = os.getpid()
    with open(os.path.join(_OUTPUT, f"regions-{pid}.json"), "w", encoding="utf-8") as handle:
        json.dump({"requests": dict(_requests), "regions": dict(_regions), "sql": _sql}, handle)
    for key, profile in _profiles.items():
        name = re.sub(r"[^A-Za-z0-9]+", "-", key).strip("-")
        profile.dump_stats(os.path.join(_OUTPUT, f"{pid}-{name}.pstats"))
