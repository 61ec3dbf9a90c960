"""The indexer on the in-process EVM (the embedded default): discovery, exact derived tables,
idempotency, checkpoint resume and replay from raw logs. py-evm's eth_getLogs is slow on long chains,
so the chain here stays around twenty blocks."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emprops.db.models import IndexedMint, IndexedToken, IndexerCheckpoint
from emprops.indexer import (
    Finality,
    FinalityMode,
    Indexer,
    IndexerConfigError,
    LogRanges,
    replay,
)
from emprops.indexer.projection import project_logs
from emprops.indexer.repository import IndexerRepository
from tests.chain.harness import pyevm_chain
from tests.indexer.world import World, assert_world_indexed, build_world, snapshot


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(pyevm_chain())


async def test_indexes_the_world_exactly_and_idempotently(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    indexer = Indexer(world.chain.w3, sessions, world.config())
    progress = await indexer.run_once()
    assert progress.block_number == world.chain.w3.eth.block_number
    assert progress.counts.collections == 3
    assert sorted(progress.counts.new_collections) == sorted(
        [world.c1.address, world.c2.address, world.c3.address]
    )
    assert progress.counts.mints == 7
    await assert_world_indexed(sessions, world)
    first = await snapshot(sessions, with_state=True)

    again = await indexer.run_once()  # nothing new
    assert again.batches == 0
    assert await snapshot(sessions, with_state=True) == first

    # Re-processing the whole range (the checkpoint set back) writes nothing new.
    async with sessions() as session, session.begin():
        await session.execute(
            update(IndexerCheckpoint).values(block_number=world.first_block - 1, block_hash=None)
        )
    redo = await Indexer(world.chain.w3, sessions, world.config()).run_once()
    assert redo.logs == progress.logs
    assert await snapshot(sessions, with_state=True) == first

    # Re-applying older logs after newer ones (every log again, one at a time, newest first)
    # moves no owner back, lowers no version and duplicates no row.
    async with sessions() as session, session.begin():
        repo = IndexerRepository(session)
        logs = await repo.raw_logs_page(progress.chain_id, None, None)
        known = await repo.known_collections(progress.chain_id)
        for entry in reversed(logs):
            await project_logs(repo, [entry], [world.factory], set(known))
    assert await snapshot(sessions, with_state=True) == first


async def test_resumes_from_its_checkpoint_in_small_batches(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ranges = LogRanges(initial=4, maximum=4)
    head = world.chain.w3.eth.block_number
    depth = (head - world.first_block) // 2
    held_back = Finality(mode=FinalityMode.CONFIRMATIONS, confirmations=depth)
    # A first instance stops `depth` blocks behind the head; a new one goes on from its checkpoint.
    first = await Indexer(
        world.chain.w3, sessions, world.config(ranges=ranges, finality=held_back)
    ).run_once()
    assert first.block_number == head - depth
    assert first.batches == -(-(head - depth - world.first_block + 1) // 4)
    resumed = await Indexer(world.chain.w3, sessions, world.config(ranges=ranges)).run_once()
    assert resumed.start_block == head - depth
    assert resumed.block_number == head
    assert resumed.logs + first.logs == len(await _all_logs(world)), "each log fetched exactly once"
    await assert_world_indexed(sessions, world)
    batched = await snapshot(sessions)
    await replay(sessions)  # one pass over all raw logs derives the same rows as the batches
    assert await snapshot(sessions) == batched


async def _all_logs(world: World) -> list[object]:
    addresses = [world.factory, world.c1.address, world.c2.address, world.c3.address]
    return list(
        world.chain.w3.eth.get_logs(
            {"fromBlock": world.first_block, "toBlock": "latest", "address": addresses}
        )
    )


async def test_replay_rebuilds_derived_tables_from_raw_logs_alone(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await Indexer(world.chain.w3, sessions, world.config()).run_once()
    indexed = await snapshot(sessions, with_state=True)
    # Damage the derived tables; the replay takes no web3 at all.
    async with sessions() as session, session.begin():
        await session.execute(update(IndexedToken).values(owner=world.chain.accounts[9], version=7))
        await session.execute(IndexedMint.__table__.delete())
    results = await replay(sessions)
    assert await snapshot(sessions, with_state=True) == indexed
    (chain_id,) = results
    assert results[chain_id].mints == 7
    assert results[chain_id].collections == 3
    await assert_world_indexed(sessions, world)


async def test_refuses_another_factory_set_or_chain(
    world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await Indexer(world.chain.w3, sessions, world.config()).run_once()
    other = world.config(factories=[world.factory, world.c3.address])
    with pytest.raises(IndexerConfigError, match="indexed for factories"):
        await Indexer(world.chain.w3, sessions, other).run_once()
    with pytest.raises(IndexerConfigError, match="not the configured chain 5"):
        await Indexer(world.chain.w3, sessions, world.config(chain_id=5)).run_once()
