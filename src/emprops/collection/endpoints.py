"""Collection routes: thin, every one scoped to the caller."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, status

from emprops.api.dependencies import DbSession
from emprops.api.errors import ErrorResponse
from emprops.auth import CurrentPrincipal
from emprops.collection.repository import CollectionRepository
from emprops.collection.schemas import (
    CollectionCreate,
    CollectionOut,
    CollectionRemix,
    CollectionStatusName,
    CollectionUpdate,
    ComponentOut,
)
from emprops.collection.service import CollectionService

ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422, 429)}
router = APIRouter(tags=["collections"], responses=ERRORS)  # type: ignore[arg-type]


def collection_service(session: DbSession) -> CollectionService:
    return CollectionService(CollectionRepository(session))


Service = Annotated[CollectionService, Depends(collection_service)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.post("/projects/{project_id}/collections", status_code=status.HTTP_201_CREATED)
async def create_collection(
    project_id: uuid.UUID,
    body: Annotated[CollectionCreate, Body()],
    principal: CurrentPrincipal,
    service: Service,
) -> CollectionOut:
    """A new draft from `source`: empty, a template, an asset's inputs, or custom data. The
    GenerationInput is validated (422 lists every problem in `details.problems`) and its steps
    get fresh component ids."""
    return CollectionOut.model_validate(await service.create(principal.user, project_id, body))


@router.get("/projects/{project_id}/collections")
async def list_collections(
    project_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: Service,
    status_filter: Annotated[CollectionStatusName | None, Query(alias="status")] = None,
    include_archived: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[CollectionOut]:
    collections = await service.list_in_project(
        principal.user,
        project_id,
        status=status_filter,
        include_archived=include_archived,
        limit=limit,
        offset=offset,
    )
    return [CollectionOut.model_validate(c) for c in collections]


@router.get("/collections/{collection_id}")
async def get_collection(
    collection_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> CollectionOut:
    return CollectionOut.model_validate(await service.get(principal.user, collection_id))


@router.patch("/collections/{collection_id}")
async def update_collection(
    collection_id: uuid.UUID, body: CollectionUpdate, principal: CurrentPrincipal, service: Service
) -> CollectionOut:
    """Change fields; new `data` is re-validated (refused once published: remix instead)."""
    return CollectionOut.model_validate(await service.update(principal.user, collection_id, body))


@router.delete("/collections/{collection_id}")
async def archive_collection(
    collection_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> CollectionOut:
    """Archive (kept, with its components and files; left out of lists)."""
    return CollectionOut.model_validate(await service.archive(principal.user, collection_id))


@router.post("/collections/{collection_id}/remix", status_code=status.HTTP_201_CREATED)
async def remix_collection(
    collection_id: uuid.UUID, body: CollectionRemix, principal: CurrentPrincipal, service: Service
) -> CollectionOut:
    """Fork one of yours, or any published collection, into one of your projects as a draft."""
    return CollectionOut.model_validate(await service.remix(principal.user, collection_id, body))


@router.post("/collections/{collection_id}/publish")
async def publish_collection(
    collection_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> CollectionOut:
    """Draft -> published, once its data validates; from then on its data is immutable."""
    return CollectionOut.model_validate(await service.publish(principal.user, collection_id))


@router.get("/collections/{collection_id}/components")
async def list_components(
    collection_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> list[ComponentOut]:
    return [
        ComponentOut.model_validate(c)
        for c in await service.components(principal.user, collection_id)
    ]
