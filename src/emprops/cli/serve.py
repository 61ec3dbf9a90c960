"""`emprops serve`: the API on the embedded defaults (or whatever is configured)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from emprops.cli.context import clear_errors
from emprops.core.logging import configure_logging
from emprops.core.settings import get_settings


@clear_errors
def run_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    local_workers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Render + publish worker processes to start beside the API (default: one per "
            "core with the embedded Redis, none with EMPROPS_REDIS_URL, whose workers run apart).",
        ),
    ] = None,
    indexer: Annotated[
        bool | None,
        typer.Option(help="Follow the chain in the API process (default: on for local/anvil)."),
    ] = None,
    assets_root: Annotated[
        Path | None,
        typer.Option(
            help="Where local render workers read layer art (default: <data_dir>/assets)."
        ),
    ] = None,
) -> None:
    """Serve the REST API (OpenAPI at /docs) and the Studio (/studio); migrates the database
    first. On the embedded defaults it also runs local workers, so one command is a platform."""
    import uvicorn

    from emprops.api.app import create_app
    from emprops.worker.local_pool import LocalWorkerPool, settings_env

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    follow = indexer if indexer is not None else settings.chain in ("local", "anvil")
    settings = settings.model_copy(
        update={"indexer_in_api": follow or settings.indexer_in_api,
                "assets_root": assets_root or settings.assets_root}
    )  # fmt: skip
    count = (
        local_workers
        if local_workers is not None
        else (0 if settings.redis_url else max(2, os.cpu_count() or 2))
    )
    pool = None
    if count:
        root = (assets_root or settings.assets_root or settings.data_dir / "assets").resolve()
        root.mkdir(parents=True, exist_ok=True)
        config = settings.data_dir.resolve() / "local-worker.toml"
        config.write_text(f'[connectors.render]\nassets_root = "{root}"\nprocesses = 1\n')
        env = settings_env(settings.data_dir, redis_url=settings.redis_url,
                           queue_name=settings.queue_name)  # fmt: skip
        pool = LocalWorkerPool(["render", "publish"], count, concurrency=2, env=env,
                               log_dir=settings.data_dir / "logs", extra_args=["--config", str(config)])  # fmt: skip
        pool.start()
        typer.echo(f"{count} local worker processes (render, publish); art under {root}")
    try:
        if workers == 1:
            uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
        else:
            uvicorn.run(
                "emprops.api.asgi:app", host=host, port=port, workers=workers, log_level="warning"
            )
    finally:
        if pool is not None:
            pool.stop()
