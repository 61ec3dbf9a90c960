"""Indexer tests run on a real database (SQLite and PostgreSQL, via `database_url`) against real
EVMs: py-evm in process for short chains, anvil (a fresh binary per session, or per test where the
test rewrites history) for the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emprops.db import create_engine, session_factory, upgrade_to_head_async
from tests.chain.harness import running_anvil


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    with running_anvil() as url:
        yield url


@pytest.fixture
def own_anvil_url() -> Iterator[str]:
    """A private anvil for tests that rewrite the chain (reorgs) or count its blocks."""
    with running_anvil() as url:
        yield url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await upgrade_to_head_async(database_url)
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()
