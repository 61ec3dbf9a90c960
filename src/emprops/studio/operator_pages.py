"""The operator page (in the spirit of bull-board): the queue's counts by state and service,
live workers with their capabilities and heartbeats, jobs by state, one job with its events,
cancel and retry. It renders what the `/queue` routes return, from the same service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from emprops.api.dependencies import BrokerDep
from emprops.core.errors import EmpropsError
from emprops.queue.inspection import MAX_PAGE, JobState
from emprops.queue.models import JOB_ID_PATTERN, SERVICE_PATTERN
from emprops.queue_admin import QueueAdminService
from emprops.queue_admin.schemas import CancelRequest
from emprops.studio.forms import read_form
from emprops.studio.rendering import StudioRoute, Viewer, is_fragment, redirect, render
from emprops.studio.session import StudioAdmin

router = APIRouter(route_class=StudioRoute)
JobIdPath = Annotated[str, Path(pattern=JOB_ID_PATTERN)]
REFRESH_MS = 2000


@router.get("/queue")
async def operator_page(
    request: Request,
    principal: StudioAdmin,
    broker: BrokerDep,
    state: JobState = JobState.PENDING,
    service: Annotated[str | None, Query(pattern=SERVICE_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> Response:
    admin = QueueAdminService(broker)
    overview = await admin.overview()
    jobs = await admin.jobs(state, service=service, limit=limit)
    template = "fragments/queue_panel.html" if is_fragment(request) else "queue.html"
    return render(
        request, template, Viewer.of(principal), overview=overview, jobs=jobs, state=state,
        states=list(JobState), service=service, limit=limit, refresh_ms=REFRESH_MS,
    )  # fmt: skip


@router.get("/queue/jobs/{job_id}")
async def operator_job_page(
    request: Request, job_id: JobIdPath, principal: StudioAdmin, broker: BrokerDep
) -> Response:
    detail = await QueueAdminService(broker).job(job_id)
    return render(request, "queue_job.html", Viewer.of(principal), detail=detail,
                  message=request.query_params.get("done"), error=None)  # fmt: skip


@router.post("/queue/jobs/{job_id}/{action}")
async def operator_job_action(
    request: Request,
    job_id: JobIdPath,
    action: Literal["cancel", "retry"],
    principal: StudioAdmin,
    broker: BrokerDep,
) -> Response:
    """Cancel or retry, as `POST /queue/jobs/{id}/cancel|retry` do."""
    form = await read_form(request)
    admin = QueueAdminService(broker)
    try:
        if action == "cancel":
            reason = form.optional("reason") or CancelRequest().reason
            outcome = await admin.cancel(job_id, CancelRequest(reason=reason).reason)
        else:
            outcome = await admin.retry(job_id)
    except EmpropsError as exc:
        detail = await admin.job(job_id)
        return render(request, "queue_job.html", Viewer.of(principal), detail=detail,
                      message=None, error=exc.message, status_code=exc.http_status)  # fmt: skip
    return redirect(request, f"/studio/queue/jobs/{job_id}?done={outcome.outcome}")
