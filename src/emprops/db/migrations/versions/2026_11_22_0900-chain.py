"""chain: platform contracts per chain, signers' nonces, signed transactions (recorded before
they are sent), collection deployments, mint requests

Revision ID: 0003_chain
Revises: 0002_generation_runs
Create Date: 2026-11-22 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import emprops.db.base

revision: str = "0003_chain"
down_revision: str | None = "0002_generation_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "chain_platforms",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("genesis_hash", sa.String(length=66), nullable=False),
        sa.Column("factory", sa.String(length=42), nullable=False),
        sa.Column("factory_implementation", sa.String(length=42), nullable=False),
        sa.Column("collection_implementation", sa.String(length=42), nullable=False),
        sa.Column("split_factory", sa.String(length=42), nullable=True),
        sa.Column("deployer", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_platforms")),
        sa.UniqueConstraint("chain_id", "genesis_hash", name=op.f("uq_chain_platforms_chain_id")),
    )
    op.create_table(
        "chain_signers",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("next_nonce", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_signers")),
        sa.UniqueConstraint("chain_id", "address", name=op.f("uq_chain_signers_chain_id")),
    )
    op.create_table(
        "chain_transactions",
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_transactions")),
        sa.UniqueConstraint("purpose", name=op.f("uq_chain_transactions_purpose")),
    )
    op.create_index(
        op.f("ix_chain_transactions_tx_hash"), "chain_transactions", ["tx_hash"], unique=False
    )
    op.create_table(
        "collection_deployments",
        sa.Column("collection_id", sa.Uuid(), nullable=True),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("salt", sa.String(length=66), nullable=False),
        sa.Column("owner", sa.String(length=42), nullable=False),
        sa.Column("royalty_split", sa.String(length=42), nullable=True),
        sa.Column("params", JSON, nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("gas_used", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collections.id"],
            name=op.f("fk_collection_deployments_collection_id_collections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["chain_platforms.id"],
            name=op.f("fk_collection_deployments_platform_id_chain_platforms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection_deployments")),
        sa.UniqueConstraint("chain_id", "address", name=op.f("uq_collection_deployments_chain_id")),
    )
    op.create_index(
        op.f("ix_collection_deployments_collection_id"),
        "collection_deployments",
        ["collection_id"],
        unique=False,
    )
    op.create_table(
        "mint_requests",
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("to_address", sa.String(length=42), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("minted", sa.Integer(), nullable=False),
        sa.Column("first_token_id", sa.BigInteger(), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["collection_deployments.id"],
            name=op.f("fk_mint_requests_deployment_id_collection_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mint_requests")),
        sa.UniqueConstraint(
            "deployment_id", "request_id", name=op.f("uq_mint_requests_deployment_id")
        ),
    )
    op.create_index(
        op.f("ix_mint_requests_deployment_id"), "mint_requests", ["deployment_id"], unique=False
    )
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_table("mint_requests")
    op.drop_table("collection_deployments")
    op.drop_table("chain_transactions")
    op.drop_table("chain_signers")
    op.drop_table("chain_platforms")
