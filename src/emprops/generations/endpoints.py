"""Generation routes: start a run of a collection, read it, follow its events, cancel it.
Every route is scoped to the caller: another user's run is reported as missing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, BackgroundTasks, Body, Depends, Header, Query, status
from sse_starlette import EventSourceResponse, ServerSentEvent

from emprops.api.dependencies import BrokerDep, DbSession, State
from emprops.api.errors import ErrorResponse
from emprops.auth import CurrentPrincipal
from emprops.generations.dependencies import get_dispatcher
from emprops.generations.dispatcher import GenerationDispatcher
from emprops.generations.events import RunEventLog, checked_event_id
from emprops.generations.follow import follow_run
from emprops.generations.run_spec import RunSpec
from emprops.generations.schemas import GenerationRequest, JobHistoryOut, JobOut, RunAccepted
from emprops.generations.service import GenerationService
from emprops.generations.websocket import router as websocket_router

ERRORS = {code: {"model": ErrorResponse} for code in (401, 403, 404, 422, 429)}
router = APIRouter(tags=["generations"], responses=ERRORS)  # type: ignore[arg-type]
router.include_router(websocket_router)  # /ws


def generation_service(session: DbSession, broker: BrokerDep) -> GenerationService:
    return GenerationService(session, broker)


Service = Annotated[GenerationService, Depends(generation_service)]
Dispatcher = Annotated[GenerationDispatcher, Depends(get_dispatcher)]


@router.post(
    "/collections/{collection_id}/generations",
    status_code=status.HTTP_202_ACCEPTED,
    responses={402: {"model": ErrorResponse, "description": "Not enough credits."}},
)
async def start_generation(
    collection_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: Service,
    dispatcher: Dispatcher,
    background: BackgroundTasks,
    body: Annotated[GenerationRequest | None, Body()] = None,
) -> RunAccepted:
    """Accept a run at once (202): credits are held and the run queued; it never waits for
    generation. Without enough credits: 402 and nothing is queued."""
    run = await service.start_run(principal.user, collection_id, body or GenerationRequest())
    background.add_task(dispatcher.wake)  # after the commit
    return RunAccepted(
        job_id=run.id, status=run.status, generations=RunSpec.of(run.data).generations,
        credits_held=run.credits_held, events_url=f"/jobs/{run.id}/events",
    )  # fmt: skip


@router.get("/jobs/{job_id}")
async def get_job(job_id: uuid.UUID, principal: CurrentPrincipal, service: Service) -> JobOut:
    return await service.job_out(await service.get(principal.user, job_id))


@router.get("/jobs/{job_id}/history")
async def job_history(
    job_id: uuid.UUID, principal: CurrentPrincipal, service: Service
) -> list[JobHistoryOut]:
    return [JobHistoryOut.model_validate(h) for h in await service.history(principal.user, job_id)]


@router.get(
    "/jobs/{job_id}/events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."}},
)
async def job_events(
    job_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: Service,
    state: State,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=45)] = None,
    after: Annotated[str | None, Query(max_length=45)] = None,
) -> EventSourceResponse:
    """The run's events as SSE (`event:` the type, `id:` the resume point, `data:` JSON). A
    client that reconnects with `Last-Event-ID` (or `?after=`) gets exactly the events after it.
    The stream ends after `run_completed`, `run_failed` or `run_cancelled`."""
    run = await service.get(principal.user, job_id)
    start = checked_event_id(last_event_id or after)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        async for event in follow_run(RunEventLog(state.redis), state.sessions, run.id, start):
            yield ServerSentEvent(
                data=orjson.dumps(event.body()).decode(), event=event.type, id=event.id
            )

    return EventSourceResponse(stream(), ping=15)


@router.delete("/jobs/{job_id}")
async def cancel_job(
    job_id: uuid.UUID,
    principal: CurrentPrincipal,
    service: Service,
    state: State,
    background: BackgroundTasks,
) -> JobOut:
    """Cancel: outstanding steps are cancelled on the queue and what unfinished generations
    hold is released. A finished run is returned as it is."""
    run, cancelled = await service.cancel(principal.user, job_id)
    if cancelled:  # after the commit, so the terminal event never precedes the status
        background.add_task(
            RunEventLog(state.redis).append, run.id, "run_cancelled",
            data={"status": "cancelled", "error": run.error, "progress": run.progress,
                  "credits_charged": run.credits_charged},
        )  # fmt: skip
    return await service.job_out(run)
