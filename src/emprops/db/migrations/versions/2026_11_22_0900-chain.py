"""chain: factory deployments, collection deployments, mint requests

Revision ID: 0003_chain
Revises: 0002_generation_runs
Create Date: 2026-11-22 09:00:00
"""

from collections.abc import Sequence

revision: str = "0003_chain"
down_revision: str | None = "0002_generation_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
