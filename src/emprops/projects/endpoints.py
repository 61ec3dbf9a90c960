"""Project routes: thin, every one scoped to the caller."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from emprops.api.dependencies import DbSession
from emprops.api.errors import ErrorResponse
from emprops.auth import CurrentPrincipal
from emprops.projects.repository import ProjectRepository
from emprops.projects.schemas import ProjectCreate, ProjectHistoryOut, ProjectOut, ProjectUpdate
from emprops.projects.service import ProjectService

ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 422, 429)}
router = APIRouter(prefix="/projects", tags=["projects"], responses=ERRORS)  # type: ignore[arg-type]


def project_service(session: DbSession) -> ProjectService:
    return ProjectService(ProjectRepository(session))


Service = Annotated[ProjectService, Depends(project_service)]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_project(
    body: ProjectCreate, principal: CurrentPrincipal, service: Service
) -> ProjectOut:
    return ProjectOut.model_validate(await service.create(principal.user, body))


@router.get("")
async def list_projects(
    principal: CurrentPrincipal,
    service: Service,
    include_archived: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ProjectOut]:
    projects = await service.list_projects(
        principal.user, include_archived=include_archived, limit=limit, offset=offset
    )
    return [ProjectOut.model_validate(p) for p in projects]


@router.get("/{project_id}")
async def get_project(
    project_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> ProjectOut:
    return ProjectOut.model_validate(await service.get(principal.user, project_id))


@router.patch("/{project_id}")
async def update_project(
    project_id: uuid.UUID, body: ProjectUpdate, principal: CurrentPrincipal, service: Service
) -> ProjectOut:
    return ProjectOut.model_validate(await service.update(principal.user, project_id, body))


@router.delete("/{project_id}")
async def archive_project(
    project_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> ProjectOut:
    """Archive (projects are kept with their history)."""
    return ProjectOut.model_validate(await service.archive(principal.user, project_id))


@router.get("/{project_id}/history")
async def project_history(
    project_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> list[ProjectHistoryOut]:
    return [
        ProjectHistoryOut.model_validate(h)
        for h in await service.history(principal.user, project_id)
    ]
