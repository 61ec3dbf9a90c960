"""The run's events, persisted in a per-run Redis Stream (`emp:gen:<run>:events`).

Why a stream and not the database: events are many (every progress tick) and short-lived, and
a stream gives each one an id a client can hand back (`Last-Event-ID`) to get exactly the events
after it. The facts that must outlive the stream (results, outcomes, credits, status) are in
the database. The stream expires a week after its last event.

Event types: `run_started`; the engine's `node_started`, `node_progress`, `node_completed`,
`image_generated`, `complete` (a generation finished), `error` (a generation failed); and one
terminal event, `run_completed`, `run_failed` or `run_cancelled`.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import orjson
from pydantic import BaseModel

from emprops.core.errors import InvalidInputError
from emprops.core.redis_connection import AsyncRedis
from emprops.generations.keys import events_key

TERMINAL_EVENTS = frozenset({"run_completed", "run_failed", "run_cancelled"})
RETENTION_S = 7 * 24 * 3600
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


class RunEvent(BaseModel):
    id: str  # the stream entry id: pass it back as Last-Event-ID to resume after it
    run_id: uuid.UUID
    type: str
    ts: int  # ms since the epoch
    generation: int | None = None
    step_id: int | None = None
    data: dict[str, Any] = {}

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS

    def body(self) -> dict[str, Any]:
        """What a client receives (SSE `data:`)."""
        return self.model_dump(mode="json")


def checked_event_id(value: str | None) -> str:
    """A client's resume point: a stream id, or the start."""
    if value is None or value == "" or value == "0":
        return "0-0"
    if not _STREAM_ID.fullmatch(value):
        raise InvalidInputError(
            f"Last-Event-ID {value[:40]!r} is not an event id (like 1712345678901-0)",
            details={"field": "Last-Event-ID"},
        )
    return value


class RunEventLog:
    def __init__(self, redis: AsyncRedis, retention_s: int = RETENTION_S) -> None:
        self.redis, self.retention_s = redis, retention_s

    async def append(
        self,
        run_id: uuid.UUID,
        type_: str,
        *,
        generation: int | None = None,
        step_id: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> str:
        fields = {
            "type": type_,
            "ts": str(int(time.time() * 1000)),
            "generation": "" if generation is None else str(generation),
            "step_id": "" if step_id is None else str(step_id),
            "data": orjson.dumps(data or {}).decode(),
        }
        key = events_key(run_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(key, fields)  # type: ignore[arg-type]
        pipe.expire(key, self.retention_s)
        entry_id, _ = await pipe.execute()
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def read(
        self,
        run_id: uuid.UUID,
        after: str = "0-0",
        *,
        block_ms: int | None = None,
        count: int = 200,
    ) -> list[RunEvent]:
        reply: Any = await self.redis.xread(
            {events_key(run_id): after}, count=count, block=block_ms
        )
        if not reply:
            return []
        entries = reply[0][1] if isinstance(reply, list) else next(iter(reply.values()))[0]
        return [_decode(run_id, entry_id, fields) for entry_id, fields in entries]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _decode(run_id: uuid.UUID, entry_id: bytes | str, raw: dict[Any, Any]) -> RunEvent:
    fields = {_text(k): _text(v) for k, v in raw.items()}
    return RunEvent(
        id=_text(entry_id),
        run_id=run_id,
        type=fields["type"],
        ts=int(fields["ts"]),
        generation=int(fields["generation"]) if fields.get("generation") else None,
        step_id=int(fields["step_id"]) if fields.get("step_id") else None,
        data=orjson.loads(fields.get("data", "{}")),
    )
