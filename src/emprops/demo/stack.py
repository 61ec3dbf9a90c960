"""The embedded stack the demo runs on: the API (with its run dispatcher) served in this process,
and local worker processes for rendering and publishing, all on the data directory's private
Redis, SQLite database, blob folder and local chain."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from emprops.api.app import create_app
from emprops.api.state import AppState
from emprops.core.errors import UnavailableError
from emprops.core.settings import Settings
from emprops.worker.local_pool import LocalWorkerPool, settings_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DemoStack:
    def __init__(
        self, settings: Settings, demo_dir: Path, *, workers: int, port: int,
        comfyui: str | None = None,
    ) -> None:  # fmt: skip
        self.settings, self.demo_dir = settings, demo_dir
        self.assets_root = settings.data_dir.resolve() / "assets"  # as `emprops serve` has it
        self.workers, self.port, self.comfyui = workers, port, comfyui
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self.pools: list[LocalWorkerPool] = []
        self.app: FastAPI

    @property
    def app_state(self) -> AppState:
        state: AppState = self.app.state.emprops  # set by the app's lifespan
        return state

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> DemoStack:
        self.app = create_app(self.settings.model_copy(update={"indexer_in_api": True}))
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, lifespan="on",
            log_level="warning",
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                error = self._task.exception() if not self._task.cancelled() else None
                raise UnavailableError(
                    f"the API could not start on 127.0.0.1:{self.port} ({error or 'it exited'}): "
                    "is the port taken? try --port"
                )
            await asyncio.sleep(0.05)
        self.demo_dir.mkdir(parents=True, exist_ok=True)
        self.assets_root.mkdir(parents=True, exist_ok=True)  # the render workers want it
        worker_config = self.demo_dir / "worker.toml"
        text = f'[connectors.render]\nassets_root = "{self.assets_root}"\nprocesses = 1\n'
        if self.comfyui is not None:  # a TOML basic string is a JSON string
            text += f"[connectors.comfyui]\nbase_url = {json.dumps(self.comfyui)}\n"
        worker_config.write_text(text)
        env = settings_env(self.settings.data_dir, redis_url=self.settings.redis_url,
                           queue_name=self.settings.queue_name)  # fmt: skip
        logs, config_args = self.settings.data_dir / "logs", ["--config", str(worker_config)]
        self.pools = [LocalWorkerPool(["render", "publish"], self.workers, concurrency=2, env=env,
                                      log_dir=logs, extra_args=config_args)]  # fmt: skip
        if self.comfyui is not None:  # one more worker, for ComfyUI (two jobs keep its queue fed)
            own_id = ["--worker-id", f"local-{os.getpid()}-comfyui"]  # the last --worker-id wins
            self.pools.append(LocalWorkerPool(["comfyui"], 1, concurrency=2, env=env,
                                              log_dir=logs / "comfyui",
                                              extra_args=[*config_args, *own_id]))  # fmt: skip
        for pool in self.pools:
            await asyncio.to_thread(pool.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for pool in self.pools:
            await asyncio.to_thread(pool.stop)
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            try:
                await asyncio.wait_for(self._task, 30)
            except TimeoutError:
                self._task.cancel()


def default_workers() -> int:
    """One worker process per core (at least two, so one can publish while one renders)."""
    return max(2, os.cpu_count() or 2)
