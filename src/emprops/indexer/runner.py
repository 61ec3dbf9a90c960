"""The indexer loop (Ponder-shaped): follow the factories' `CollectionCreated` events, then every log
of the discovered collections, a batch of blocks at a time, up to the block the finality mode
allows. Each batch commits raw logs, derived rows, the tip header and the checkpoint in one
transaction, so a crash never leaves a half-indexed batch.

Reorgs: every batch checks that its first block's parent is the stored tip (and each run checks
the tip itself is still on the chain). On a mismatch the kept headers (and the block hashes the raw logs
carry) are searched for the newest block still on the chain, everything past it is deleted, the touched collections' derived rows are
rebuilt from their remaining raw logs, and indexing resumes from there.

The database side is async (SQLAlchemy); web3 calls run in a worker thread (see `rpc.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from web3 import Web3

from emprops.indexer.config import IndexerConfig
from emprops.indexer.errors import (
    IndexerConfigError,
    IndexerRpcError,
    LogRangeRefusedError,
    ReorgTooDeepError,
)
from emprops.indexer.events import LogPosition, LogRecord
from emprops.indexer.projection import (
    ProjectedCounts,
    discover_collections,
    project_logs,
    rebuild_derived,
)
from emprops.indexer.ranges import AdaptiveRange
from emprops.indexer.repository import IndexerRepository
from emprops.indexer.rpc import BlockHeader, ChainReader

log = structlog.get_logger(__name__)

# Batches commit whole blocks: a committed checkpoint sits after every log of its block.
END_OF_BLOCK = 2**31 - 1
# Reorg checks that find the chain moving again and again without progress: give up then.
MAX_CHAIN_MOVES = 10


def end_of_block(block_number: int) -> LogPosition:
    return LogPosition(block_number, END_OF_BLOCK, END_OF_BLOCK)


@dataclass
class IndexerProgress:
    """What one `run_once` did."""

    chain_id: int
    start_block: int  # checkpoint block before the run
    block_number: int = -1  # checkpoint block after it
    target: int = -1
    batches: int = 0
    logs: int = 0
    counts: ProjectedCounts = field(default_factory=ProjectedCounts)
    rollbacks: list[int] = field(default_factory=list)  # common ancestors rolled back to
    range_refusals: int = 0


@dataclass(frozen=True)
class _State:
    position: LogPosition
    block_hash: str | None
    known: frozenset[str]

    @property
    def block_number(self) -> int:
        return self.position.block_number


@dataclass(frozen=True)
class _Batch:
    from_block: int
    to_block: int
    tip: BlockHeader
    logs: list[LogRecord]


class _ChainMoved(Exception):
    """The chain under the indexer no longer extends what it indexed (or moved mid-read)."""


class _CheckpointMoved(Exception):
    """Another runner (or a replay) moved the checkpoint since this one read it."""


class Indexer:
    """Indexes one chain into the database; `run_once` catches up, `run_forever` keeps polling."""

    def __init__(
        self,
        w3: Web3,
        sessions: async_sessionmaker[AsyncSession],
        config: IndexerConfig,
    ) -> None:
        self.reader = ChainReader(w3)
        self.sessions = sessions
        self.config = config
        self.ranges = AdaptiveRange(config.ranges)
        self._chain_id: int | None = None

    async def chain_id(self) -> int:
        if self._chain_id is None:
            actual = await self.reader.chain_id()
            if self.config.chain_id is not None and actual != self.config.chain_id:
                raise IndexerConfigError(
                    f"the node serves chain {actual}, not the configured chain "
                    f"{self.config.chain_id}",
                    details={"expected": self.config.chain_id, "actual": actual},
                )
            self._chain_id = actual
        return self._chain_id

    # ------------------------------------------------------------------ loop

    async def run_once(self) -> IndexerProgress:
        """Indexes from the checkpoint up to the current target block, batch by batch."""
        chain_id = await self.chain_id()
        state = await self._load_state(chain_id)
        progress = IndexerProgress(chain_id, start_block=state.block_number)
        target = await self.reader.target_block(self.config.finality)
        moves = 0
        # With new blocks, the first batch checks its parent hash against the stored tip; without,
        # check the tip itself (a reorg may keep the height, as anvil_reorg does).
        if (
            state.block_hash is not None
            and target <= state.block_number
            and not await self._tip_on_chain(state)
        ):
            state = await self._roll_back(chain_id, state, progress)
            target = await self.reader.target_block(self.config.finality)
        while state.block_number < target:
            from_block = state.block_number + 1
            to_block = self.ranges.span(from_block, target)
            try:
                batch = await self._fetch(chain_id, state, from_block, to_block)
            except LogRangeRefusedError:
                progress.range_refusals += 1
                if not self.ranges.shrink():
                    raise
                log.info("indexer.range_shrunk", chain_id=chain_id, size=self.ranges.size)
                continue
            except _ChainMoved:
                moves += 1
                if moves > MAX_CHAIN_MOVES:
                    raise IndexerRpcError(
                        "the chain kept changing under the indexer; try again later",
                        details={"chain_id": chain_id, "block": from_block},
                    ) from None
                state = await self._roll_back(chain_id, state, progress)
                # A load-balanced provider may answer from a node a block behind: give it time.
                await asyncio.sleep(0.1 * (moves - 1))
                target = await self.reader.target_block(self.config.finality)
                continue
            try:
                state = await self._commit(chain_id, state, batch, progress)
            except _CheckpointMoved:
                state = await self._load_state(chain_id)
                continue
            self.ranges.succeeded()
        progress.block_number = state.block_number
        progress.target = target
        return progress

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        """Polls until `stop` is set; a failing node is logged and retried at the next poll."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                progress = await self.run_once()
                if progress.batches or progress.rollbacks:
                    log.info(
                        "indexer.progress",
                        chain_id=progress.chain_id,
                        block=progress.block_number,
                        logs=progress.logs,
                        rollbacks=progress.rollbacks,
                    )
            except IndexerRpcError as exc:
                log.warning("indexer.rpc_failed", error=exc.message)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.config.poll_interval_s)

    # ------------------------------------------------------------------ steps

    async def _load_state(self, chain_id: int) -> _State:
        factories = list(self.config.factories)
        async with self.sessions() as session, session.begin():
            repo = IndexerRepository(session)
            checkpoint = await repo.checkpoint(chain_id)
            if checkpoint is None:
                await repo.create_checkpoint(
                    chain_id, end_of_block(self.config.start_block - 1), factories
                )
                checkpoint = await repo.checkpoint(chain_id)
                assert checkpoint is not None
            if list(checkpoint.factories) != factories:
                raise IndexerConfigError(
                    f"chain {chain_id} was indexed for factories {checkpoint.factories}, not "
                    f"{factories}; index another factory set into another database",
                    details={"indexed": checkpoint.factories, "configured": factories},
                )
            known = await repo.known_collections(chain_id)
            position = LogPosition(
                checkpoint.block_number, checkpoint.tx_index, checkpoint.log_index
            )
            return _State(position, checkpoint.block_hash, frozenset(known))

    async def _tip_on_chain(self, state: _State) -> bool:
        assert state.block_hash is not None
        return await self._on_chain(state.block_number, state.block_hash)

    async def _on_chain(self, number: int, block_hash: str) -> bool:
        header = await self.reader.header(number)
        return header is not None and header.hash == block_hash

    async def _fetch(self, chain_id: int, state: _State, from_block: int, to_block: int) -> _Batch:
        first = await self.reader.header(from_block)
        if first is None:
            raise _ChainMoved
        if state.block_hash is not None and first.parent_hash != state.block_hash:
            log.warning(
                "indexer.reorg_detected",
                chain_id=chain_id,
                block=from_block,
                parent=first.parent_hash,
                indexed=state.block_hash,
            )
            raise _ChainMoved
        tip = first if to_block == from_block else await self.reader.header(to_block)
        if tip is None:
            raise _ChainMoved
        factories = self.config.factories
        logs = await self.reader.logs(chain_id, factories, from_block, to_block)
        created = discover_collections(logs, factories)
        addresses = sorted(state.known | {event.collection for event in created})
        step = self.config.addresses_per_request
        for start in range(0, len(addresses), step):
            logs += await self.reader.logs(
                chain_id, addresses[start : start + step], from_block, to_block
            )
        logs.sort(key=lambda entry: entry.position)
        for entry in logs:  # logs read after the headers must come from the same blocks
            if (entry.block_number == from_block and entry.block_hash != first.hash) or (
                entry.block_number == to_block and entry.block_hash != tip.hash
            ):
                raise _ChainMoved
        return _Batch(from_block, to_block, tip, logs)

    async def _commit(
        self, chain_id: int, state: _State, batch: _Batch, progress: IndexerProgress
    ) -> _State:
        position = end_of_block(batch.to_block)
        known = set(state.known)
        async with self.sessions() as session, session.begin():
            repo = IndexerRepository(session)
            # First, so that the write lock (SQLite) or row lock (PostgreSQL) is held from here.
            if not await repo.move_checkpoint(
                chain_id, state.position, state.block_hash, position, batch.tip.hash
            ):
                raise _CheckpointMoved
            await repo.insert_raw_logs(batch.logs)
            counts = await project_logs(repo, batch.logs, self.config.factories, known)
            await repo.save_block(chain_id, batch.tip)
            await repo.prune_blocks(chain_id, batch.to_block - self.config.reorg_window)
        progress.batches += 1
        progress.logs += len(batch.logs)
        progress.counts.add(counts)
        return _State(position, batch.tip.hash, frozenset(known))

    async def _roll_back(self, chain_id: int, state: _State, progress: IndexerProgress) -> _State:
        """Rolls back to the newest indexed block still on the chain: kept headers first, then blocks
        known from their logs (no-op if that is the tip)."""
        async with self.sessions() as session:
            kept = await IndexerRepository(session).stored_blocks(chain_id)
        if not kept:
            return state  # nothing indexed with a hash yet: nothing to roll back
        ancestor: tuple[int, str] | None = None
        replaced_above = state.block_number + 1
        for block in kept:  # newest first
            if await self._on_chain(block.number, block.hash):
                ancestor = (block.number, block.hash)
                break
            replaced_above = block.number
        if ancestor is None:
            raise ReorgTooDeepError(
                f"chain {chain_id} replaced every kept block header (blocks {kept[-1].number}.."
                f"{kept[0].number}); the indexed rows no longer match this chain",
                details={"chain_id": chain_id, "oldest_kept": kept[-1].number},
            )
        # Between that header and the first replaced one, blocks with logs have known hashes too;
        # still-on-chain ones form a prefix, so a binary search finds the newest.
        async with self.sessions() as session:
            logged = await IndexerRepository(session).logged_blocks_between(
                chain_id, ancestor[0], replaced_above
            )
        low, high = 0, len(logged)
        while low < high:
            middle = (low + high) // 2
            if await self._on_chain(*logged[middle]):
                low = middle + 1
            else:
                high = middle
        if low:
            ancestor = logged[low - 1]
        number, block_hash = ancestor
        if number == state.block_number and block_hash == state.block_hash:
            return state  # the chain moved during a read, not under what is indexed
        try:
            await self._delete_past(chain_id, state, number, block_hash)
        except _CheckpointMoved:
            return await self._load_state(chain_id)  # someone else moved it: start from theirs
        log.warning(
            "indexer.rolled_back",
            chain_id=chain_id,
            ancestor=number,
            from_block=state.block_number,
        )
        progress.rollbacks.append(number)
        return await self._load_state(chain_id)

    async def _delete_past(
        self, chain_id: int, state: _State, ancestor: int, ancestor_hash: str
    ) -> None:
        """One transaction: checkpoint back to the ancestor, logs/headers/collections past it
        deleted, the touched collections' derived rows rebuilt from their remaining raw logs."""
        async with self.sessions() as session, session.begin():
            repo = IndexerRepository(session)
            if not await repo.move_checkpoint(
                chain_id, state.position, state.block_hash, end_of_block(ancestor), ancestor_hash
            ):
                raise _CheckpointMoved
            touched = await repo.addresses_logged_after(chain_id, ancestor)
            await repo.delete_after(chain_id, ancestor)
            collections = touched - set(self.config.factories)
            await rebuild_derived(repo, chain_id, self.config.factories, collections)
