"""A redis-server of a test's own, to stop, restart, freeze and thaw (issue 8, point 1).

The Redis of the run (REDIS_URL) is shared: a test that cuts Redis starts its own instead, on a
free loopback port, without persistence (``--save "" --appendonly no``)::

    with LocalRedis() as redis:          # started and answering PING
        redis.url                        # redis://127.0.0.1:<port>/0
        redis.stop(); redis.start()      # down (connections refused), then back, empty, same port
        redis.freeze(); redis.thaw()     # SIGSTOP / SIGCONT: connections accepted, nothing answered,
                                         # then back with every key it held

``redis_server_path()`` finds the binary (``REDIS_SERVER_PATH``, else Debian's); a test calls
``require_redis_server()``, which skips without it locally and fails under CI=true.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.support.server import free_port
from tests.support.services import require_or_skip

CANDIDATES = ("/usr/bin/redis-server",)


def redis_server_path() -> str | None:
    explicit = os.environ.get("REDIS_SERVER_PATH", "").strip()
    for candidate in (explicit,) if explicit else CANDIDATES:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("redis-server") if not explicit else None


def require_redis_server() -> str:
    path = redis_server_path()
    if path is None:
        require_or_skip("this test starts a redis-server of its own (apt-get install redis-server)")
    return path


def _answers_ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class LocalRedis:
    def __init__(self, *, work_dir: Path | None = None, port: int | None = None) -> None:
        self.binary = require_redis_server()
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.work_dir = work_dir
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> None:
        """Start (again, on the same port) and wait until it answers PING."""
        if self.process is not None and self.process.poll() is None:
            return
        log = subprocess.DEVNULL
        if self.work_dir is not None:
            self.work_dir.mkdir(parents=True, exist_ok=True)
            log = open(self.work_dir / f"redis-{self.port}.log", "ab")  # noqa: SIM115 (closed below)
        try:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.work_dir or None,
                start_new_session=True,
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        deadline = time.monotonic() + timeout
        while not _answers_ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stopped: the port refuses connections. Its data is gone (no persistence)."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)  # a frozen server must run to exit
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def freeze(self) -> None:
        """SIGSTOP: the kernel still accepts connections, the server answers nothing."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGCONT)

    def __enter__(self) -> LocalRedis:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
