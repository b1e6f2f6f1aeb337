"""Real gunicorn servers of Mon Compte, for the tests and the benchmark: the one shared harness.

Usable without pytest and without Django settings (bench/signin.py imports it); only
``running_server`` and ``process_secrets`` read the settings of the calling process.

For the benchmark (or any script)::

    from tests.support.server import GunicornServer, production_environment

    env = production_environment(database_url=..., redis_url=..., work_dir=work, cache_prefix="bench")
    collect_static(env)                                  # production serves a static manifest
    with GunicornServer(env, work_dir=work, workers=2, threads=1, worker_class="sync") as server:
        requests.get(server.url + "/connexion/")         # started and ready (answered /healthz)
        server.processes()                               # master and workers, for CPU figures

or, step by step: ``server = GunicornServer(...); server.start(); server.wait_ready(min_workers=2);
...; server.stop()``. ``application`` and ``gunicorn_args`` run something else than
``config.wsgi:application`` (a profiling wrapper), ``settings_module`` another settings module.

For a test, in production mode with the test process's keys and its test database::

    with running_server(database_url=..., redis_url=..., work_dir=tmp_path) as server:
        requests.get(server.url + "/healthz")

Each server binds a free loopback port, talks plain HTTP (TLS redirect and secure cookies off),
runs in its own process group (stopped as a whole, SIGTERM then SIGKILL), and writes its output
to ``work_dir/gunicorn-<name>-<port>.log`` (``log_tail()`` for error messages). It runs with the
production gunicorn configuration, config/gunicorn.conf.py (the project's logging, redaction on
every logger, the access log without query strings): by default the access log goes to its
standard output, hence to that file too; ``MONCOMPTE_LOG_FILE``, ``MONCOMPTE_ACCESS_LOG_FILE``
and ``MONCOMPTE_ERROR_LOG_FILE`` in ``env`` send the application's log, the access log and
gunicorn's messages to files of their own (tests/integration/test_log_scan.py reads them).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

import requests

from config.secrets import SECRETS, development_environment

REPO_ROOT = Path(__file__).resolve().parents[2]
# What production runs with (docs/configuration.md): the project's logging for gunicorn's loggers.
GUNICORN_CONFIG = REPO_ROOT / "config" / "gunicorn.conf.py"

# Variables of the calling process that never reach a server: it gets exactly what it is given.
_NOT_INHERITED_PREFIXES = ("DJANGO_", "MONCOMPTE_", "EMAIL_")
_NOT_INHERITED = {"DATABASE_URL", "REDIS_URL", "DEFAULT_FROM_EMAIL", "TEST_DATABASE_URL"}


class ServerError(RuntimeError):
    """The server exited or did not become ready; the message ends with its log's tail."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_environment(
    *,
    database_url: str,
    redis_url: str,
    work_dir: Path,
    cache_prefix: str | None = None,
    secrets: Mapping[str, str] | None = None,
    settings_module: str = "config.settings",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a server in production mode (``MONCOMPTE_ENV=production``).

    ``secrets``: a value for every variable of ``config.secrets.SECRETS`` (default: their
    public development values; tests pass ``process_secrets()`` to share their own keys).
    ``cache_prefix``: its Redis key prefix (default: a new random one, so that nothing is
    shared with another run). Outside services that production requires but that no request
    of a test or the benchmark calls (SMTP, the SMS gateway) get placeholder addresses.
    ``extra`` is applied last. Static files go to ``work_dir/static``, var files to ``work_dir/var``.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_NOT_INHERITED_PREFIXES) and key not in _NOT_INHERITED
    }
    given = dict(development_environment() if secrets is None else secrets)
    missing = [s.variable for s in SECRETS if not given.get(s.variable)]
    if missing:
        raise ValueError(f"production_environment() lacks the secrets {', '.join(missing)}")
    env.update(given)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings_module,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")])),
            "PYTHONUNBUFFERED": "1",
            "MONCOMPTE_ENV": "production",
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "MONCOMPTE_CACHE_PREFIX": cache_prefix or f"server-{uuid.uuid4().hex}",
            "MONCOMPTE_VAR_DIR": str(work_dir / "var"),
            "DJANGO_STATIC_ROOT": str(work_dir / "static"),
            "MONCOMPTE_LOG_LEVEL": "WARNING",
            "EMAIL_HOST": "127.0.0.1",
            "DEFAULT_FROM_EMAIL": "Mon Compte test <ne-pas-repondre@moncompte.test>",
            "MONCOMPTE_SMS_URL": "https://127.0.0.1:9/sms",
        }
    )
    env.update(extra or {})
    return env


def collect_static(env: Mapping[str, str], timeout: float = 300) -> None:
    """Production serves hashed static files from a manifest: build it once per directory."""
    if (Path(env["DJANGO_STATIC_ROOT"]) / "staticfiles.json").exists():
        return
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=REPO_ROOT,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        output = result.stdout + result.stderr[-4000:]
        raise ServerError(f"collectstatic failed with code {result.returncode}:\n{output}")


