"""publishing: a collection's stage (draft → generated → packaged → deployed → minted) and its
package / deploy / mint operations

Revision ID: 0005_publishing
Revises: 0004_indexer
Create Date: 2026-11-22 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import emprops.db.base

revision: str = "0005_publishing"
down_revision: str | None = "0004_indexer"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stage", sa.String(length=20), nullable=False, server_default="draft")
        )
    op.create_table(
        "publish_operations",
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("request_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"], ["collections.id"],
            name=op.f("fk_publish_operations_collection_id_collections"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_publish_operations_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publish_operations")),
        sa.UniqueConstraint(
            "collection_id", "kind", "request_key",
            name=op.f("uq_publish_operations_collection_id"),
        ),
    )  # fmt: skip
    with op.batch_alter_table("publish_operations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publish_operations_collection_id"), ["collection_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_publish_operations_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("publish_operations")
    with op.batch_alter_table("collections", schema=None) as batch_op:
        batch_op.drop_column("stage")
