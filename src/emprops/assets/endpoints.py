"""Asset (stored output) routes: thin, every one scoped to the caller."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from emprops.api.dependencies import DbSession
from emprops.api.errors import ErrorResponse
from emprops.assets.repository import AssetRepository
from emprops.assets.schemas import AssetComponentOut, AssetDetailOut, AssetOut
from emprops.assets.service import AssetService
from emprops.auth import CurrentPrincipal

ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 422, 429)}
router = APIRouter(tags=["assets"], responses=ERRORS)  # type: ignore[arg-type]


def asset_service(session: DbSession) -> AssetService:
    return AssetService(AssetRepository(session))


Service = Annotated[AssetService, Depends(asset_service)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/collections/{collection_id}/assets")
async def list_collection_assets(
    collection_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: Service,
    include_hidden: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[AssetOut]:
    """Files stored by any step of the collection, newest first."""
    files = await service.list_for_collection(
        principal.user, collection_id, include_hidden=include_hidden, limit=limit, offset=offset
    )
    return [AssetOut.model_validate(f) for f in files]


@router.get("/components/{component_id}/assets")
async def list_component_assets(
    component_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: Service,
    include_hidden: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[AssetOut]:
    files = await service.list_for_component(
        principal.user, component_id, include_hidden=include_hidden, limit=limit, offset=offset
    )
    return [AssetOut.model_validate(f) for f in files]


async def _detail(
    service: AssetService, principal: CurrentPrincipal, asset_id: uuid.UUID
) -> AssetDetailOut:
    flat_file, components = await service.detail(principal.user, asset_id)
    return AssetDetailOut.model_validate(
        {
            **AssetOut.model_validate(flat_file).model_dump(),
            "gen_in_data": flat_file.gen_in_data,
            "gen_out_data": flat_file.gen_out_data,
            "components": [AssetComponentOut.model_validate(c) for c in components],
        }
    )


@router.get("/assets/{asset_id}")
async def get_asset(
    asset_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> AssetDetailOut:
    """One file with its provenance: the inputs that made it and what the step returned."""
    return await _detail(service, principal, asset_id)


@router.post("/assets/{asset_id}/hide")
async def hide_asset(
    asset_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> AssetDetailOut:
    """Leave it out of lists (kept, and still readable by id)."""
    await service.set_hidden(principal.user, asset_id, True)
    return await _detail(service, principal, asset_id)


@router.post("/assets/{asset_id}/unhide")
async def unhide_asset(
    asset_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> AssetDetailOut:
    await service.set_hidden(principal.user, asset_id, False)
    return await _detail(service, principal, asset_id)
