"""What every command needs: settings, a Redis endpoint (embedded or configured), a broker."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from emprops.core.errors import EmpropsError
from emprops.core.redis_connection import RedisEndpoint, close_endpoint, open_endpoint
from emprops.core.settings import Settings, get_settings
from emprops.queue.broker import Broker, BrokerConfig
from emprops.worker.connectors import BUILTIN_CONNECTORS

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")
err_console = Console(stderr=True)


def broker_config(settings: Settings) -> BrokerConfig:
    return BrokerConfig.from_settings(settings, known_services=BUILTIN_CONNECTORS)


@asynccontextmanager
async def open_broker(settings: Settings | None = None) -> AsyncIterator[Broker]:
    settings = settings or get_settings()
    endpoint: RedisEndpoint = await asyncio.to_thread(open_endpoint, settings)
    client = endpoint.async_client()
    try:
        yield Broker(client, broker_config(settings))
    finally:
        await client.aclose()
        await asyncio.to_thread(close_endpoint, endpoint)


def run_command(main: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(main())  # type: ignore[arg-type]


def clear_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Our errors print as one clear line (plus details) and exit 1, without a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except EmpropsError as exc:
            err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
            for key, value in exc.details.items():
                err_console.print(f"  {key}: {value}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper
