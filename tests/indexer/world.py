"""A small on-chain history with every event the indexer derives, built the same way on py-evm and
anvil, and the exact tables it must produce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from web3.contract import Contract

from emprops.db.models import (
    IndexedCollection,
    IndexedMetadataUpdate,
    IndexedMint,
    IndexedToken,
    IndexedTransfer,
    IndexedUpgrade,
    IndexerBlock,
    IndexerCheckpoint,
    IndexerRawLog,
)
from emprops.indexer import Finality, IndexerConfig, IndexerQueries, LogRanges
from tests.chain.harness import Chain, CollectionParams, Platform, deploy_platform


@dataclass
class World:
    chain: Chain
    platform: Platform
    first_block: int
    c1: Contract
    c2: Contract
    c3: Contract
    upgrade_block: int = 0
    base_uri_block: int = 0

    @property
    def factory(self) -> str:
        return str(self.platform.factory.address)

    def config(self, **changes: Any) -> IndexerConfig:
        values: dict[str, Any] = {
            "factories": [self.factory],
            "start_block": self.first_block,
            "finality": Finality.head(),
            "ranges": LogRanges(initial=1_000, maximum=1_000),
        }
        values.update(changes)
        return IndexerConfig.model_validate(values)


def build_world(chain: Chain) -> World:
    """Three collections (two by one creator), mints, transfers, upgrades, ERC-4906 updates."""
    a = chain.accounts
    first_block = chain.w3.eth.block_number + 1
    platform = deploy_platform(chain)
    params = CollectionParams(owner=a[1], minter=a[0], royalty_receiver=a[1])
    c1, _ = platform.create_collection(params, b"\x01" * 32, creator=a[1])
    c2, _ = platform.create_collection(params.with_(name="Second"), b"\x02" * 32, creator=a[1])
    c3, _ = platform.create_collection(params, b"\x03" * 32, creator=a[2])
    world = World(chain, platform, first_block, c1, c2, c3)
    chain.send(c1.functions.mintTo(a[3], 3))  # 0, 1, 2 -> a3
    chain.send(c1.functions.mintTo(a[4], 2))  # 3, 4 -> a4
    chain.send(c1.functions.transferFrom(a[3], a[4], 1), a[3])
    chain.send(c1.functions.transferFrom(a[4], a[5], 1), a[4])
    world.upgrade_block = chain.send(c1.functions.recordTokenUpgrade(2, 1))["blockNumber"]
    world.upgrade_block = chain.send(c1.functions.recordTokenUpgrade(2, 3))["blockNumber"]
    world.base_uri_block = chain.send(c1.functions.setBaseURI("ipfs://new/"), a[1])["blockNumber"]
    chain.send(c1.functions.mintTo(a[6], 1))  # 5 -> a6, after the batch metadata update
    chain.send(c2.functions.mintTo(a[3], 1))  # c2 token 0 -> a3
    return world


async def assert_world_indexed(sessions: async_sessionmaker[AsyncSession], world: World) -> None:
    a, c1, c2, c3 = world.chain.accounts, world.c1.address, world.c2.address, world.c3.address
    async with sessions() as session:
        q = IndexerQueries(session)
        assert [c.address for c in await q.collections_by_creator(a[1])] == [c1, c2]
        assert [c.address for c in await q.collections_by_creator(a[2])] == [c3]
        assert await q.collections_by_creator(a[3]) == []
        created = (await q.collections_by_creator(a[2]))[0]
        assert (created.factory, created.owner, created.implementation_version) == (
            world.factory,
            a[1],
            1,
        )

        mints = await q.mint_history(c1)
        assert [(m.token_id, m.to_address) for m in mints] == [
            (0, a[3]),
            (1, a[3]),
            (2, a[3]),
            (3, a[4]),
            (4, a[4]),
            (5, a[6]),
        ]
        assert [(m.token_id, m.to_address) for m in await q.mint_history(c2)] == [(0, a[3])]
        assert await q.mint_history(c3) == []

        def owned(tokens: list[Any]) -> list[tuple[str, int]]:
            return [(t.collection, t.token_id) for t in tokens]

        assert owned(await q.tokens_owned_by(a[3])) == sorted([(c1, 0), (c1, 2), (c2, 0)])
        assert owned(await q.tokens_owned_by(a[4])) == [(c1, 3), (c1, 4)]
        assert owned(await q.tokens_owned_by(a[5])) == [(c1, 1)]
        assert owned(await q.tokens_owned_by(a[3], collection=c2)) == [(c2, 0)]

        upgraded = await q.token(c1, 2)
        assert (upgraded.owner, upgraded.version) == (a[3], 3)
        assert upgraded.metadata_updated_block == world.base_uri_block
        assert (await q.token(c1, 0)).version == 0
        assert (await q.token(c1, 0)).metadata_updated_block == world.base_uri_block
        assert (await q.token(c1, 5)).metadata_updated_block is None  # minted afterwards
        assert (await q.token(c2, 0)).metadata_updated_block is None  # another collection
        hops = await q.transfers_of(c1, 1)
        assert [(t.from_address, t.to_address) for t in hops] == [
            ("0x0000000000000000000000000000000000000000", a[3]),
            (a[3], a[4]),
            (a[4], a[5]),
        ]


SNAPSHOT_TABLES: tuple[Any, ...] = (
    IndexerRawLog,
    IndexedCollection,
    IndexedToken,
    IndexedMint,
    IndexedTransfer,
    IndexedUpgrade,
    IndexedMetadataUpdate,
)


async def snapshot(
    sessions: async_sessionmaker[AsyncSession], with_state: bool = False
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the indexer's tables, sorted (the checkpoint without its timestamp)."""
    tables = SNAPSHOT_TABLES + ((IndexerBlock,) if with_state else ())
    result: dict[str, list[tuple[Any, ...]]] = {}
    async with sessions() as session:
        for model in tables:
            columns = [c for c in model.__table__.columns]
            rows = (await session.execute(select(*columns))).all()
            result[model.__tablename__] = sorted(tuple(map(str, row)) for row in rows)
        if with_state:
            rows = (
                await session.execute(
                    select(
                        IndexerCheckpoint.chain_id,
                        IndexerCheckpoint.block_number,
                        IndexerCheckpoint.block_hash,
                    )
                )
            ).all()
            result["indexer_checkpoints"] = sorted(tuple(map(str, row)) for row in rows)
    return result
