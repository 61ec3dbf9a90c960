"""Reorgs with anvil_reorg while following the head: the indexer notices (by the parent hash of the
next block, or the stored tip itself when the height stays), rolls back to the common ancestor and
ends with exactly what a fresh index of the new chain holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from web3 import Web3
from web3.contract import Contract

from emprops.db import create_engine, session_factory, upgrade_to_head_async
from emprops.indexer import (
    Indexer,
    IndexerConfig,
    IndexerQueries,
    ReorgTooDeepError,
    TokenNotIndexedError,
)
from tests.chain.harness import Chain, CollectionParams, anvil_chain
from tests.indexer.world import World, assert_world_indexed, build_world, snapshot


def reorg(w3: Web3, depth: int, txs: list[tuple[dict[str, Any], int]]) -> None:
    """Replaces the last `depth` blocks; each tx goes into the new block at its offset."""
    answer = w3.provider.make_request("anvil_reorg", [depth, [[tx, at] for tx, at in txs]])  # type: ignore[arg-type]
    assert "error" not in answer, answer


def call(contract: Contract, sender: str, fn: str, *args: Any) -> dict[str, Any]:
    return {
        "from": sender,
        "to": contract.address,
        "data": contract.encode_abi(fn, list(args)),
        "gas": hex(500_000),
    }


async def index_afresh(
    w3: Web3, config: IndexerConfig, path: Path
) -> dict[str, list[tuple[Any, ...]]]:
    """What an indexer that never saw the old branch holds (a SQLite file of its own)."""
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        await Indexer(w3, sessions, config).run_once()
        return await snapshot(sessions)
    finally:
        await engine.dispose()


@pytest.fixture
async def anvil_world(own_anvil_url: str) -> AsyncIterator[World]:
    yield build_world(anvil_chain(own_anvil_url))


async def test_reorg_rolls_back_to_the_common_ancestor_and_follows_the_new_chain(
    anvil_world: World, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    world = anvil_world
    chain: Chain = world.chain
    w3, a, c1 = chain.w3, chain.accounts, world.c1
    indexer = Indexer(w3, sessions, world.config())
    await indexer.run_once()
    await assert_world_indexed(sessions, world)
    ancestor = w3.eth.block_number

    # The branch that will be replaced: a transfer, a new collection, mints in both.
    chain.send(c1.functions.transferFrom(a[5], a[7], 1), a[5])
    c4, _ = world.platform.create_collection(
        CollectionParams(owner=a[2], minter=a[0], royalty_receiver=a[2]), b"\x04" * 32, a[2]
    )
    chain.send(c1.functions.mintTo(a[7], 2))  # tokens 6, 7
    chain.send(c4.functions.mintTo(a[7], 1))
    progress = await indexer.run_once()
    assert progress.block_number == ancestor + 4
    async with sessions() as session:
        q = IndexerQueries(session)
        assert [(t.collection, t.token_id) for t in await q.tokens_owned_by(a[7])] == sorted(
            [(c1.address, 1), (c1.address, 6), (c1.address, 7), (c4.address, 0)]
        )
        assert [c.address for c in await q.collections_by_creator(a[2])] == [
            world.c3.address,
            c4.address,
        ]

    # Those four blocks are replaced: token 1 goes to a8 instead, one mint (token 6) to a8.
    reorg(
        w3,
        4,
        [
            (call(c1, a[5], "transferFrom", a[5], a[8], 1), 0),
            (call(c1, a[0], "mintTo", a[8], 1), 2),
        ],
    )
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]  # a block on top: parent check
    progress = await indexer.run_once()
    assert progress.rollbacks == [ancestor]
    assert progress.block_number == w3.eth.block_number == ancestor + 5
    async with sessions() as session:
        q = IndexerQueries(session)
        assert await q.tokens_owned_by(a[7]) == []
        assert [t.token_id for t in await q.tokens_owned_by(a[8])] == [1, 6]
        assert [(m.token_id, m.to_address) for m in await q.mint_history(c1.address)][-1] == (
            6,
            a[8],
        )
        assert [c.address for c in await q.collections_by_creator(a[2])] == [world.c3.address]
        assert await q.mint_history(c4.address) == []
        with pytest.raises(TokenNotIndexedError):
            await q.token(c1.address, 7)
        hops = await q.transfers_of(c1.address, 1)
        assert [t.to_address for t in hops] == [a[3], a[4], a[5], a[8]]
    assert await snapshot(sessions) == await index_afresh(w3, world.config(), tmp_path / "1.db")

    # Same height this time (no block on top): the stored tip itself is found replaced.
    before = w3.eth.block_number
    reorg(w3, 2, [(call(c1, a[0], "mintTo", a[9], 3), 1)])
    assert w3.eth.block_number == before
    progress = await indexer.run_once()
    assert progress.rollbacks == [before - 2]
    async with sessions() as session:
        q = IndexerQueries(session)
        assert [t.token_id for t in await q.tokens_owned_by(a[9])] == [7, 8, 9]
    assert await snapshot(sessions) == await index_afresh(w3, world.config(), tmp_path / "2.db")


async def test_a_reorg_deeper_than_the_kept_headers_is_refused(
    anvil_world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = anvil_world
    w3 = world.chain.w3
    indexer = Indexer(w3, sessions, world.config(reorg_window=1))
    await indexer.run_once()
    before = await snapshot(sessions, with_state=True)
    reorg(w3, 3, [])
    with pytest.raises(ReorgTooDeepError, match="replaced every kept block header"):
        await indexer.run_once()
    assert await snapshot(sessions, with_state=True) == before  # nothing half-done
