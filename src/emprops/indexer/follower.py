"""The indexer on the configured chain: the chain service's RPC URL (the embedded node on the
local chain) and the factory it deployed there. `emprops indexer run` uses it when given no
`--rpc-url`/`--factory`; `emprops serve` and the demo run it beside the API.

Development chains (local, anvil) are indexed to their head; other chains to the configured
finality.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emprops.core.errors import EmpropsError
from emprops.core.settings import Settings
from emprops.indexer.config import Finality, IndexerConfig
from emprops.indexer.runner import Indexer, IndexerProgress

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ChainSource:
    rpc_url: str
    factories: list[str]
    chain_id: int
    start_block: int
    development: bool


async def configured_source(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], chain: str | None = None
) -> ChainSource | None:
    """Where to index, or None while the chain has no platform deployed yet."""
    from emprops.chain import ChainService, resolve_chain

    service = ChainService(sessions, resolve_chain(settings, chain), settings.data_dir)
    platform = await service.platform()
    if platform is None:
        return None
    client = await service.client()
    return ChainSource(
        rpc_url=str(client.w3.provider.endpoint_uri),  # type: ignore[attr-defined]
        factories=[platform.factory],
        chain_id=platform.chain_id,
        start_block=platform.block_number,
        development=service.target.preset.dev_key is not None,
    )


def indexer_for(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], source: ChainSource
) -> Indexer:
    from web3 import Web3

    overrides: dict[str, object] = {"start_block": source.start_block}
    if source.development:
        overrides["finality"] = Finality.head()
    config = IndexerConfig.from_settings(settings, source.factories, source.chain_id, **overrides)
    provider = Web3.HTTPProvider(
        source.rpc_url, request_kwargs={"timeout": settings.indexer_rpc_timeout_s}
    )
    return Indexer(Web3(provider), sessions, config)


async def index_once(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> IndexerProgress | None:
    source = await configured_source(settings, sessions)
    if source is None:
        return None
    return await indexer_for(settings, sessions, source).run_once()


class IndexerFollower:
    """Follows the configured chain until stopped; waits quietly until a platform exists."""

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings, self.sessions = settings, sessions
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="indexer-follower")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, 10)

    async def _loop(self) -> None:
        indexer: Indexer | None = None
        while not self._stop.is_set():
            try:
                if indexer is None:
                    source = await configured_source(self.settings, self.sessions)
                    if source is not None:
                        indexer = indexer_for(self.settings, self.sessions, source)
                if indexer is not None:
                    await indexer.run_once()
            except EmpropsError as exc:
                log.warning("indexer.follow_failed", error=exc.message)
            except Exception as exc:  # the API must outlive a bad poll
                log.warning("indexer.follow_failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.indexer_poll_interval_s)
