"""Every query of the indexer: raw logs, headers and checkpoints (the indexing state), the writes
that derive tables from logs, and the reads the CLI and the API serve.

Writes are upserts keyed on (chain, tx hash, log index) for event rows, and guarded by the event's
position for a token's owner, so writing the same logs twice or out of order changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy import tuple_ as sql_tuple
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.base import utcnow
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
from emprops.indexer.events import LogPosition, LogRecord
from emprops.indexer.rpc import BlockHeader

# Event tables derived per collection (collections themselves are derived from factory logs).
COLLECTION_TABLES: tuple[Any, ...] = (
    IndexedTransfer,
    IndexedMint,
    IndexedUpgrade,
    IndexedMetadataUpdate,
    IndexedToken,
)
_IN_CHUNK = 500  # addresses per IN (...) list


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _later(
    a: tuple[ColumnElement[Any], ...], b: tuple[ColumnElement[Any], ...]
) -> ColumnElement[bool]:
    """(a1, a2, a3) > (b1, b2, b3), spelled out so both databases read it the same way."""
    return or_(
        a[0] > b[0],
        and_(a[0] == b[0], or_(a[1] > b[1], and_(a[1] == b[1], a[2] > b[2]))),
    )


class IndexerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _insert(self) -> Any:
        postgresql = self.session.get_bind().dialect.name == "postgresql"
        return pg_insert if postgresql else sqlite_insert

    # ------------------------------------------------------------------ checkpoint and headers

    async def checkpoint(self, chain_id: int) -> IndexerCheckpoint | None:
        return (
            await self.session.execute(
                select(IndexerCheckpoint)
                .where(IndexerCheckpoint.chain_id == chain_id)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()

    async def checkpoints(self) -> list[IndexerCheckpoint]:
        rows = await self.session.execute(
            select(IndexerCheckpoint).order_by(IndexerCheckpoint.chain_id)
        )
        return list(rows.scalars())

    async def create_checkpoint(
        self, chain_id: int, position: LogPosition, factories: Sequence[str]
    ) -> bool:
        """Creates the chain's checkpoint unless one exists; True when this call created it."""
        result = await self.session.execute(
            self._insert(IndexerCheckpoint)
            .values(
                chain_id=chain_id,
                block_number=position.block_number,
                tx_index=position.tx_index,
                log_index=position.log_index,
                block_hash=None,
                factories=list(factories),
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["chain_id"])
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def move_checkpoint(
        self,
        chain_id: int,
        expected: LogPosition,
        expected_hash: str | None,
        position: LogPosition,
        block_hash: str | None,
    ) -> bool:
        """Compare-and-set: moves the checkpoint only from where this runner read it, so two
        runners (or a runner and a replay) never interleave their batches. False if it moved."""
        table: Table = IndexerCheckpoint.__table__  # type: ignore[assignment]
        same_hash = (
            table.c.block_hash.is_(None)
            if expected_hash is None
            else table.c.block_hash == expected_hash
        )
        result = await self.session.execute(
            table.update()
            .where(
                table.c.chain_id == chain_id,
                table.c.block_number == expected.block_number,
                table.c.tx_index == expected.tx_index,
                table.c.log_index == expected.log_index,
                same_hash,
            )
            .values(
                block_number=position.block_number,
                tx_index=position.tx_index,
                log_index=position.log_index,
                block_hash=block_hash,
                updated_at=utcnow(),
            )
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def save_block(self, chain_id: int, header: BlockHeader) -> None:
        insert = self._insert(IndexerBlock).values(
            chain_id=chain_id,
            number=header.number,
            hash=header.hash,
            parent_hash=header.parent_hash,
        )
        await self.session.execute(
            insert.on_conflict_do_update(
                index_elements=["chain_id", "number"],
                set_={"hash": insert.excluded.hash, "parent_hash": insert.excluded.parent_hash},
            )
        )

    async def prune_blocks(self, chain_id: int, keep_above: int) -> None:
        await self.session.execute(
            delete(IndexerBlock).where(
                IndexerBlock.chain_id == chain_id, IndexerBlock.number <= keep_above
            )
        )

    async def stored_blocks(self, chain_id: int) -> list[IndexerBlock]:
        """Kept headers, newest first."""
        rows = await self.session.execute(
            select(IndexerBlock)
            .where(IndexerBlock.chain_id == chain_id)
            .order_by(IndexerBlock.number.desc())
        )
        return list(rows.scalars())

    # ------------------------------------------------------------------ raw logs

    async def insert_raw_logs(self, logs: Sequence[LogRecord]) -> None:
        if not logs:
            return
        await self.session.execute(
            self._insert(IndexerRawLog).on_conflict_do_nothing(),
            [
                {
                    "chain_id": log.chain_id,
                    "block_hash": log.block_hash,
                    "tx_hash": log.tx_hash,
                    "log_index": log.log_index,
                    "block_number": log.block_number,
                    "tx_index": log.tx_index,
                    "address": log.address,
                    "topics": list(log.topics),
                    "data": log.data,
                }
                for log in logs
            ],
        )

    async def raw_logs_page(
        self,
        chain_id: int,
        after: tuple[int, int, int, str] | None,
        limit: int | None,
        addresses: Sequence[str] | None = None,
        block_number: int | None = None,
    ) -> list[LogRecord]:
        """Raw logs in chain order, a page at a time (keyset on position, then block hash)."""
        raw = IndexerRawLog
        query = select(raw).where(raw.chain_id == chain_id)
        if block_number is not None:
            query = query.where(raw.block_number == block_number)
        if addresses is not None:
            query = query.where(raw.address.in_(list(addresses)))
        if after is not None:
            key = sql_tuple(raw.block_number, raw.tx_index, raw.log_index, raw.block_hash)
            query = query.where(key > sql_tuple(*after))
        query = query.order_by(raw.block_number, raw.tx_index, raw.log_index, raw.block_hash)
        if limit is not None:
            query = query.limit(limit)
        rows = await self.session.execute(query)
        return [
            LogRecord(
                chain_id=row.chain_id,
                block_number=row.block_number,
                block_hash=row.block_hash,
                tx_hash=row.tx_hash,
                tx_index=row.tx_index,
                log_index=row.log_index,
                address=row.address,
                topics=tuple(row.topics),
                data=row.data,
            )
            for row in rows.scalars()
        ]

    async def addresses_logged_after(self, chain_id: int, block_number: int) -> set[str]:
        rows = await self.session.execute(
            select(IndexerRawLog.address)
            .where(IndexerRawLog.chain_id == chain_id, IndexerRawLog.block_number > block_number)
            .distinct()
        )
        return set(rows.scalars())

    async def logged_blocks_between(
        self, chain_id: int, after: int, before: int
    ) -> list[tuple[int, str]]:
        """(number, hash) of the blocks in (after, before) that have stored logs, ascending: more
        known hashes than the kept headers, to place a common ancestor more tightly."""
        rows = await self.session.execute(
            select(IndexerRawLog.block_number, IndexerRawLog.block_hash)
            .where(
                IndexerRawLog.chain_id == chain_id,
                IndexerRawLog.block_number > after,
                IndexerRawLog.block_number < before,
            )
            .distinct()
            .order_by(IndexerRawLog.block_number)
        )
        return [(number, block_hash) for number, block_hash in rows.all()]

    async def delete_after(self, chain_id: int, block_number: int) -> None:
        """Forgets raw logs, headers and discovered collections past `block_number`."""
        for model in (IndexerRawLog, IndexedCollection):
            await self.session.execute(
                delete(model).where(model.chain_id == chain_id, model.block_number > block_number)
            )
        await self.session.execute(
            delete(IndexerBlock).where(
                IndexerBlock.chain_id == chain_id, IndexerBlock.number > block_number
            )
        )

    # ------------------------------------------------------------------ derived writes

    async def known_collections(self, chain_id: int) -> set[str]:
        rows = await self.session.execute(
            select(IndexedCollection.address).where(IndexedCollection.chain_id == chain_id)
        )
        return set(rows.scalars())

    async def delete_derived(self, chain_id: int, collections: Sequence[str] | None) -> None:
        """Clears derived rows of `collections` (None: of the whole chain, collections included)."""
        if collections is None:
            for model in (*COLLECTION_TABLES, IndexedCollection):
                await self.session.execute(delete(model).where(model.chain_id == chain_id))
            return
        for chunk in _chunks(list(collections)):
            for model in COLLECTION_TABLES:
                await self.session.execute(
                    delete(model).where(model.chain_id == chain_id, model.collection.in_(chunk))
                )

    async def insert_rows(self, model: Any, rows: Sequence[dict[str, Any]]) -> None:
        """Event rows and collections: inserting one that exists is a no-op."""
        if rows:
            await self.session.execute(self._insert(model).on_conflict_do_nothing(), list(rows))

    async def upsert_token_owners(self, rows: Sequence[dict[str, Any]]) -> None:
        """A token's owner moves only to a transfer later than the one that set it; the mint is
        recorded once."""
        if not rows:
            return
        insert = self._insert(IndexedToken)
        new, old = insert.excluded, IndexedToken.__table__.c
        newer = _later(
            (new.owner_block, new.owner_tx_index, new.owner_log_index),
            (old.owner_block, old.owner_tx_index, old.owner_log_index),
        )
        set_: dict[str, ColumnElement[Any]] = {
            name: case((newer, getattr(new, name)), else_=getattr(old, name))
            for name in ("owner", "owner_block", "owner_tx_index", "owner_log_index")
        }
        set_["minted_block"] = func.coalesce(old.minted_block, new.minted_block)
        set_["minted_tx_hash"] = func.coalesce(old.minted_tx_hash, new.minted_tx_hash)
        await self.session.execute(
            insert.on_conflict_do_update(
                index_elements=["chain_id", "collection", "token_id"], set_=set_
            ),
            list(rows),
        )

    async def raise_token_versions(self, rows: Sequence[dict[str, Any]]) -> None:
        """Versions only grow (the contract refuses an older one), so the highest seen wins."""
        if not rows:
            return
        table: Table = IndexedToken.__table__  # type: ignore[assignment]
        await self.session.execute(
            table.update()
            .where(
                table.c.chain_id == bindparam("b_chain_id"),
                table.c.collection == bindparam("b_collection"),
                table.c.token_id == bindparam("b_token_id"),
                table.c.version < bindparam("b_version"),
            )
            .values(version=bindparam("b_version")),
            list(rows),
        )

    async def mark_metadata_updated(self, rows: Sequence[dict[str, Any]]) -> None:
        """Stamps the tokens an ERC-4906 event covers that were minted by then (by block)."""
        if not rows:
            return
        table: Table = IndexedToken.__table__  # type: ignore[assignment]
        block: BindParameter[int] = bindparam("b_block")
        await self.session.execute(
            table.update()
            .where(
                table.c.chain_id == bindparam("b_chain_id"),
                table.c.collection == bindparam("b_collection"),
                table.c.token_id.between(bindparam("b_from"), bindparam("b_to")),
                table.c.minted_block <= block,
                or_(
                    table.c.metadata_updated_block.is_(None),
                    table.c.metadata_updated_block < block,
                ),
            )
            .values(metadata_updated_block=block),
            list(rows),
        )

    # ------------------------------------------------------------------ queries

    async def collections_by_creator(
        self, creator: str, chain_id: int | None = None
    ) -> list[IndexedCollection]:
        query = select(IndexedCollection).where(IndexedCollection.creator == creator)
        if chain_id is not None:
            query = query.where(IndexedCollection.chain_id == chain_id)
        query = query.order_by(
            IndexedCollection.chain_id, IndexedCollection.block_number, IndexedCollection.log_index
        )
        return list((await self.session.execute(query)).scalars())

    async def collection(self, chain_id: int, address: str) -> IndexedCollection | None:
        return await self.session.get(IndexedCollection, (chain_id, address))

    async def mint_history(
        self,
        collection: str,
        chain_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[IndexedMint]:
        query = select(IndexedMint).where(IndexedMint.collection == collection)
        if chain_id is not None:
            query = query.where(IndexedMint.chain_id == chain_id)
        query = query.order_by(
            IndexedMint.chain_id,
            IndexedMint.block_number,
            IndexedMint.tx_index,
            IndexedMint.log_index,
        )
        return list((await self.session.execute(query.limit(limit).offset(offset))).scalars())

    def _tokens(self, chain_id: int | None) -> Select[IndexedToken]:
        query = select(IndexedToken)
        if chain_id is not None:
            query = query.where(IndexedToken.chain_id == chain_id)
        return query.order_by(IndexedToken.chain_id, IndexedToken.collection, IndexedToken.token_id)

    async def tokens_owned_by(
        self,
        owner: str,
        chain_id: int | None = None,
        collection: str | None = None,
        limit: int = 1_000,
        offset: int = 0,
    ) -> list[IndexedToken]:
        query = self._tokens(chain_id).where(IndexedToken.owner == owner)
        if collection is not None:
            query = query.where(IndexedToken.collection == collection)
        return list((await self.session.execute(query.limit(limit).offset(offset))).scalars())

    async def token(
        self, collection: str, token_id: int, chain_id: int | None = None
    ) -> IndexedToken | None:
        query = self._tokens(chain_id).where(
            IndexedToken.collection == collection, IndexedToken.token_id == token_id
        )
        return (await self.session.execute(query.limit(1))).scalar_one_or_none()

    async def transfers_of(
        self, collection: str, token_id: int, chain_id: int | None = None
    ) -> list[IndexedTransfer]:
        query = select(IndexedTransfer).where(
            IndexedTransfer.collection == collection, IndexedTransfer.token_id == token_id
        )
        if chain_id is not None:
            query = query.where(IndexedTransfer.chain_id == chain_id)
        query = query.order_by(
            IndexedTransfer.chain_id,
            IndexedTransfer.block_number,
            IndexedTransfer.tx_index,
            IndexedTransfer.log_index,
        )
        return list((await self.session.execute(query)).scalars())
