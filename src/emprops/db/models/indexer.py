"""The indexer's tables: raw logs (the source of truth), the blocks and checkpoint that say how far
each chain is indexed, and the tables derived from the logs (collections, tokens, mints, transfers,
upgrades, metadata updates), which can always be rebuilt from the raw logs without RPC.

Token ids and versions are BIGINT: our collections bound token ids by a uint32 max supply, and the
derivation skips the (never emitted by our contracts) values that do not fit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from emprops.db.base import Base, JsonColumn, utcnow

ADDRESS = String(42)  # checksummed 0x address
HASH = String(66)  # 0x + 32 bytes hex


class IndexerCheckpoint(Base):
    """How far a chain is indexed: a sortable (block, tx index, log index) position. Batches commit
    whole blocks, so a committed position is the end of its block (see `Checkpoint.end_of_block`)."""

    __tablename__ = "indexer_checkpoints"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_index: Mapped[int] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(Integer)
    # Hash of `block_number` when known: the reorg check compares it with the chain.
    block_hash: Mapped[str | None] = mapped_column(HASH)
    # The factories whose collections this checkpoint covers (sorted, checksummed).
    factories: Mapped[list[str]] = mapped_column(JsonColumn)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class IndexerBlock(Base):
    """Headers of recently indexed blocks (batch tips), kept for the unfinalized window so that a
    reorg can be traced back to the common ancestor."""

    __tablename__ = "indexer_blocks"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(HASH)
    parent_hash: Mapped[str] = mapped_column(HASH)


class IndexerRawLog(Base):
    """Every log fetched from the factories and the discovered collections, as the node returned it.
    Keyed on the block hash too: after a reorg the same transaction may land in another block."""

    __tablename__ = "indexer_raw_logs"
    __table_args__ = (
        Index("ix_indexer_raw_logs_position", "chain_id", "block_number", "tx_index", "log_index"),
        Index("ix_indexer_raw_logs_address", "chain_id", "address"),
    )

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_index: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(ADDRESS)
    topics: Mapped[list[str]] = mapped_column(JsonColumn)
    data: Mapped[str] = mapped_column(Text)  # 0x-hex


class IndexedCollection(Base):
    """A collection discovered from its factory's `CollectionCreated` event."""

    __tablename__ = "indexer_collections"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    factory: Mapped[str] = mapped_column(ADDRESS)
    creator: Mapped[str] = mapped_column(ADDRESS, index=True)
    owner: Mapped[str] = mapped_column(ADDRESS)
    implementation_version: Mapped[int] = mapped_column(BigInteger)
    user_salt: Mapped[str] = mapped_column(HASH)
    block_number: Mapped[int] = mapped_column(BigInteger)  # first seen
    tx_hash: Mapped[str] = mapped_column(HASH)
    log_index: Mapped[int] = mapped_column(Integer)


class IndexedToken(Base):
    """A token's current state. The owner carries the position of the transfer that set it, so
    applying events again or out of order never moves it back."""

    __tablename__ = "indexer_tokens"
    __table_args__ = (Index("ix_indexer_tokens_owner", "owner", "chain_id"),)

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    collection: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    token_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(ADDRESS)  # the zero address once burned
    owner_block: Mapped[int] = mapped_column(BigInteger)
    owner_tx_index: Mapped[int] = mapped_column(Integer)
    owner_log_index: Mapped[int] = mapped_column(Integer)
    minted_block: Mapped[int | None] = mapped_column(BigInteger)
    minted_tx_hash: Mapped[str | None] = mapped_column(HASH)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    # Last block with a MetadataUpdate / BatchMetadataUpdate covering the token after its mint.
    metadata_updated_block: Mapped[int | None] = mapped_column(BigInteger)


class _EventRow:
    """Derived event rows are keyed on (chain, tx hash, log index): writing one twice is a no-op."""

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tx_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_index: Mapped[int] = mapped_column(Integer)
    collection: Mapped[str] = mapped_column(ADDRESS)


class IndexedTransfer(_EventRow, Base):
    __tablename__ = "indexer_transfers"
    __table_args__ = (Index("ix_indexer_transfers_token", "chain_id", "collection", "token_id"),)

    token_id: Mapped[int] = mapped_column(BigInteger)
    from_address: Mapped[str] = mapped_column(ADDRESS)
    to_address: Mapped[str] = mapped_column(ADDRESS)


class IndexedMint(_EventRow, Base):
    """Transfers from the zero address, kept apart for the mint history."""

    __tablename__ = "indexer_mints"
    __table_args__ = (Index("ix_indexer_mints_collection", "chain_id", "collection", "token_id"),)

    token_id: Mapped[int] = mapped_column(BigInteger)
    to_address: Mapped[str] = mapped_column(ADDRESS)


class IndexedUpgrade(_EventRow, Base):
    __tablename__ = "indexer_upgrades"
    __table_args__ = (Index("ix_indexer_upgrades_token", "chain_id", "collection", "token_id"),)

    token_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(BigInteger)


class IndexedMetadataUpdate(_EventRow, Base):
    """ERC-4906: one token (`from_token_id == to_token_id`) or a range; an open-ended range (the
    contract's `type(uint256).max`) is stored as the largest BIGINT."""

    __tablename__ = "indexer_metadata_updates"
    __table_args__ = (Index("ix_indexer_metadata_updates_collection", "chain_id", "collection"),)

    from_token_id: Mapped[int] = mapped_column(BigInteger)
    to_token_id: Mapped[int] = mapped_column(BigInteger)
