"""A collection's stage only moves forward (a second generation run must not turn a minted
collection back into a generated one), in one conditional UPDATE so racing writers cannot undo
each other."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.models import CollectionRecord, CollectionStage


async def advance_stage(
    session: AsyncSession, collection_id: uuid.UUID, to: CollectionStage
) -> bool:
    """Move the collection to `to` if it is behind it; True when it moved."""
    behind = [s.value for s in CollectionStage if s.rank < to.rank]
    result = await session.execute(
        update(CollectionRecord)
        .where(CollectionRecord.id == collection_id, CollectionRecord.stage.in_(behind))
        .values(stage=to.value, updated_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
