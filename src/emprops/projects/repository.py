"""Every query of the projects domain; each one scoped to the owner."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.models import Project, ProjectHistory


class ProjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def get_owned(self, user_id: uuid.UUID, project_id: uuid.UUID) -> Project | None:
        return (
            await self.session.execute(
                select(Project).where(Project.id == project_id, Project.user_id == user_id)
            )
        ).scalar_one_or_none()

    async def list_owned(
        self, user_id: uuid.UUID, *, include_archived: bool, limit: int, offset: int
    ) -> list[Project]:
        query = select(Project).where(Project.user_id == user_id)
        if not include_archived:
            query = query.where(Project.archived_at.is_(None))
        rows = await self.session.execute(
            query.order_by(Project.created_at.desc(), Project.id).limit(limit).offset(offset)
        )
        return list(rows.scalars())

    async def history(self, project_id: uuid.UUID) -> list[ProjectHistory]:
        rows = await self.session.execute(
            select(ProjectHistory)
            .where(ProjectHistory.project_id == project_id)
            .order_by(ProjectHistory.created_at, ProjectHistory.id)
        )
        return list(rows.scalars())
