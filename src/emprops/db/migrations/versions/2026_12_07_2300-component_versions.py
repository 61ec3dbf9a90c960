"""component versions: registered components are versioned and addressed by a digest; a cost
expression and a test value set per component

Revision ID: 0006_component_versions
Revises: 0005_publishing
Create Date: 2026-12-07 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import emprops.db.base

revision: str = "0006_component_versions"
down_revision: str | None = "0005_publishing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("cost", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("test_values", JSON, nullable=True))
    op.create_table(
        "component_versions",
        sa.Column("workflow_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["workflows.id"],
            name=op.f("fk_component_versions_workflow_id_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_versions")),
        sa.UniqueConstraint("workflow_id", "version", name="uq_component_versions_version"),
    )
    op.create_index(
        op.f("ix_component_versions_digest"), "component_versions", ["digest"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_component_versions_digest"), table_name="component_versions")
    op.drop_table("component_versions")
    with op.batch_alter_table("workflows", schema=None) as batch_op:
        batch_op.drop_column("test_values")
        batch_op.drop_column("cost")
        batch_op.drop_column("digest")
        batch_op.drop_column("version")
