"""The indexer against anvil over HTTP: exact tables, finality (nothing past the allowed block),
adaptive eth_getLogs ranges behind a provider that refuses wide ranges, concurrent runners, and a
node that cannot be reached."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from web3 import Web3

from emprops.db.models import IndexerCheckpoint, IndexerRawLog
from emprops.indexer import (
    Finality,
    FinalityMode,
    Indexer,
    IndexerConfig,
    IndexerQueries,
    IndexerRpcError,
    LogRanges,
    TokenNotIndexedError,
)
from tests.chain.harness import anvil_chain, free_port
from tests.indexer.rpc_proxy import range_limiting_proxy
from tests.indexer.world import World, assert_world_indexed, build_world, snapshot


def world_logs(world: World, w3: Web3 | None = None) -> set[tuple[str, int]]:
    """(tx hash, log index) of every log the indexer must keep, straight from the node."""
    addresses = [world.factory, world.c1.address, world.c2.address, world.c3.address]
    logs = (w3 or world.chain.w3).eth.get_logs(
        {"fromBlock": world.first_block, "toBlock": "latest", "address": addresses}
    )
    return {("0x" + bytes(log["transactionHash"]).hex(), log["logIndex"]) for log in logs}


async def stored_logs(sessions: async_sessionmaker[AsyncSession]) -> set[tuple[str, int]]:
    async with sessions() as session:
        rows = await session.execute(select(IndexerRawLog.tx_hash, IndexerRawLog.log_index))
        return {(tx, index) for tx, index in rows.all()}


async def test_indexes_the_world_on_anvil(
    anvil_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = build_world(anvil_chain(anvil_url))
    progress = await Indexer(world.chain.w3, sessions, world.config()).run_once()
    assert progress.block_number == world.chain.w3.eth.block_number
    await assert_world_indexed(sessions, world)
    assert await stored_logs(sessions) == world_logs(world)


async def test_adaptive_ranges_get_every_log_behind_a_refusing_provider(
    anvil_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = build_world(anvil_chain(anvil_url))
    with range_limiting_proxy(anvil_url, max_blocks=3) as proxy:
        w3 = Web3(Web3.HTTPProvider(proxy.url))
        config = world.config(ranges=LogRanges(initial=64, maximum=64, grow_after=2))
        indexer = Indexer(w3, sessions, config)
        progress = await indexer.run_once()
    assert progress.block_number == world.chain.w3.eth.block_number
    assert await stored_logs(sessions) == world_logs(world)
    await assert_world_indexed(sessions, world)
    accepted = [call for call in proxy.calls if call.accepted]
    refused = [call for call in proxy.calls if not call.accepted]
    assert accepted and all(call.blocks <= 3 for call in accepted)
    assert progress.range_refusals == len(refused) > 0
    # Halved from 64 to 2 on the first batch (each request also capped at the target)...
    span = progress.block_number - world.first_block + 1
    assert [call.blocks for call in refused[:5]] == [min(span, s) for s in (64, 32, 16, 8, 4)]
    # ...then doubled back to 4 after two successes (and refused again): it does not stay small.
    first_accepted = proxy.calls.index(accepted[0])
    assert any(call.blocks == 4 for call in proxy.calls[first_accepted:] if not call.accepted)
    # The accepted ranges tile the indexed blocks with no gap and no overlap, per query kind.
    covered = sorted({(call.from_block, call.to_block) for call in accepted})
    assert covered[0][0] == world.first_block
    assert covered[-1][1] == progress.block_number
    assert all(nxt[0] == cur[1] + 1 for cur, nxt in itertools.pairwise(covered))


async def test_finality_never_indexes_past_the_allowed_block(
    anvil_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = build_world(anvil_chain(anvil_url))
    w3 = world.chain.w3
    head = w3.eth.block_number
    a = world.chain.accounts

    # anvil's finalized block is 64 behind its head: none of this world yet.
    finalized = world.config(finality=Finality(mode=FinalityMode.FINALIZED))
    progress = await Indexer(w3, sessions, finalized).run_once()
    assert progress.target == w3.eth.get_block("finalized")["number"] < world.first_block
    assert progress.block_number == world.first_block - 1
    assert await stored_logs(sessions) == set()

    depth = 3
    held_back = world.config(finality=Finality(mode=FinalityMode.CONFIRMATIONS, confirmations=3))
    progress = await Indexer(w3, sessions, held_back).run_once()
    assert progress.block_number == head - depth
    async with sessions() as session:
        newest = await session.scalar(select(func.max(IndexerRawLog.block_number)))
        assert newest is not None and newest <= head - depth
        q = IndexerQueries(session)
        assert [t.token_id for t in await q.tokens_owned_by(a[6])] == []  # minted at head - 1
        with pytest.raises(TokenNotIndexedError):
            await q.token(world.c2.address, 0)  # minted at head
        assert await q.token(world.c1.address, 4) is not None  # deep enough

    w3.provider.make_request("anvil_mine", [64])  # type: ignore[arg-type]
    progress = await Indexer(w3, sessions, finalized).run_once()
    assert progress.block_number == progress.target == w3.eth.get_block("finalized")["number"]
    assert progress.block_number >= head
    await assert_world_indexed(sessions, world)
    assert await stored_logs(sessions) == world_logs(world)


async def test_concurrent_runners_write_each_batch_once(
    anvil_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = build_world(anvil_chain(anvil_url))
    config = world.config(ranges=LogRanges(initial=3, maximum=3))
    w3 = world.chain.w3
    runs = await asyncio.gather(
        Indexer(w3, sessions, config).run_once(), Indexer(w3, sessions, config).run_once()
    )
    assert all(run.block_number == w3.eth.block_number for run in runs)
    await assert_world_indexed(sessions, world)
    assert await stored_logs(sessions) == world_logs(world)
    alone = await snapshot(sessions, with_state=True)
    await Indexer(w3, sessions, config).run_once()
    assert await snapshot(sessions, with_state=True) == alone


async def test_an_unreachable_node_is_a_clear_error_and_writes_nothing(
    anvil_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    dead = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}", request_kwargs={"timeout": 2}))
    indexer = Indexer(dead, sessions, IndexerConfig(factories=[anvil_chain(anvil_url).accounts[0]]))
    with pytest.raises(IndexerRpcError, match="the node failed on eth_chainId"):
        await indexer.run_once()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(IndexerCheckpoint)) == 0


async def test_run_forever_follows_new_blocks_until_stopped(
    anvil_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = build_world(anvil_chain(anvil_url))
    a = world.chain.accounts
    indexer = Indexer(world.chain.w3, sessions, world.config(poll_interval_s=0.05))
    stop = asyncio.Event()
    task = asyncio.create_task(indexer.run_forever(stop))

    async def owned_by(owner: str) -> list[int]:
        async with sessions() as session:
            return [t.token_id for t in await IndexerQueries(session).tokens_owned_by(owner)]

    async def eventually(owner: str, expected: list[int]) -> None:
        for _ in range(200):
            if await owned_by(owner) == expected:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{owner} never owned {expected}: {await owned_by(owner)}")

    await eventually(a[6], [5])
    await asyncio.to_thread(world.chain.send, world.c1.functions.mintTo(a[7], 2))
    await eventually(a[7], [6, 7])
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert task.done() and sorted(await owned_by(a[3])) == [0, 0, 2]  # c1: 0, 2; c2: 0
