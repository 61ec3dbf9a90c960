"""Collections: created four ways, changed, archived, remixed, published. Never commits.

Rules (kept in one place so the API, the CLI and tests agree):
- Only the owner sees or changes a collection; anyone else gets "not found".
- A template or remix source is one of the caller's collections (any state) or anyone's
  published, unarchived collection.
- Published data is immutable: a published collection's `data` cannot be updated (409); remix
  it to change the workflow. Title, description, cover and sale terms stay editable.
- Publishing needs a draft, unarchived collection whose data still validates (its workflows may
  have been deleted since). An archived collection cannot be changed, published or unarchived
  here, but it can still be a source for its owner.
- Archived projects take no new collections.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from emprops.assets import get_owned_asset
from emprops.collection.collection_data import (
    checked_generation_input,
    document_from_asset_inputs,
    empty_document,
)
from emprops.collection.repository import CollectionRepository
from emprops.collection.schemas import (
    CollectionCreate,
    CollectionFields,
    CollectionRemix,
    CollectionUpdate,
    CreateEmpty,
    CreateFromAsset,
    CreateFromData,
    CreateFromTemplate,
)
from emprops.core.errors import ConflictError, InvalidInputError, NotFoundError
from emprops.db.models import CollectionRecord, CollectionStatus, Component, Project, User
from emprops.workflows import GenerationInput

DEFAULT_TITLE = "Untitled collection"
_NOT_NULL = ("title", "batch_mint_enabled", "data")


class CollectionService:
    def __init__(self, repository: CollectionRepository) -> None:
        self.repo = repository

    # --- reading ------------------------------------------------------------------------------

    async def get(self, user: User, collection_id: uuid.UUID) -> CollectionRecord:
        """The user's collection; another user's is reported as missing, not forbidden."""
        collection = await self.repo.get_owned(user.id, collection_id)
        if collection is None:
            raise NotFoundError("collection not found", details={"id": str(collection_id)})
        return collection

    async def _readable(self, user: User, collection_id: uuid.UUID) -> CollectionRecord:
        collection = await self.repo.get_readable(user.id, collection_id)
        if collection is None:
            raise NotFoundError("collection not found", details={"id": str(collection_id)})
        return collection

    async def _project(self, user: User, project_id: uuid.UUID) -> Project:
        project = await self.repo.owned_project(user.id, project_id)
        if project is None:
            raise NotFoundError("project not found", details={"id": str(project_id)})
        return project

    async def list_in_project(
        self,
        user: User,
        project_id: uuid.UUID,
        *,
        status: str | None = None,
        include_archived: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> list[CollectionRecord]:
        project = await self._project(user, project_id)
        return await self.repo.list_in_project(
            user.id,
            project.id,
            status=status,
            include_archived=include_archived,
            limit=limit,
            offset=offset,
        )

    async def components(self, user: User, collection_id: uuid.UUID) -> list[Component]:
        collection = await self.get(user, collection_id)
        return await self.repo.components_of(collection.id)

    # --- creating -----------------------------------------------------------------------------

    async def create(
        self, user: User, project_id: uuid.UUID, body: CollectionCreate
    ) -> CollectionRecord:
        """A new draft in one of the user's projects, its data validated and its ids fresh."""
        project = await self._project(user, project_id)
        title: str | None = None
        document: Any
        if isinstance(body, CreateEmpty):
            document = empty_document()
        elif isinstance(body, CreateFromTemplate):
            template = await self._readable(user, body.template_id)
            document, title = template.data, template.title
        elif isinstance(body, CreateFromAsset):
            asset = await get_owned_asset(self.repo.session, user, body.asset_id)
            document, title = document_from_asset_inputs(asset.gen_in_data), asset.name[:200]
        else:
            assert isinstance(body, CreateFromData)
            document = body.data
        return await self._insert(user, project, body, document, default_title=title)

    async def remix(
        self, user: User, collection_id: uuid.UUID, body: CollectionRemix
    ) -> CollectionRecord:
        """Fork a readable collection into one of the caller's projects as a new draft; the
        workflow and description come along, the sale terms and cover are the remixer's."""
        source = await self._readable(user, collection_id)
        project = await self._project(user, body.project_id)
        if "description" not in body.model_fields_set:
            body = body.model_copy(update={"description": source.description})
        return await self._insert(
            user, project, body, source.data, default_title=source.title, remixed_from=source.id
        )

    async def _insert(
        self,
        user: User,
        project: Project,
        fields: CollectionFields,
        document: Any,
        *,
        default_title: str | None,
        remixed_from: uuid.UUID | None = None,
    ) -> CollectionRecord:
        if project.archived_at is not None:
            raise ConflictError(
                "the project is archived; it takes no new collections",
                details={"project_id": str(project.id)},
            )
        model = await checked_generation_input(self.repo.session, document, fresh_ids=True)
        collection = CollectionRecord(
            id=uuid.uuid4(),
            project_id=project.id,
            user_id=user.id,
            title=fields.title or default_title or DEFAULT_TITLE,
            description=fields.description,
            status=CollectionStatus.DRAFT,
            blockchain=fields.blockchain,
            editions=fields.editions,
            price=fields.price,
            batch_mint_enabled=bool(fields.batch_mint_enabled),
            batch_max_tokens=fields.batch_max_tokens,
            cover_image_url=fields.cover_image_url,
            data=model.to_document(),
            archived=False,
            remixed_from_id=remixed_from,
        )
        await self.repo.add(collection)
        await self._sync_components(collection, model)
        return collection

    async def _sync_components(self, collection: CollectionRecord, model: GenerationInput) -> None:
        """One component per step; a removed step's component stays only if files point at it."""
        existing = {c.step_id: c for c in await self.repo.components_of(collection.id)}
        added = []
        for step in model.steps:
            component = existing.get(step.id)
            if component is None:
                added.append(
                    Component(
                        id=uuid.uuid4(),
                        collection_id=collection.id,
                        step_id=step.id,
                        node_name=step.node_name,
                        alias=step.alias,
                    )
                )
            else:
                component.node_name, component.alias = step.node_name, step.alias
        await self.repo.add(*added)
        kept = {step.id for step in model.steps}
        await self.repo.delete_components_without_files(
            [c.id for step_id, c in existing.items() if step_id not in kept]
        )

    # --- changing -----------------------------------------------------------------------------

    async def update(
        self, user: User, collection_id: uuid.UUID, body: CollectionUpdate
    ) -> CollectionRecord:
        collection = await self.get(user, collection_id)
        changes = body.model_dump(exclude_unset=True)
        nulls = [field for field in _NOT_NULL if field in changes and changes[field] is None]
        if nulls:
            raise InvalidInputError(
                f"{nulls[0]} cannot be null",
                details={"problems": [{"location": f, "message": "cannot be null"} for f in nulls]},
            )
        if collection.archived:
            raise ConflictError("the collection is archived", details={"id": str(collection.id)})
        if "data" in changes:
            if collection.status == CollectionStatus.PUBLISHED:
                raise ConflictError(
                    "a published collection's data is immutable; remix it to change the workflow",
                    details={"id": str(collection.id)},
                )
            model = await checked_generation_input(
                self.repo.session, changes.pop("data"), fresh_ids=False
            )
            collection.data = model.to_document()
            await self._sync_components(collection, model)
        for field, value in changes.items():
            setattr(collection, field, value)
        collection.updated_at = datetime.now(UTC)
        await self.repo.session.flush()
        return collection

    async def archive(self, user: User, collection_id: uuid.UUID) -> CollectionRecord:
        collection = await self.get(user, collection_id)
        if not collection.archived:
            collection.archived = True
            collection.updated_at = datetime.now(UTC)
            await self.repo.session.flush()
        return collection

    async def publish(self, user: User, collection_id: uuid.UUID) -> CollectionRecord:
        collection = await self.get(user, collection_id)
        if collection.archived:
            raise ConflictError("the collection is archived", details={"id": str(collection.id)})
        if collection.status != CollectionStatus.DRAFT:
            raise ConflictError(
                f"only a draft can be published (this one is {collection.status})",
                details={"id": str(collection.id), "status": collection.status},
            )
        await checked_generation_input(self.repo.session, collection.data, fresh_ids=False)
        collection.status = CollectionStatus.PUBLISHED
        collection.updated_at = datetime.now(UTC)
        await self.repo.session.flush()
        return collection


async def find_component(
    session: AsyncSession, collection_id: uuid.UUID, step_id: int
) -> Component | None:
    """The component of a collection's step (what `record_output` links a step's file to)."""
    return await CollectionRepository(session).component_by_step(collection_id, step_id)
