"""Every publishing query."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.models import CollectionRecord, JobRecord, PublishOperation
from emprops.generations.run_spec import JOB_TYPE


class PublishRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def collection(self, collection_id: uuid.UUID) -> CollectionRecord | None:
        return await self.session.get(CollectionRecord, collection_id, populate_existing=True)

    async def operation(self, operation_id: uuid.UUID) -> PublishOperation | None:
        return await self.session.get(PublishOperation, operation_id, populate_existing=True)

    async def find(
        self, collection_id: uuid.UUID, kind: str, request_key: str
    ) -> PublishOperation | None:
        return (
            await self.session.execute(
                select(PublishOperation).where(
                    PublishOperation.collection_id == collection_id,
                    PublishOperation.kind == kind,
                    PublishOperation.request_key == request_key,
                )
            )
        ).scalar_one_or_none()

    async def operations(self, collection_id: uuid.UUID) -> list[PublishOperation]:
        rows = await self.session.execute(
            select(PublishOperation)
            .where(PublishOperation.collection_id == collection_id)
            .order_by(PublishOperation.created_at.desc())
        )
        return list(rows.scalars())

    async def latest_completed(
        self, collection_id: uuid.UUID, kind: str
    ) -> PublishOperation | None:
        return (
            await self.session.execute(
                select(PublishOperation)
                .where(
                    PublishOperation.collection_id == collection_id,
                    PublishOperation.kind == kind,
                    PublishOperation.status == "completed",
                )
                .order_by(PublishOperation.updated_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()

    async def latest_finished_run(self, collection_id: uuid.UUID) -> JobRecord | None:
        return (
            await self.session.execute(
                select(JobRecord)
                .where(
                    JobRecord.collection_id == collection_id,
                    JobRecord.job_type == JOB_TYPE,
                    JobRecord.status.in_(("completed", "failed")),
                )
                .order_by(JobRecord.created_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()

    async def run(self, run_id: uuid.UUID) -> JobRecord | None:
        return await self.session.get(JobRecord, run_id)
