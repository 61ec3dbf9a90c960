"""What the chain service did: the platform contracts per chain, collection deployments, mint
requests and every transaction it signed (recorded before it is sent, so a crash never leads to
a second send of something already sent)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from emprops.db.base import Base, IdMixin, TimestampMixin


class ChainPlatform(IdMixin, TimestampMixin, Base):
    """The factory (proxy), its implementation, the collection implementation and the split
    factory on one chain, keyed by chain id and genesis hash (a fresh local chain is another)."""

    __tablename__ = "chain_platforms"
    __table_args__ = (UniqueConstraint("chain_id", "genesis_hash"),)

    chain_id: Mapped[int] = mapped_column(BigInteger)
    genesis_hash: Mapped[str] = mapped_column(String(66))
    factory: Mapped[str] = mapped_column(String(42))
    factory_implementation: Mapped[str] = mapped_column(String(42))
    collection_implementation: Mapped[str] = mapped_column(String(42))
    split_factory: Mapped[str | None] = mapped_column(String(42))
    deployer: Mapped[str] = mapped_column(String(42))
    block_number: Mapped[int] = mapped_column(BigInteger)


class ChainSigner(IdMixin, Base):
    """One row per signer and chain: its row lock orders nonce assignment across processes."""

    __tablename__ = "chain_signers"
    __table_args__ = (UniqueConstraint("chain_id", "address"),)

    chain_id: Mapped[int] = mapped_column(BigInteger)
    address: Mapped[str] = mapped_column(String(42))
    next_nonce: Mapped[int] = mapped_column(BigInteger, default=0)


class ChainTransaction(IdMixin, TimestampMixin, Base):
    """A signed transaction, stored (raw) before it is broadcast; `purpose` says what for."""

    __tablename__ = "chain_transactions"
    __table_args__ = (UniqueConstraint("purpose"),)

    chain_id: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(200))  # e.g. mint:<request>:<batch>
    signer: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66), index=True)
    raw: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="signed")  # signed|sent|mined|reverted
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    gas_used: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)


class CollectionDeployment(IdMixin, TimestampMixin, Base):
    __tablename__ = "collection_deployments"
    __table_args__ = (UniqueConstraint("chain_id", "address"),)

    collection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("collections.id", ondelete="SET NULL"), index=True
    )
    platform_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chain_platforms.id"))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    address: Mapped[str] = mapped_column(String(42))
    salt: Mapped[str] = mapped_column(String(66))
    owner: Mapped[str] = mapped_column(String(42))
    royalty_split: Mapped[str | None] = mapped_column(String(42))
    params: Mapped[dict[str, Any]] = mapped_column()
    tx_hash: Mapped[str] = mapped_column(String(66))
    gas_used: Mapped[int] = mapped_column(BigInteger, default=0)


class MintRequest(IdMixin, TimestampMixin, Base):
    __tablename__ = "mint_requests"
    __table_args__ = (UniqueConstraint("deployment_id", "request_id"),)

    deployment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("collection_deployments.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[str] = mapped_column(String(100))
    to_address: Mapped[str] = mapped_column(String(42))
    quantity: Mapped[int] = mapped_column()
    batch_size: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|minted|failed
    minted: Mapped[int] = mapped_column(default=0)
    first_token_id: Mapped[int | None] = mapped_column(BigInteger)
    gas_used: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
