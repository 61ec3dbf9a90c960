"""The Studio's own queries: what no API route lists yet (a collection's runs, newest first).
Everything else goes through the domains' services."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.models import JobRecord
from emprops.generations.run_spec import JOB_TYPE


class StudioRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def runs_of_collection(
        self, user_id: uuid.UUID, collection_id: uuid.UUID, limit: int = 20
    ) -> list[JobRecord]:
        rows = await self.session.execute(
            select(JobRecord)
            .where(
                JobRecord.user_id == user_id,
                JobRecord.collection_id == collection_id,
                JobRecord.job_type == JOB_TYPE,
            )
            .order_by(JobRecord.created_at.desc(), JobRecord.id)
            .limit(limit)
        )
        return list(rows.scalars().all())
