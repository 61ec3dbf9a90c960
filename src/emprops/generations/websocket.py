"""`/ws`: start, follow and cancel runs over one WebSocket, in the message names the original
clients use. Every message is a JSON object with a `type`.

Authentication: `?token=<API key or JWT>` on the URL, or, as the first message,
`{"type": "auth", "token": "..."}` within 10 s. A bad token gets an `error` and close code 4401.

Client → server:
  {"type": "submit_job", "collection_id": "<uuid>", "generations": 3?, "hashes": ["0x…"]?,
   "priority": 50?, "message_id": "<your correlation id>"?}
      starts a run like POST /collections/{id}/generations; answered by `job_accepted`, after
      which the run's events follow (the socket is subscribed to it).
  {"type": "subscribe", "job_id": "<uuid>", "after": "<event id>"?}
      follow a run: its events after `after` (default: all of them), then live ones.
  {"type": "unsubscribe", "job_id": "<uuid>"}
  {"type": "cancel_job", "job_id": "<uuid>", "message_id": "..."?}
      like DELETE /jobs/{id}; answered by `job_cancelled`.

Server → client (`event_id` is the run's event id: send it back as `after` to resume):
  {"type": "job_accepted", "job_id", "message_id", "status": "pending", "generations",
   "credits_held", "timestamp"}
  {"type": "update_job_progress", "job_id", "event_id", "event", "generation", "step_id",
   "progress", "message", "data", "timestamp"}
      `event` is run_started, node_started, node_progress, node_completed, image_generated or
      complete (one generation finished); `progress` is the run's percent (0-100).
  {"type": "job_failed", "job_id", "event_id", "generation", "step_id", "error", "timestamp"}
      one generation failed (its credits are released); the run goes on with the others.
  {"type": "complete_job", "job_id", "event_id", "timestamp",
   "result": {"status": "success" | "failed", "error", "credits_charged"}}
      the run ended; `failed` when any generation failed.
  {"type": "job_cancelled", "job_id", "event_id", "timestamp"}
  {"type": "error", "message_id", "job_id", "error": {"code", "message", "details"},
   "timestamp"}
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Annotated, Any, Literal

import orjson
import structlog
from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from emprops.api.state import AppState
from emprops.auth.errors import ForbiddenError, UnauthorizedError
from emprops.auth.repository import AuthRepository
from emprops.auth.service import AuthService, Principal
from emprops.auth.tokens import API_KEY_PREFIX, decode_access_token
from emprops.core.errors import ConflictError, EmpropsError, InvalidInputError
from emprops.generations.dependencies import get_dispatcher
from emprops.generations.events import RunEvent, RunEventLog, checked_event_id
from emprops.generations.follow import follow_run
from emprops.generations.run_spec import RunSpec
from emprops.generations.schemas import GenerationRequest
from emprops.generations.service import GenerationService
from emprops.workflows import MAX_GENERATIONS

log = structlog.get_logger(__name__)
router = APIRouter(tags=["generations"])
AUTH_TIMEOUT_S = 10.0
CLOSE_UNAUTHORIZED = 4401


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: str | None = Field(default=None, max_length=200)


class SubmitJob(_Message):
    type: Literal["submit_job"]
    collection_id: uuid.UUID
    generations: int | None = Field(default=None, ge=1, le=MAX_GENERATIONS)
    hashes: list[str] | None = None
    priority: int = Field(default=50, ge=0, le=100)


class Subscribe(_Message):
    type: Literal["subscribe"]
    job_id: uuid.UUID
    after: str | None = Field(default=None, max_length=45)


class Unsubscribe(_Message):
    type: Literal["unsubscribe"]
    job_id: uuid.UUID


class CancelJob(_Message):
    type: Literal["cancel_job"]
    job_id: uuid.UUID


ClientMessage = TypeAdapter(
    Annotated[SubmitJob | Subscribe | Unsubscribe | CancelJob, Field(discriminator="type")]
)


def _now() -> float:
    return time.time()


def socket_message(event: RunEvent) -> dict[str, Any]:
    """A run event as the original clients expect it."""
    base: dict[str, Any] = {"job_id": str(event.run_id), "event_id": event.id,
                            "timestamp": event.ts / 1000}  # fmt: skip
    data = event.data
    if event.type in ("run_completed", "run_failed"):
        result = {"status": "success" if event.type == "run_completed" else "failed",
                  "error": data.get("error"), "credits_charged": data.get("credits_charged")}  # fmt: skip
        return {"type": "complete_job", **base, "result": result}
    if event.type == "run_cancelled":
        return {"type": "job_cancelled", **base}
    if event.type == "error":
        return {"type": "job_failed", **base, "generation": event.generation,
                "step_id": event.step_id, "error": data.get("error")}  # fmt: skip
    return {
        "type": "update_job_progress", **base, "event": event.type,
        "generation": event.generation, "step_id": event.step_id,
        "progress": data.get("progress"), "message": data.get("message", ""), "data": data,
    }  # fmt: skip


async def _principal(state: AppState, token: str) -> Principal:
    async with state.sessions() as session:
        service = AuthService(AuthRepository(session), state.secret, state.settings)
        if token.startswith(API_KEY_PREFIX):
            principal = await service.principal_for_api_key(token)
        else:
            principal = await service.principal_for_user_id(
                decode_access_token(state.secret, token)
            )
        await session.commit()  # the key's last use
    return principal


class _Connection:
    def __init__(self, websocket: WebSocket, state: AppState, principal: Principal) -> None:
        self.websocket, self.state, self.principal = websocket, state, principal
        self.follows: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._send_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            await self.websocket.send_text(orjson.dumps(message).decode())

    async def send_error(
        self, exc: EmpropsError, message_id: str | None = None, job_id: uuid.UUID | None = None
    ) -> None:
        await self.send({
            "type": "error", "message_id": message_id,
            "job_id": str(job_id) if job_id else None,
            "error": {"code": str(exc.code), "message": exc.message, "details": exc.details},
            "timestamp": _now(),
        })  # fmt: skip

    def _require(self, scope: str) -> None:
        if scope not in self.principal.scopes and "admin" not in self.principal.scopes:
            raise ForbiddenError(f"this credential lacks the {scope!r} scope")

    async def serve(self) -> None:
        try:
            while True:
                text = await self.websocket.receive_text()
                await self.handle(text)
        except WebSocketDisconnect:
            pass
        finally:
            for task in self.follows.values():
                task.cancel()
            for task in list(self.follows.values()):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def handle(self, text: str) -> None:
        message_id = None
        try:
            raw = orjson.loads(text)
            if isinstance(raw, dict) and isinstance(raw.get("message_id"), str):
                message_id = raw["message_id"]
            message = ClientMessage.validate_python(raw)
        except (orjson.JSONDecodeError, ValidationError) as exc:
            detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else "not JSON"
            await self.send_error(
                InvalidInputError(f"unreadable message: {detail}"), message_id=message_id
            )
            return
        try:
            if isinstance(message, SubmitJob):
                await self.submit(message)
            elif isinstance(message, Subscribe):
                self._require("read")
                await self.subscribe(message.job_id, checked_event_id(message.after))
            elif isinstance(message, Unsubscribe):
                task = self.follows.pop(message.job_id, None)
                if task is not None:
                    task.cancel()
            else:
                await self.cancel(message)
        except EmpropsError as exc:
            job_id = getattr(message, "job_id", None)
            await self.send_error(exc, message_id=message.message_id, job_id=job_id)

    async def submit(self, message: SubmitJob) -> None:
        self._require("write")
        try:
            body = GenerationRequest(
                generations=message.generations, hashes=message.hashes, priority=message.priority
            )
        except ValidationError as exc:
            raise InvalidInputError(f"submit_job: {exc.errors()[0]['msg']}") from None
        async with self.state.sessions() as session:
            service = GenerationService(session, self.state.broker)
            run = await service.start_run(self.principal.user, message.collection_id, body)
            await session.commit()
        get_dispatcher(self.websocket).wake()
        await self.send({
            "type": "job_accepted", "job_id": str(run.id), "message_id": message.message_id,
            "status": run.status, "generations": RunSpec.of(run.data).generations,
            "credits_held": run.credits_held, "timestamp": _now(),
        })  # fmt: skip
        await self.subscribe(run.id, "0-0")

    async def subscribe(self, job_id: uuid.UUID, after: str) -> None:
        async with self.state.sessions() as session:
            await GenerationService(session, self.state.broker).get(self.principal.user, job_id)
        previous = self.follows.pop(job_id, None)
        if previous is not None:
            previous.cancel()
        self.follows[job_id] = asyncio.create_task(self._forward(job_id, after))

    async def _forward(self, job_id: uuid.UUID, after: str) -> None:
        events = RunEventLog(self.state.redis)
        try:
            async for event in follow_run(events, self.state.sessions, job_id, after):
                await self.send(socket_message(event))
        except (WebSocketDisconnect, RuntimeError):
            pass  # the socket closed under us
        finally:
            if self.follows.get(job_id) is asyncio.current_task():
                del self.follows[job_id]

    async def cancel(self, message: CancelJob) -> None:
        self._require("write")
        async with self.state.sessions() as session:
            service = GenerationService(session, self.state.broker)
            run, cancelled = await service.cancel(self.principal.user, message.job_id)
            await session.commit()
        if not cancelled:
            raise ConflictError(
                f"job {run.id} has already finished ({run.status})",
                details={"job_id": str(run.id), "status": run.status},
            )
        event_id = await RunEventLog(self.state.redis).append(
            run.id, "run_cancelled",
            data={"status": "cancelled", "error": run.error, "progress": run.progress,
                  "credits_charged": run.credits_charged},
        )  # fmt: skip
        if run.id not in self.follows:  # a follower reports it from the stream
            await self.send({"type": "job_cancelled", "job_id": str(run.id),
                             "event_id": event_id, "timestamp": _now()})  # fmt: skip


@router.websocket("/ws")
async def job_socket(
    websocket: WebSocket, token: Annotated[str | None, Query(max_length=2000)] = None
) -> None:
    await websocket.accept()
    state: AppState = websocket.app.state.emprops
    try:
        if token is None:
            first = orjson.loads(
                await asyncio.wait_for(websocket.receive_text(), timeout=AUTH_TIMEOUT_S)
            )
            if not isinstance(first, dict) or first.get("type") != "auth":
                raise UnauthorizedError('authenticate first: ?token= or {"type": "auth", ...}')
            token = str(first.get("token") or "")
        principal = await _principal(state, token)
    except (EmpropsError, TimeoutError, orjson.JSONDecodeError, WebSocketDisconnect) as exc:
        error = exc if isinstance(exc, EmpropsError) else UnauthorizedError("no credentials")
        with contextlib.suppress(Exception):
            await websocket.send_text(orjson.dumps({
                "type": "error", "message_id": None, "job_id": None, "timestamp": _now(),
                "error": {"code": str(error.code), "message": error.message, "details": {}},
            }).decode())  # fmt: skip
            await websocket.close(code=CLOSE_UNAUTHORIZED)
        return
    await _Connection(websocket, state, principal).serve()
