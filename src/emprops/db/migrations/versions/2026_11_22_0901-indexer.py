"""indexer: raw logs, checkpoints, indexed collections, tokens, mints, transfers, upgrades

Revision ID: 0004_indexer
Revises: 0003_chain
Create Date: 2026-11-22 09:01:00
"""

from collections.abc import Sequence

revision: str = "0004_indexer"
down_revision: str | None = "0003_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
