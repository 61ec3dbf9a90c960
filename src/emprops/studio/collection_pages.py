"""A collection's tabs served from the domains' services: Edit (the GenerationInput form),
Generate (start a run, watch it live), Gallery (tokens, traits, rarity); plus the run's event
stream and the stored images the pages show."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.background import BackgroundTask

from emprops.api.dependencies import BrokerDep, DbSession, State
from emprops.auth.errors import ForbiddenError
from emprops.collection.repository import CollectionRepository
from emprops.collection.schemas import CollectionUpdate
from emprops.collection.service import CollectionService
from emprops.core.errors import EmpropsError, NotFoundError
from emprops.credits.repository import CreditRepository
from emprops.credits.service import CreditService
from emprops.db.models import CollectionRecord, JobRecord
from emprops.generations.dependencies import get_dispatcher
from emprops.generations.dispatcher import GenerationDispatcher
from emprops.generations.events import RunEventLog, checked_event_id
from emprops.generations.follow import follow_run
from emprops.generations.schemas import GenerationRequest
from emprops.generations.service import GenerationService
from emprops.storage import BlobStore, open_blob_store, validate_blob_path
from emprops.storage.content_types import guess_content_type
from emprops.studio.collection_form import (
    VALUE_TYPES,
    VARIABLE_TYPES,
    CollectionEditor,
    editor_for,
    parse_editor,
)
from emprops.studio.forms import FieldErrors, add_api_error, add_validation_errors, read_form
from emprops.studio.gallery import build_gallery
from emprops.studio.rendering import StudioRoute, Viewer, redirect, render
from emprops.studio.repository import StudioRepository
from emprops.studio.session import StudioPrincipal
from emprops.workflows.catalog import BUILTIN_WORKFLOWS

router = APIRouter(route_class=StudioRoute)
Dispatcher = Annotated[GenerationDispatcher, Depends(get_dispatcher)]
RUN_LIST = 12


def _collections(session: DbSession) -> CollectionService:
    return CollectionService(CollectionRepository(session))


async def _tab(
    request: Request,
    principal: StudioPrincipal,
    session: DbSession,
    collection: CollectionRecord,
    tab: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    runs = await StudioRepository(session).runs_of_collection(
        principal.user.id, collection.id, RUN_LIST
    )
    return render(
        request, f"collection_{tab}.html", Viewer.of(principal), status_code=status_code,
        collection=collection, stage=collection.stage, tab=tab, runs=runs, **context,
    )  # fmt: skip


@router.get("/collections/{collection_id}")
async def collection_page(collection_id: uuid.UUID) -> Response:
    return RedirectResponse(f"/studio/collections/{collection_id}/edit", status_code=303)


# --- Edit ---------------------------------------------------------------------------------------


def _edit_context(editor: CollectionEditor, errors: FieldErrors, saved: bool) -> dict[str, Any]:
    return {"editor": editor, "errors": errors, "saved": saved, "variable_types": VARIABLE_TYPES,
            "value_types": VALUE_TYPES, "workflows": [w.name for w in BUILTIN_WORKFLOWS]}  # fmt: skip


@router.get("/collections/{collection_id}/edit")
async def edit_tab(
    request: Request,
    collection_id: uuid.UUID,
    principal: StudioPrincipal,
    session: DbSession,
    saved: bool = False,
) -> Response:
    collection = await _collections(session).get(principal.user, collection_id)
    editor = editor_for(collection.title, collection.description, collection.data)
    return await _tab(request, principal, session, collection, "edit",
                      **_edit_context(editor, FieldErrors(), saved))  # fmt: skip


@router.post("/collections/{collection_id}/edit")
async def save_edit(
    request: Request, collection_id: uuid.UUID, principal: StudioPrincipal, session: DbSession
) -> Response:
    """Checked exactly as `PATCH /collections/{id}`: the same schema, the same service."""
    form = await read_form(request)
    service = _collections(session)
    collection = await service.get(principal.user, collection_id)
    parsed = parse_editor(form, collection.data)
    errors = parsed.errors
    if not errors:
        try:
            body = CollectionUpdate.model_validate(
                {
                    "title": parsed.editor.title.strip() or None,
                    "description": parsed.editor.description.strip() or None,
                    "data": parsed.document,
                }
            )
            await service.update(principal.user, collection_id, body)
        except ValidationError as exc:
            add_validation_errors(errors, exc, parsed.field_of)
        except EmpropsError as exc:
            add_api_error(errors, exc, parsed.field_of)
    if errors:
        return await _tab(request, principal, session, collection, "edit", status_code=422,
                          **_edit_context(parsed.editor, errors, False))  # fmt: skip
    return redirect(request, f"/studio/collections/{collection_id}/edit?saved=1")


# --- Generate -----------------------------------------------------------------------------------


async def _generate_tab(
    request: Request,
    principal: StudioPrincipal,
    session: DbSession,
    broker: BrokerDep,
    collection: CollectionRecord,
    run_id: uuid.UUID | None,
    *,
    errors: FieldErrors | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    generations = GenerationService(session, broker)
    runs = await StudioRepository(session).runs_of_collection(principal.user.id, collection.id, 1)
    run: JobRecord | None = None
    if run_id is not None:
        run = await generations.get(principal.user, run_id)
    elif runs:
        run = runs[0]
    job = await generations.job_out(run) if run is not None else None
    gallery = await build_gallery(session, run) if run is not None else None
    balance = await CreditService(CreditRepository(session)).balance(principal.user.id)
    planned = (collection.data.get("generations") or {}).get("generations", 1)
    return await _tab(
        request, principal, session, collection, "generate", status_code=status_code,
        run=run, job=job, gallery=gallery, balance=balance, errors=errors or FieldErrors(),
        values=values or {"generations": str(planned), "priority": "50"},
    )  # fmt: skip


@router.get("/collections/{collection_id}/generate")
async def generate_tab(
    request: Request,
    collection_id: uuid.UUID,
    principal: StudioPrincipal,
    session: DbSession,
    broker: BrokerDep,
    run: uuid.UUID | None = None,
) -> Response:
    collection = await _collections(session).get(principal.user, collection_id)
    return await _generate_tab(request, principal, session, broker, collection, run)


@router.post("/collections/{collection_id}/generate")
async def start_generation(
    request: Request,
    collection_id: uuid.UUID,
    principal: StudioPrincipal,
    session: DbSession,
    broker: BrokerDep,
    dispatcher: Dispatcher,
) -> Response:
    """Checked exactly as `POST /collections/{id}/generations` (credits held, or 402)."""
    form = await read_form(request)
    values = {
        "generations": form.get("generations").strip(),
        "priority": form.get("priority", "50").strip(),
    }
    collection = await _collections(session).get(principal.user, collection_id)
    errors = FieldErrors()
    field_of = {"generations": "generations", "priority": "priority", "hashes": "generations"}.get
    try:
        body = GenerationRequest.model_validate(
            {"generations": values["generations"] or None, "priority": values["priority"] or 50}
        )
        run = await GenerationService(session, broker).start_run(
            principal.user, collection.id, body
        )
    except ValidationError as exc:
        add_validation_errors(errors, exc, lambda where: field_of(where.split(".")[0]))
    except EmpropsError as exc:
        add_api_error(errors, exc, lambda where: field_of(where.split("[")[0].split(".")[0]))
    if errors:
        return await _generate_tab(request, principal, session, broker, collection, None,
                                   errors=errors, values=values, status_code=422)  # fmt: skip
    response = redirect(request, f"/studio/collections/{collection.id}/generate?run={run.id}")
    response.background = BackgroundTask(dispatcher.wake)  # after the commit
    return response


@router.post("/runs/{run_id}/cancel")
async def cancel_run(
    request: Request,
    run_id: uuid.UUID,
    principal: StudioPrincipal,
    session: DbSession,
    broker: BrokerDep,
    state: State,
) -> Response:
    """As `DELETE /jobs/{id}`: outstanding steps cancelled, unfinished generations released."""
    await read_form(request)
    run, cancelled = await GenerationService(session, broker).cancel(principal.user, run_id)
    response = redirect(request, f"/studio/collections/{run.collection_id}/generate?run={run.id}")
    if cancelled:  # after the commit, so the terminal event never precedes the status
        response.background = BackgroundTask(
            RunEventLog(state.redis).append, run.id, "run_cancelled",
            data={"status": "cancelled", "error": run.error, "progress": run.progress,
                  "credits_charged": run.credits_charged},
        )  # fmt: skip
    return response


@router.get("/runs/{run_id}/events")
async def run_events(
    run_id: uuid.UUID,
    principal: StudioPrincipal,
    session: DbSession,
    broker: BrokerDep,
    state: State,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=45)] = None,
) -> EventSourceResponse:
    """The run's events, as `GET /jobs/{id}/events` streams them, for the page's EventSource
    (which cannot send the API's auth header, but sends the Studio's cookie)."""
    run = await GenerationService(session, broker).get(principal.user, run_id)
    start = checked_event_id(last_event_id)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        async for event in follow_run(RunEventLog(state.redis), state.sessions, run.id, start):
            yield ServerSentEvent(
                data=orjson.dumps(event.body()).decode(), event=event.type, id=event.id
            )

    return EventSourceResponse(stream(), ping=15)


# --- Gallery ------------------------------------------------------------------------------------


@router.get("/collections/{collection_id}/gallery")
async def gallery_tab(
    request: Request,
    collection_id: uuid.UUID,
    principal: StudioPrincipal,
    session: DbSession,
    broker: BrokerDep,
    run: uuid.UUID | None = None,
) -> Response:
    collection = await _collections(session).get(principal.user, collection_id)
    chosen: JobRecord | None = None
    if run is not None:
        chosen = await GenerationService(session, broker).get(principal.user, run)
    else:
        runs = await StudioRepository(session).runs_of_collection(
            principal.user.id, collection.id, RUN_LIST
        )
        chosen = next((r for r in runs if r.status == "completed"), runs[0] if runs else None)
    gallery = await build_gallery(session, chosen) if chosen is not None else None
    return await _tab(request, principal, session, collection, "gallery",
                      gallery=gallery, run=chosen)  # fmt: skip


# --- stored outputs -----------------------------------------------------------------------------


def _blob_store(request: Request, state: State) -> BlobStore:
    store: BlobStore | None = getattr(request.app.state, "studio_blobs", None)
    if store is None:
        settings = state.settings
        store = open_blob_store(
            settings.storage_url, data_dir=settings.data_dir, cdn_url=settings.cdn_url,
            options=settings.storage_options or None,
        )  # fmt: skip
        request.app.state.studio_blobs = store
    return store


@router.get("/blobs/{path:path}")
async def stored_output(
    request: Request, path: str, principal: StudioPrincipal, state: State
) -> Response:
    """One of the user's stored outputs (generation paths name their owner)."""
    validate_blob_path(path)
    if not path.startswith(f"generations/{principal.user.id}/"):
        raise ForbiddenError("not one of your outputs")
    store = _blob_store(request, state)
    if not await store.exists(path):
        raise NotFoundError("no such output", details={"path": path})
    data = await store.get(path)
    return Response(
        data, media_type=guess_content_type(path),
        headers={"Cache-Control": "private, max-age=86400, immutable"},
    )  # fmt: skip
