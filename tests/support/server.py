"""A real gunicorn serving Mon Compte in production mode, for tests that need real processes.

    with running_server(database_url=..., redis_url=..., work_dir=tmp_path) as server:
        requests.get(server.url + "/healthz")

The server runs ``config.wsgi:application`` with several workers and threads, MONCOMPTE_ENV=
production, and the same keys as the test process (so both compute the same identifier digests
and can read each other's ciphertexts). TLS redirect and secure cookies are off: the test talks
plain HTTP on loopback. Each run gets its own cache key prefix, so nothing is shared in Redis
with another run. The whole process group is stopped on exit.
"""

import ast
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests
from django.conf import settings

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    cache_prefix: str
    log_path: Path

    def log_tail(self, lines: int = 60) -> str:
        return _tail(self.log_path, lines)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url_from_settings(settings_dict: dict) -> str:
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


# Settings named like the environment variable they are read from, holding keys or secrets.
_KEY_SETTING = re.compile(r"^MONCOMPTE_[A-Z0-9_]+_(KEY|KEYS|SECRET|SECRETS|TOKEN)$")


def key_settings() -> dict[str, str]:
    """This process's keys as environment variables ("a,b" for a list), for a server to share.

    Found by name, so that a key added to the settings later is shared without a change here.
    """
    found = {}
    for name in dir(settings):
        if not _KEY_SETTING.match(name):
            continue
        value = getattr(settings, name)
        if isinstance(value, list | tuple):
            value = ",".join(str(item) for item in value)
        if isinstance(value, str) and value:
            found[name] = value
    return found


def secret_defaults() -> dict[str, str]:
    """Every ``_secret("NAME", "development default")`` of the settings module, with the value this
    process uses: the environment's if set, else the development default.

    A production server refuses to start without each of them; giving it the same values as this
    process (development defaults included) keeps both sides able to read each other's data.
    """
    path = Path(sys.modules[settings.SETTINGS_MODULE].__file__)
    found = {}
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "_secret"
            and len(node.args) == 2
            and all(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in node.args)
        ):
            name, default = node.args[0].value, node.args[1].value
            found[name] = os.environ.get(name) or default
    return found


def production_environment(*, database_url: str, redis_url: str, cache_prefix: str, work_dir: Path) -> dict[str, str]:
    """The environment of a production server sharing this process's keys and database."""
    env = dict(os.environ)
    # Nothing of the test process's own tuning should leak into the server.
    for name in ("DJANGO_DEBUG", "DJANGO_SSL_REDIRECT", "DJANGO_SECURE_COOKIES", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        env.pop(name, None)
    # What production requires besides secrets; nothing is sent to these during a test.
    env.setdefault("EMAIL_HOST", "127.0.0.1")
    env.setdefault("DEFAULT_FROM_EMAIL", "Mon Compte test <ne-pas-repondre@moncompte.test>")
    env.setdefault("MONCOMPTE_SMS_URL", "https://127.0.0.1:9/sms")
    env.update(secret_defaults())
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE,
            "MONCOMPTE_ENV": "production",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            # MONCOMPTE_IDENTIFIER_HMAC_KEYS, MONCOMPTE_AUDIT_KEY and every other key setting.
            **key_settings(),
            "MONCOMPTE_ARGON2_MEMORY_KIB": str(settings.MONCOMPTE_ARGON2_MEMORY_KIB),
            "MONCOMPTE_ARGON2_TIME_COST": str(settings.MONCOMPTE_ARGON2_TIME_COST),
            "MONCOMPTE_ARGON2_PARALLELISM": str(settings.MONCOMPTE_ARGON2_PARALLELISM),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "MONCOMPTE_CACHE_PREFIX": cache_prefix,
            "MONCOMPTE_VAR_DIR": str(work_dir / "var"),
            "DJANGO_STATIC_ROOT": str(work_dir / "static"),
            "MONCOMPTE_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    return str(REPO_ROOT / ".venv" / "bin" / name)


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def collect_static(env: dict[str, str]) -> None:
    """Production serves hashed static files from a manifest: build it once per directory."""
    if (Path(env["DJANGO_STATIC_ROOT"]) / "staticfiles.json").exists():
        return
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"collectstatic failed with code {result.returncode}:\n{result.stdout}{result.stderr[-4000:]}"
        )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@contextlib.contextmanager
def running_server(
    *,
    database_url: str,
    redis_url: str,
    work_dir: Path,
    workers: int = 4,
    threads: int = 4,
    startup_timeout: float = 60.0,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Start gunicorn on a free loopback port, wait for /healthz, stop it on exit."""
    work_dir.mkdir(parents=True, exist_ok=True)
    cache_prefix = f"test-{uuid.uuid4().hex}"
    env = production_environment(
        database_url=database_url, redis_url=redis_url, cache_prefix=cache_prefix, work_dir=work_dir
    )
    env.update(extra_env or {})
    collect_static(env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = work_dir / f"gunicorn-{port}.log"
    command = [
        _bin("gunicorn"),
        "config.wsgi:application",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--graceful-timeout",
        "5",
        # Longer than any pause of a test between two requests on one connection, so that the
        # server never closes a kept-alive connection just as the client reuses it.
        "--keep-alive",
        "60",
        # The default control socket is one path for every gunicorn of the machine.
        "--no-control-socket",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )
    try:
        _wait_healthy(process, url, log_path, startup_timeout)
        yield Server(url=url, pid=process.pid, cache_prefix=cache_prefix, log_path=log_path)
    finally:
        _stop(process)
        _forget_cache(redis_url, cache_prefix)


def _forget_cache(redis_url: str, cache_prefix: str) -> None:
    """Remove what the server left in Redis (sessions, throttling counters) under its prefix."""
    import redis

    with contextlib.suppress(redis.RedisError), redis.Redis.from_url(redis_url, socket_timeout=5) as client:
        keys = list(client.scan_iter(match=f"{cache_prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])


def _wait_healthy(process: subprocess.Popen, url: str, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error = ""
    with requests.Session() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with code {process.returncode} before answering.\n{_tail(log_path, 60)}"
                )
            try:
                response = session.get(url + "/healthz", timeout=2)
                if response.status_code == 200:
                    return
                last_error = f"HTTP {response.status_code}"
            except requests.RequestException as error:
                last_error = type(error).__name__
            time.sleep(0.2)
    raise RuntimeError(
        f"gunicorn did not answer /healthz within {timeout:.0f} s ({last_error}).\n{_tail(log_path, 60)}"
    )