class GunicornServer:
    """One gunicorn on a free loopback port. A context manager: start and wait_ready, then stop.

    ``env``: its whole environment (``production_environment()``). ``worker_class`` None:
    gunicorn's choice (gthread when ``threads`` > 1). ``gunicorn_args``: appended to the command
    line, after ``--config config/gunicorn.conf.py`` (a ``--config`` there replaces it, as
    ``["--config", "python:bench.profiling"]`` does).
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        work_dir: Path,
        application: str = "config.wsgi:application",
        workers: int = 4,
        threads: int = 4,
        worker_class: str | None = None,
        gunicorn_args: Sequence[str] = (),
        name: str = "server",
        timeout: int = 120,
        log_level: str = "warning",
    ) -> None:
        self.env = dict(env)
        self.work_dir = Path(work_dir)
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cache_prefix = self.env.get("MONCOMPTE_CACHE_PREFIX", "")
        self.log_path = self.work_dir / f"gunicorn-{name}-{self.port}.log"
        self.command = [
            sys.executable, "-m", "gunicorn", application,
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers), "--threads", str(threads),
            *(["--worker-class", worker_class] if worker_class else []),
            "--timeout", str(timeout), "--graceful-timeout", "5",
            # Longer than any pause of a client between two requests on one connection, so that
            # the server never closes a kept-alive connection just as the client reuses it.
            "--keep-alive", "60",
            # The default control socket is one path for every gunicorn of the machine.
            "--no-control-socket",
            "--log-level", log_level,
            "--config", str(GUNICORN_CONFIG),
            *gunicorn_args,
        ]  # fmt: skip
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        if self.process is None:
            raise ServerError("the server is not started")
        return self.process.pid

    def start(self) -> GunicornServer:
        """Launch gunicorn (returns at once: call wait_ready)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as a whole
            )
        return self

    def wait_ready(
        self,
        *,
        timeout: float = 60.0,
        path: str = "/healthz",
        headers: Mapping[str, str] | None = None,
        min_workers: int | None = None,
    ) -> None:
        """Wait until ``path`` answers 200 and, with ``min_workers``, that many workers are up.

        Raises ServerError (with the log's tail) if gunicorn exits or the time runs out.
        """
        deadline = time.monotonic() + timeout
        last = "no answer"
        with requests.Session() as session:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    code = None if self.process is None else self.process.returncode
                    raise ServerError(f"gunicorn exited with code {code} before answering.\n{self.log_tail()}")
                try:
                    answer = session.get(self.url + path, headers=dict(headers or {}), timeout=2)
                    last = f"HTTP {answer.status_code}"
                    if answer.status_code == 200 and (min_workers is None or len(self.processes()) > min_workers):
                        return
                except requests.RequestException as error:
                    last = type(error).__name__
                time.sleep(0.2)
        raise ServerError(f"gunicorn did not answer {path} within {timeout:.0f} s ({last}).\n{self.log_tail()}")

    def processes(self) -> list:
        """The master and its workers (psutil.Process objects), e.g. to measure their CPU time."""
        import psutil

        try:
            master = psutil.Process(self.pid)
            return [master, *master.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the whole process group, SIGKILL after ``timeout``. Safe to call twice."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> GunicornServer:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def forget_cache(redis_url: str, cache_prefix: str) -> None:
    """Remove what a server left in Redis (sessions, throttling counters) under its prefix."""
    import redis

    if not cache_prefix:
        return
    with contextlib.suppress(redis.RedisError), redis.Redis.from_url(redis_url, socket_timeout=5) as client:
        keys = list(client.scan_iter(match=f"{cache_prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])


# --- For tests: servers sharing the test process's settings ------------------------------------


def process_secrets() -> dict[str, str]:
    """This process's secrets (``config.secrets.SECRETS``) as environment variables ("a,b" for a
    list): a server given them computes the same identifier digests and reads the same ciphertexts.
    Reads django.conf.settings (current overrides included)."""
    from django.conf import settings

    found = {}
    for secret in SECRETS:
        value = getattr(settings, secret.setting)
        found[secret.variable] = ",".join(value) if isinstance(value, list | tuple) else str(value)
    return found


def database_url_from_settings(settings_dict: Mapping) -> str:
    """A postgres:// URL for the database described by a Django DATABASES entry.

    Call it inside a test using the database, where ``connection.settings_dict["NAME"]`` is the
    test database pytest-django created (test_<name>, with a suffix under xdist).
    """
    if "postgresql" not in settings_dict["ENGINE"]:
        raise ValueError(f"Not a PostgreSQL database: {settings_dict['ENGINE']}")
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or ""
    if host.startswith("/"):  # Unix socket directory
        host_part, query = "", f"?host={quote(host, safe='')}"
    else:
        host_part, query = host, ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host_part}{port}/{quote(str(settings_dict['NAME']), safe='')}{query}"


@contextlib.contextmanager
def running_server(
    *,
    database_url: str,
    redis_url: str,
    work_dir: Path,
    workers: int = 4,
    threads: int = 4,
    startup_timeout: float = 60.0,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[GunicornServer]:
    """A production server with this test process's keys and Argon2 parameters, on its database.

    Started and ready on entry (``server.url``); stopped, and its Redis keys removed, on exit.
    """
    from django.conf import settings

    work_dir.mkdir(parents=True, exist_ok=True)
    env = production_environment(
        database_url=database_url,
        redis_url=redis_url,
        work_dir=work_dir,
        secrets=process_secrets(),
        settings_module=settings.SETTINGS_MODULE,
        extra={
            "MONCOMPTE_ARGON2_MEMORY_KIB": str(settings.MONCOMPTE_ARGON2_MEMORY_KIB),
            "MONCOMPTE_ARGON2_TIME_COST": str(settings.MONCOMPTE_ARGON2_TIME_COST),
            "MONCOMPTE_ARGON2_PARALLELISM": str(settings.MONCOMPTE_ARGON2_PARALLELISM),
            **(extra_env or {}),
        },
    )
    collect_static(env)
    server = GunicornServer(env, work_dir=work_dir, workers=workers, threads=threads, name="test")
    server.start()
    try:
        server.wait_ready(timeout=startup_timeout)
        yield server
    finally:
        server.stop()
        forget_cache(redis_url, server.cache_prefix)
