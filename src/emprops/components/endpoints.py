"""Registered-workflow routes: any authenticated caller reads, administrators write."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from emprops.api.dependencies import DbSession
from emprops.api.errors import ErrorResponse
from emprops.auth import AdminPrincipal, CurrentPrincipal
from emprops.components.repository import WorkflowRepository
from emprops.components.schemas import (
    ComponentImport,
    ImportedOut,
    VersionOut,
    WorkflowCreate,
    WorkflowOut,
    WorkflowUpdate,
)
from emprops.components.service import WorkflowRegistryService
from emprops.components.templates import RegisteredType

ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422, 429)}
router = APIRouter(prefix="/workflows", tags=["workflows"], responses=ERRORS)  # type: ignore[arg-type]


def workflow_service(session: DbSession) -> WorkflowRegistryService:
    return WorkflowRegistryService(WorkflowRepository(session))


Service = Annotated[WorkflowRegistryService, Depends(workflow_service)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_workflow(
    body: WorkflowCreate, _admin: AdminPrincipal, service: Service
) -> WorkflowOut:
    return WorkflowOut.model_validate(await service.create(body))


@router.post("/import", status_code=status.HTTP_200_OK)
async def import_components(
    body: ComponentImport, _admin: AdminPrincipal, service: Service
) -> list[ImportedOut]:
    """Register components written in the original format (form.json, inputs.json,
    workflow.json | job.json | api.json + body.json, credits.js, ...). All or nothing: one
    refused component (422, each problem with its file and field) writes none."""
    results = await service.import_files(body.components, body.form_confs, dry_run=body.dry_run)
    return [
        ImportedOut(name=out.name, outcome=outcome, workflow=out, notes=notes)
        for out, outcome, notes in results
    ]


@router.get("/{workflow_id}/versions")
async def list_versions(
    workflow_id: uuid.UUID, _principal: CurrentPrincipal, service: Service
) -> list[VersionOut]:
    """Every version of a component, oldest first; runs pin one by its digest."""
    return [VersionOut.model_validate(v) for v in await service.versions(workflow_id)]


@router.get("")
async def list_workflows(
    _principal: CurrentPrincipal,
    service: Service,
    type: RegisteredType | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[WorkflowOut]:
    """Registered workflows by name (the built-ins `variables`, `layers`, `animate` are not rows)."""
    records = await service.list_workflows(workflow_type=type, limit=limit, offset=offset)
    return [WorkflowOut.model_validate(r) for r in records]


@router.get("/{workflow_id}")
async def get_workflow(
    workflow_id: uuid.UUID, _principal: CurrentPrincipal, service: Service
) -> WorkflowOut:
    return WorkflowOut.model_validate(await service.get(workflow_id))


@router.patch("/{workflow_id}")
async def update_workflow(
    workflow_id: uuid.UUID, body: WorkflowUpdate, _admin: AdminPrincipal, service: Service
) -> WorkflowOut:
    return WorkflowOut.model_validate(await service.update(workflow_id, body))


@router.delete("/{workflow_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_workflow(
    workflow_id: uuid.UUID, _admin: AdminPrincipal, service: Service
) -> Response:
    await service.delete(workflow_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
