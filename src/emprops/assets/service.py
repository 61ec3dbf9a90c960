"""Stored outputs (flat files): listed per collection or step, read with provenance, hidden.
Never commits. `record_output` is how a finished step's file enters the database."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from emprops.assets.repository import AssetRepository
from emprops.core.errors import InvalidInputError, NotFoundError
from emprops.db.models import Component, ComponentFlatFile, FlatFile, User

# Column widths (flat_files): PostgreSQL refuses longer values, SQLite would keep them; check
# here so both behave the same and the message names the field.
_LIMITS = {"url": 2048, "path": 1024, "name": 300, "mime_type": 120}


def _check_lengths(**values: str | None) -> None:
    for field, value in values.items():
        if value is not None and len(value) > _LIMITS[field]:
            raise InvalidInputError(
                f"{field} is longer than {_LIMITS[field]} characters",
                details={"field": field, "length": len(value)},
            )


async def record_output(
    session: AsyncSession,
    user_id: uuid.UUID,
    component_id: uuid.UUID,
    url: str,
    path: str | None,
    name: str,
    mime_type: str | None,
    gen_in_data: dict[str, Any] | None,
    gen_out_data: dict[str, Any] | None,
) -> FlatFile:
    """Store a step's output with its inputs and link it to the step's component.

    The component must belong to a collection of `user_id` (NotFoundError otherwise), so a bug
    upstream cannot file one user's output under another's collection.
    """
    if not url or not name:
        raise InvalidInputError("a stored output needs a url and a name")
    _check_lengths(url=url, path=path, name=name, mime_type=mime_type)
    repo = AssetRepository(session)
    if await repo.owned_component(user_id, component_id) is None:
        raise NotFoundError(
            "component not found for this user",
            details={"component_id": str(component_id), "user_id": str(user_id)},
        )
    flat_file = FlatFile(
        id=uuid.uuid4(),
        user_id=user_id,
        url=url,
        path=path,
        name=name,
        mime_type=mime_type,
        gen_in_data=gen_in_data,
        gen_out_data=gen_out_data,
    )
    await repo.add(flat_file)
    await repo.add(ComponentFlatFile(component_id=component_id, flat_file_id=flat_file.id))
    return flat_file


async def get_owned_asset(session: AsyncSession, user: User, asset_id: uuid.UUID) -> FlatFile:
    """The user's stored output, for other domains (e.g. a collection started from an asset)."""
    return await AssetService(AssetRepository(session)).get(user, asset_id)


class AssetService:
    def __init__(self, repository: AssetRepository) -> None:
        self.repo = repository

    async def get(self, user: User, file_id: uuid.UUID) -> FlatFile:
        """The user's file; another user's is reported as missing, not forbidden."""
        flat_file = await self.repo.get_owned(user.id, file_id)
        if flat_file is None:
            raise NotFoundError("asset not found", details={"id": str(file_id)})
        return flat_file

    async def detail(self, user: User, file_id: uuid.UUID) -> tuple[FlatFile, list[Component]]:
        flat_file = await self.get(user, file_id)
        return flat_file, await self.repo.components_of(flat_file.id)

    async def list_for_collection(
        self,
        user: User,
        collection_id: uuid.UUID,
        *,
        include_hidden: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> list[FlatFile]:
        if not await self.repo.owns_collection(user.id, collection_id):
            raise NotFoundError("collection not found", details={"id": str(collection_id)})
        return await self.repo.files_of_collection(
            user.id, collection_id, include_hidden=include_hidden, limit=limit, offset=offset
        )

    async def list_for_component(
        self,
        user: User,
        component_id: uuid.UUID,
        *,
        include_hidden: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> list[FlatFile]:
        if await self.repo.owned_component(user.id, component_id) is None:
            raise NotFoundError("component not found", details={"id": str(component_id)})
        return await self.repo.files_of_component(
            user.id, component_id, include_hidden=include_hidden, limit=limit, offset=offset
        )

    async def set_hidden(self, user: User, file_id: uuid.UUID, hidden: bool) -> FlatFile:
        flat_file = await self.get(user, file_id)
        flat_file.hidden = hidden
        await self.repo.session.flush()
        return flat_file
