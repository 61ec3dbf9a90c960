"""`emprops serve`: the API on the embedded defaults (or whatever is configured)."""

from __future__ import annotations

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
) -> None:
    """Serve the REST API (OpenAPI at /docs); migrates the database first."""
    import uvicorn

    from emprops.api.app import create_app

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    else:
        uvicorn.run(
            "emprops.api.asgi:app", host=host, port=port, workers=workers, log_level="warning"
        )
