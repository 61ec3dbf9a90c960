"""Rebuilds the derived tables from the stored raw logs, with no RPC: the path for a change to the
derived schema or its rules (migrate, then replay) and a check that the tables follow the logs."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emprops.indexer.errors import IndexerConfigError
from emprops.indexer.events import LogPosition
from emprops.indexer.projection import ProjectedCounts, rebuild_derived
from emprops.indexer.repository import IndexerRepository


async def replay(
    sessions: async_sessionmaker[AsyncSession], chain_id: int | None = None
) -> dict[int, ProjectedCounts]:
    """Rebuilds every indexed chain (or `chain_id`), each in one transaction; an indexer running
    meanwhile sees its checkpoint taken and re-reads it."""
    async with sessions() as session:
        checkpoints = await IndexerRepository(session).checkpoints()
    chains = [c.chain_id for c in checkpoints if chain_id is None or c.chain_id == chain_id]
    if chain_id is not None and not chains:
        raise IndexerConfigError(
            f"chain {chain_id} has not been indexed here", details={"chain_id": chain_id}
        )
    results: dict[int, ProjectedCounts] = {}
    for chain in chains:
        async with sessions() as session, session.begin():
            repo = IndexerRepository(session)
            checkpoint = await repo.checkpoint(chain)
            assert checkpoint is not None
            position = LogPosition(
                checkpoint.block_number, checkpoint.tx_index, checkpoint.log_index
            )
            # Rewriting the checkpoint as it is takes the lock a runner's commit needs.
            await repo.move_checkpoint(
                chain, position, checkpoint.block_hash, position, checkpoint.block_hash
            )
            results[chain] = await rebuild_derived(repo, chain, checkpoint.factories)
    return results
