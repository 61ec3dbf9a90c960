"""Every query of the collection domain; each one scoped to the owner (or to published rows)."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.models import (
    CollectionRecord,
    CollectionStatus,
    Component,
    ComponentFlatFile,
    Project,
)


class CollectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def owned_project(self, user_id: uuid.UUID, project_id: uuid.UUID) -> Project | None:
        return (
            await self.session.execute(
                select(Project).where(Project.id == project_id, Project.user_id == user_id)
            )
        ).scalar_one_or_none()

    async def get_owned(
        self, user_id: uuid.UUID, collection_id: uuid.UUID
    ) -> CollectionRecord | None:
        return (
            await self.session.execute(
                select(CollectionRecord).where(
                    CollectionRecord.id == collection_id, CollectionRecord.user_id == user_id
                )
            )
        ).scalar_one_or_none()

    async def get_readable(
        self, user_id: uuid.UUID, collection_id: uuid.UUID
    ) -> CollectionRecord | None:
        """The user's own collection, or anyone's published and unarchived one."""
        published = (CollectionRecord.status == CollectionStatus.PUBLISHED) & (
            CollectionRecord.archived.is_(False)
        )
        return (
            await self.session.execute(
                select(CollectionRecord).where(
                    CollectionRecord.id == collection_id,
                    or_(CollectionRecord.user_id == user_id, published),
                )
            )
        ).scalar_one_or_none()

    async def list_in_project(
        self,
        user_id: uuid.UUID,
        project_id: uuid.UUID,
        *,
        status: str | None,
        include_archived: bool,
        limit: int,
        offset: int,
    ) -> list[CollectionRecord]:
        query = select(CollectionRecord).where(
            CollectionRecord.project_id == project_id, CollectionRecord.user_id == user_id
        )
        if status is not None:
            query = query.where(CollectionRecord.status == status)
        if not include_archived:
            query = query.where(CollectionRecord.archived.is_(False))
        rows = await self.session.execute(
            query.order_by(CollectionRecord.created_at.desc(), CollectionRecord.id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows.scalars())

    async def components_of(self, collection_id: uuid.UUID) -> list[Component]:
        rows = await self.session.execute(
            select(Component)
            .where(Component.collection_id == collection_id)
            .order_by(Component.created_at, Component.step_id)
        )
        return list(rows.scalars())

    async def component_by_step(self, collection_id: uuid.UUID, step_id: int) -> Component | None:
        return (
            (
                await self.session.execute(
                    select(Component)
                    .where(Component.collection_id == collection_id, Component.step_id == step_id)
                    .order_by(Component.created_at)
                    .limit(1)
                )
            )
            .scalars()
            .first()
        )

    async def delete_components_without_files(self, component_ids: Collection[uuid.UUID]) -> None:
        """Drop components no stored file points at; the others keep their outputs findable."""
        if not component_ids:
            return
        has_files = exists().where(ComponentFlatFile.component_id == Component.id)
        await self.session.execute(
            delete(Component)
            .where(Component.id.in_(list(component_ids)), ~has_files)
            .execution_options(synchronize_session="fetch")
        )
        await self.session.flush()
