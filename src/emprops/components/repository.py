"""Every query of the workflow registry."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.core.errors import ConflictError
from emprops.db.models import ComponentVersion, WorkflowRecord


class WorkflowRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def flush_unique(self, name: str) -> None:
        """Flush, turning a lost race on the unique name into a conflict (not a 500)."""
        try:
            await self.session.flush()
        except IntegrityError:
            raise ConflictError(
                f"a workflow named {name!r} already exists", details={"name": name}
            ) from None

    async def add(self, record: WorkflowRecord) -> None:
        self.session.add(record)
        await self.flush_unique(record.name)

    async def get(self, workflow_id: uuid.UUID) -> WorkflowRecord | None:
        return await self.session.get(WorkflowRecord, workflow_id)

    async def by_name(self, name: str) -> WorkflowRecord | None:
        return (
            await self.session.execute(select(WorkflowRecord).where(WorkflowRecord.name == name))
        ).scalar_one_or_none()

    async def named(self, names: Collection[str] | None) -> list[WorkflowRecord]:
        """The records with these names (all of them for None)."""
        query = select(WorkflowRecord)
        if names is not None:
            if not names:
                return []
            query = query.where(WorkflowRecord.name.in_(sorted(names)))
        return list((await self.session.execute(query)).scalars())

    async def list_page(
        self, *, workflow_type: str | None, limit: int, offset: int
    ) -> list[WorkflowRecord]:
        query = select(WorkflowRecord)
        if workflow_type is not None:
            query = query.where(WorkflowRecord.type == workflow_type)
        rows = await self.session.execute(
            query.order_by(WorkflowRecord.name, WorkflowRecord.id).limit(limit).offset(offset)
        )
        return list(rows.scalars())

    async def delete(self, record: WorkflowRecord) -> None:
        await self.session.delete(record)
        await self.session.flush()

    async def latest_version(self, workflow_id: uuid.UUID) -> int | None:
        query = select(func.max(ComponentVersion.version)).where(
            ComponentVersion.workflow_id == workflow_id
        )
        latest: int | None = (await self.session.execute(query)).scalar_one_or_none()
        return latest

    async def add_version(self, version: ComponentVersion) -> None:
        self.session.add(version)
        await self.session.flush()

    async def versions(self, workflow_id: uuid.UUID) -> list[ComponentVersion]:
        query = (
            select(ComponentVersion)
            .where(ComponentVersion.workflow_id == workflow_id)
            .order_by(ComponentVersion.version)
        )
        return list((await self.session.execute(query)).scalars())
