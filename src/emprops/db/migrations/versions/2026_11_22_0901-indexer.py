"""indexer: raw logs, checkpoints, indexed collections, tokens, mints, transfers, upgrades

Revision ID: 0004_indexer
Revises: 0003_chain
Create Date: 2026-11-22 09:01:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import emprops.db.base

revision: str = "0004_indexer"
down_revision: str | None = "0003_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "indexer_blocks",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.Column("parent_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "number", name=op.f("pk_indexer_blocks")),
    )
    op.create_table(
        "indexer_checkpoints",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=True),
        sa.Column("factories", JSON, nullable=False),
        sa.Column("updated_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", name=op.f("pk_indexer_checkpoints")),
    )
    op.create_table(
        "indexer_collections",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("factory", sa.String(length=42), nullable=False),
        sa.Column("creator", sa.String(length=42), nullable=False),
        sa.Column("owner", sa.String(length=42), nullable=False),
        sa.Column("implementation_version", sa.BigInteger(), nullable=False),
        sa.Column("user_salt", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "address", name=op.f("pk_indexer_collections")),
    )
    op.create_index(
        op.f("ix_indexer_collections_creator"), "indexer_collections", ["creator"], unique=False
    )
    op.create_table(
        "indexer_metadata_updates",
        sa.Column("from_token_id", sa.BigInteger(), nullable=False),
        sa.Column("to_token_id", sa.BigInteger(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=42), nullable=False),
        sa.PrimaryKeyConstraint(
            "chain_id", "tx_hash", "log_index", name=op.f("pk_indexer_metadata_updates")
        ),
    )
    op.create_index(
        "ix_indexer_metadata_updates_collection",
        "indexer_metadata_updates",
        ["chain_id", "collection"],
        unique=False,
    )
    op.create_table(
        "indexer_mints",
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("to_address", sa.String(length=42), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=42), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "tx_hash", "log_index", name=op.f("pk_indexer_mints")),
    )
    op.create_index(
        "ix_indexer_mints_collection",
        "indexer_mints",
        ["chain_id", "collection", "token_id"],
        unique=False,
    )
    op.create_table(
        "indexer_raw_logs",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("topics", JSON, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "chain_id", "block_hash", "tx_hash", "log_index", name=op.f("pk_indexer_raw_logs")
        ),
    )
    op.create_index(
        "ix_indexer_raw_logs_address", "indexer_raw_logs", ["chain_id", "address"], unique=False
    )
    op.create_index(
        "ix_indexer_raw_logs_position",
        "indexer_raw_logs",
        ["chain_id", "block_number", "tx_index", "log_index"],
        unique=False,
    )
    op.create_table(
        "indexer_tokens",
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("collection", sa.String(length=42), nullable=False),
        sa.Column("token_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(length=42), nullable=False),
        sa.Column("owner_block", sa.BigInteger(), nullable=False),
        sa.Column("owner_tx_index", sa.Integer(), nullable=False),
        sa.Column("owner_log_index", sa.Integer(), nullable=False),
        sa.Column("minted_block", sa.BigInteger(), nullable=True),
        sa.Column("minted_tx_hash", sa.String(length=66), nullable=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("metadata_updated_block", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "chain_id", "collection", "token_id", name=op.f("pk_indexer_tokens")
        ),
    )
    op.create_index(
        "ix_indexer_tokens_owner", "indexer_tokens", ["owner", "chain_id"], unique=False
    )
    op.create_table(
        "indexer_transfers",
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("from_address", sa.String(length=42), nullable=False),
        sa.Column("to_address", sa.String(length=42), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=42), nullable=False),
        sa.PrimaryKeyConstraint(
            "chain_id", "tx_hash", "log_index", name=op.f("pk_indexer_transfers")
        ),
    )
    op.create_index(
        "ix_indexer_transfers_token",
        "indexer_transfers",
        ["chain_id", "collection", "token_id"],
        unique=False,
    )
    op.create_table(
        "indexer_upgrades",
        sa.Column("token_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=42), nullable=False),
        sa.PrimaryKeyConstraint(
            "chain_id", "tx_hash", "log_index", name=op.f("pk_indexer_upgrades")
        ),
    )
    op.create_index(
        "ix_indexer_upgrades_token",
        "indexer_upgrades",
        ["chain_id", "collection", "token_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("indexer_upgrades")
    op.drop_table("indexer_transfers")
    op.drop_table("indexer_tokens")
    op.drop_table("indexer_raw_logs")
    op.drop_table("indexer_mints")
    op.drop_table("indexer_metadata_updates")
    op.drop_table("indexer_collections")
    op.drop_table("indexer_checkpoints")
    op.drop_table("indexer_blocks")
