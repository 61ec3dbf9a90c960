"""Worker processes on this machine, for the demo, `collection run` and the fault tests.

Each is a real `emprops worker` process, configured through the same `EMPROPS_*` environment, so
what runs locally is exactly what runs on a GPU box elsewhere.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO


class LocalWorkerPool:
    def __init__(
        self,
        services: list[str],
        count: int,
        *,
        concurrency: int = 1,
        env: Mapping[str, str] | None = None,
        log_dir: Path | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.services, self.count, self.concurrency = services, count, concurrency
        self.env = {**os.environ, **(env or {})}
        self.log_dir = log_dir
        self.extra_args = extra_args or []
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * count
        self._spawned = 0

    def _spawn(self, index: int) -> subprocess.Popen[bytes]:
        self._spawned += 1
        worker_id = f"local-{os.getpid()}-{index}-{self._spawned}"
        args = [sys.executable, "-m", "emprops", "worker", "--services", ",".join(self.services),
                "--concurrency", str(self.concurrency), "--worker-id", worker_id,
                *self.extra_args]  # fmt: skip
        out: int | IO[bytes] = subprocess.DEVNULL
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{worker_id}.log", "wb")  # noqa: SIM115 - child owns it
        return subprocess.Popen(
            args, env=self.env, stdout=out, stderr=out, preexec_fn=_terminate_with_parent
        )

    def start(self) -> None:
        for i in range(self.count):
            self.processes[i] = self._spawn(i)

    def kill(self, index: int) -> None:
        """SIGKILL one worker: no goodbye, its jobs are left for the reaper."""
        process = self.processes[index]
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def restart(self, index: int) -> None:
        self.kill(index)
        self.processes[index] = self._spawn(index)

    def alive(self) -> int:
        return sum(1 for p in self.processes if p is not None and p.poll() is None)

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM all and wait: they finish or hand back their jobs."""
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            if process is None:
                continue
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def __enter__(self) -> LocalWorkerPool:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _terminate_with_parent() -> None:
    """Linux: SIGTERM the worker when its parent dies (even by SIGKILL), so it hands back its jobs
    instead of lingering as an orphan."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def settings_env(data_dir: Path, **overrides: str | None) -> dict[str, str]:
    """The environment that points worker processes at the same state as this process."""
    env = {"EMPROPS_DATA_DIR": str(data_dir)}
    for key, value in overrides.items():
        if value is not None:
            env[f"EMPROPS_{key.upper()}"] = value
    return env
