"""Operator routes under /queue: what the queue holds and who works it, for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query

from emprops.api.dependencies import BrokerDep
from emprops.api.errors import ErrorResponse
from emprops.auth import AdminPrincipal
from emprops.queue.broker import WorkerInfo
from emprops.queue.inspection import MAX_PAGE, JobState
from emprops.queue.models import JOB_ID_PATTERN, SERVICE_PATTERN, Job
from emprops.queue_admin.schemas import CancelRequest, JobActionOut, JobDetail, QueueOverview
from emprops.queue_admin.service import QueueAdminService

ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 422, 429)}
router = APIRouter(prefix="/queue", tags=["queue"], responses=ERRORS)  # type: ignore[arg-type]


def queue_admin_service(broker: BrokerDep) -> QueueAdminService:
    return QueueAdminService(broker)


Service = Annotated[QueueAdminService, Depends(queue_admin_service)]
JobIdPath = Annotated[str, Path(pattern=JOB_ID_PATTERN)]


@router.get("")
async def queue_overview(_: AdminPrincipal, service: Service) -> QueueOverview:
    """Counts by state (pending by service), recent outcomes, live workers, unworkable jobs."""
    return await service.overview()


@router.get("/workers")
async def queue_workers(_: AdminPrincipal, service: Service) -> list[WorkerInfo]:
    """Live workers with their capabilities and last heartbeat (Redis time, ms)."""
    return (await service.overview()).workers


@router.get("/jobs")
async def queue_jobs(
    _: AdminPrincipal,
    service: Service,
    state: JobState = JobState.PENDING,
    service_name: Annotated[str | None, Query(alias="service", pattern=SERVICE_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> list[Job]:
    """A page of jobs in one state: pending and active in the order they run, delayed by retry
    time, dead and finished newest first."""
    return await service.jobs(state, service=service_name, limit=limit)


@router.get("/jobs/{job_id}")
async def queue_job(job_id: JobIdPath, _: AdminPrincipal, service: Service) -> JobDetail:
    return await service.job(job_id)


@router.post("/jobs/{job_id}/cancel")
async def cancel_queue_job(
    job_id: JobIdPath,
    _: AdminPrincipal,
    service: Service,
    body: Annotated[CancelRequest | None, Body()] = None,
) -> JobActionOut:
    """Cancel a pending, delayed or running job (its worker is told); finished jobs stay."""
    return await service.cancel(job_id, (body or CancelRequest()).reason)


@router.post("/jobs/{job_id}/retry")
async def retry_queue_job(job_id: JobIdPath, _: AdminPrincipal, service: Service) -> JobActionOut:
    """Put a dead job back in line with a fresh retry budget (409 unless it failed)."""
    return await service.retry(job_id)
