"""`emprops worker`: run a worker process that pulls jobs for the given services."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated

import typer

from emprops.cli.context import broker_config, clear_errors, run_command
from emprops.core.errors import InvalidInputError
from emprops.core.logging import configure_logging
from emprops.core.redis_connection import close_endpoint, open_endpoint
from emprops.core.settings import get_settings
from emprops.core.tracing import configure_tracing, shutdown_tracing
from emprops.storage import open_blob_store
from emprops.worker.config import build_capabilities, load_worker_config
from emprops.worker.connector import Connector
from emprops.worker.connectors import connector_class
from emprops.worker.runtime import WorkerOptions, WorkerRuntime


@clear_errors
def run_worker(
    services: Annotated[
        str | None, typer.Option(help="Comma-separated services, e.g. echo,render.")
    ] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, help="Jobs at once.")] = None,
    config: Annotated[Path | None, typer.Option(help="Worker TOML config file.")] = None,
    worker_id: Annotated[
        str | None, typer.Option(help="Stable id (default: host-pid-random).")
    ] = None,
    grace: Annotated[float, typer.Option(help="Seconds to finish jobs on SIGTERM.")] = 30.0,
) -> None:
    """Run a worker: claims jobs it can run, reports progress, honours cancel and SIGTERM."""
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    configure_tracing(settings, service_name="emprops-worker")  # a no-op unless configured
    file_config = load_worker_config(config)
    names = [s.strip() for s in services.split(",") if s.strip()] if services else []
    caps = build_capabilities(file_config, names, worker_id)
    if not caps.services:
        raise InvalidInputError("no services: pass --services or set [worker] services in --config")
    store = open_blob_store(
        settings.storage_url,
        data_dir=settings.data_dir,
        cdn_url=settings.cdn_url,
        options=settings.storage_options or None,
    )
    connectors: dict[str, Connector] = {}
    for service in caps.services:
        try:
            cls = connector_class(service)
        except KeyError as exc:
            raise InvalidInputError(str(exc.args[0]), details={"field": "services"}) from None
        connectors[service] = cls(file_config.connectors.get(service), store=store)
    options = WorkerOptions(
        concurrency=concurrency or file_config.worker.concurrency or 1,
        heartbeat_s=settings.heartbeat_s,
        idle_wait_s=settings.idle_wait_s,
        shutdown_grace_s=grace,
    )

    async def main() -> None:
        endpoint = await asyncio.to_thread(open_endpoint, settings)
        runtime = WorkerRuntime(endpoint, broker_config(settings), caps, connectors, options)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, runtime.request_stop)
        try:
            await runtime.run()
        finally:
            await asyncio.to_thread(close_endpoint, endpoint)
            await asyncio.to_thread(shutdown_tracing)  # send the spans still buffered

    run_command(main)
