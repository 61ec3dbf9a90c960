"""Publishing routes: package, deploy and mint are queued (202) and followed by status."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, status

from emprops.api.dependencies import BrokerDep, DbSession, State
from emprops.api.errors import ErrorResponse
from emprops.auth import CurrentPrincipal
from emprops.publishing.repository import PublishRepository
from emprops.publishing.schemas import (
    DeployRequest,
    MintRequest,
    OperationOut,
    PackageRequest,
    PublishStatus,
)
from emprops.publishing.service import PublishService

ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422, 429)}
router = APIRouter(tags=["publishing"], responses=ERRORS)  # type: ignore[arg-type]


def publish_service(session: DbSession, broker: BrokerDep, state: State) -> PublishService:
    return PublishService(PublishRepository(session), broker, state.settings.chain)


Service = Annotated[PublishService, Depends(publish_service)]
ACCEPTED = status.HTTP_202_ACCEPTED


@router.post("/collections/{collection_id}/package", status_code=ACCEPTED)
async def package_collection(
    collection_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: Service,
    body: Annotated[PackageRequest | None, Body()] = None,
) -> OperationOut:
    """Package a finished generation run (metadata, CIDs, CAR). Asking again for the same run
    returns the same operation; a failed one is tried again."""
    op = await service.request_package(principal.user, collection_id, body or PackageRequest())
    return OperationOut.model_validate(op)


@router.post("/collections/{collection_id}/deploy", status_code=ACCEPTED)
async def deploy_collection(
    collection_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: Service,
    body: Annotated[DeployRequest | None, Body()] = None,
) -> OperationOut:
    """Deploy the packaged collection through the factory on a chain (once per chain)."""
    op = await service.request_deploy(principal.user, collection_id, body or DeployRequest())
    return OperationOut.model_validate(op)


@router.post("/collections/{collection_id}/mint", status_code=ACCEPTED)
async def mint_tokens(
    collection_id: uuid.UUID,
    body: Annotated[MintRequest, Body()],
    principal: CurrentPrincipal,
    service: Service,
) -> OperationOut:
    """Mint `quantity` tokens to `to`, in batches. `request_id` makes it idempotent: the same id
    again is the same mint (409 if its terms differ), never a second one."""
    op = await service.request_mint(principal.user, collection_id, body)
    return OperationOut.model_validate(op)


@router.get("/collections/{collection_id}/publishing")
async def publishing_status(
    collection_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> PublishStatus:
    """The collection's stage (draft → generated → packaged → deployed → minted), its package,
    deployment, minted count and every operation with its status."""
    return await service.status(principal.user, collection_id)
