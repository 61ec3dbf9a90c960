"""Every query of the assets domain; each one scoped to the owner (a file's, or its collection's)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from emprops.db.models import CollectionRecord, Component, ComponentFlatFile, FlatFile


class AssetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def get_owned(self, user_id: uuid.UUID, file_id: uuid.UUID) -> FlatFile | None:
        return (
            await self.session.execute(
                select(FlatFile).where(FlatFile.id == file_id, FlatFile.user_id == user_id)
            )
        ).scalar_one_or_none()

    async def owns_collection(self, user_id: uuid.UUID, collection_id: uuid.UUID) -> bool:
        found = await self.session.execute(
            select(CollectionRecord.id).where(
                CollectionRecord.id == collection_id, CollectionRecord.user_id == user_id
            )
        )
        return found.scalar_one_or_none() is not None

    async def owned_component(
        self, user_id: uuid.UUID, component_id: uuid.UUID
    ) -> Component | None:
        return (
            await self.session.execute(
                select(Component)
                .join(CollectionRecord, CollectionRecord.id == Component.collection_id)
                .where(Component.id == component_id, CollectionRecord.user_id == user_id)
            )
        ).scalar_one_or_none()

    async def components_of(self, file_id: uuid.UUID) -> list[Component]:
        rows = await self.session.execute(
            select(Component)
            .join(ComponentFlatFile, ComponentFlatFile.component_id == Component.id)
            .where(ComponentFlatFile.flat_file_id == file_id)
            .order_by(Component.created_at, Component.id)
        )
        return list(rows.scalars())

    async def _page(
        self,
        user_id: uuid.UUID,
        linked: Select[Any],
        *,
        include_hidden: bool,
        limit: int,
        offset: int,
    ) -> list[FlatFile]:
        # A subquery, not a join: a file linked to two steps is listed once, with no DISTINCT
        # over JSON columns.
        query = select(FlatFile).where(FlatFile.user_id == user_id, FlatFile.id.in_(linked))
        if not include_hidden:
            query = query.where(FlatFile.hidden.is_(False))
        rows = await self.session.execute(
            query.order_by(FlatFile.created_at.desc(), FlatFile.id).limit(limit).offset(offset)
        )
        return list(rows.scalars())

    async def files_of_collection(
        self,
        user_id: uuid.UUID,
        collection_id: uuid.UUID,
        *,
        include_hidden: bool,
        limit: int,
        offset: int,
    ) -> list[FlatFile]:
        linked = (
            select(ComponentFlatFile.flat_file_id)
            .join(Component, Component.id == ComponentFlatFile.component_id)
            .where(Component.collection_id == collection_id)
        )
        return await self._page(
            user_id, linked, include_hidden=include_hidden, limit=limit, offset=offset
        )

    async def files_of_component(
        self,
        user_id: uuid.UUID,
        component_id: uuid.UUID,
        *,
        include_hidden: bool,
        limit: int,
        offset: int,
    ) -> list[FlatFile]:
        linked = select(ComponentFlatFile.flat_file_id).where(
            ComponentFlatFile.component_id == component_id
        )
        return await self._page(
            user_id, linked, include_hidden=include_hidden, limit=limit, offset=offset
        )
