"""generation runs: the run journal and outcomes; credits that cannot be held or settled twice

Revision ID: 0002_generation_runs
Revises: 0001
Create Date: 2026-11-22 06:24:34.373639
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import emprops.db.base

revision: str = "0002_generation_runs"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "generation_outcomes",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("generation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("credits_charged", sa.Integer(), nullable=False),
        sa.Column("credits_released", sa.Integer(), nullable=False),
        sa.Column("created_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["jobs.id"],
            name=op.f("fk_generation_outcomes_run_id_jobs"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "generation", name=op.f("pk_generation_outcomes")),
    )  # fmt: skip
    op.create_table(
        "generation_step_results",
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("generation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("step_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("job_id", sa.String(length=200), nullable=False),
        sa.Column("output", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", emprops.db.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["jobs.id"],
            name=op.f("fk_generation_step_results_run_id_jobs"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "run_id", "generation", "step_id", name=op.f("pk_generation_step_results")
        ),
    )  # fmt: skip
    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_ledger_reference"))
        batch_op.create_index(batch_op.f("ix_credit_ledger_reference"), ["reference"], unique=True)
    # Autogenerate does not compare CHECK constraints: this one is written by hand.
    with op.batch_alter_table("credit_balances", schema=None) as batch_op:
        batch_op.create_check_constraint("held_covered", "held <= permanent + rental")


def downgrade() -> None:
    with op.batch_alter_table("credit_balances", schema=None) as batch_op:
        batch_op.drop_constraint("held_covered", type_="check")
    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_ledger_reference"))
        batch_op.create_index(batch_op.f("ix_credit_ledger_reference"), ["reference"], unique=False)
    op.drop_table("generation_step_results")
    op.drop_table("generation_outcomes")
