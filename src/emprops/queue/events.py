"""Job events as the broker records them (per-job stream) and publishes them (pub/sub)."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel

# Names the original clients know, plus the ones for transitions they did not have.
TERMINAL_EVENTS = frozenset({"complete_job", "job_cancelled"})
# `job_submitted` is not stored: a queued job gets its event stream only when something happens to
# it (saving ~4.7 KB per queued job). Replays rebuild it from the job hash with this id, which
# sorts before every stream id.
SUBMITTED_EVENT_ID = "0-1"


class JobEvent(BaseModel):
    id: str  # the stream id: pass it back as Last-Event-ID to resume after it
    job_id: str
    event: str
    ts: int
    data: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.event in TERMINAL_EVENTS

    @classmethod
    def from_stream(
        cls, job_id: str, entry_id: bytes | str, fields: dict[bytes, bytes]
    ) -> JobEvent:
        return cls(
            id=entry_id.decode() if isinstance(entry_id, bytes) else entry_id,
            job_id=job_id,
            event=fields[b"event"].decode(),
            ts=int(fields[b"ts"]),
            data=orjson.loads(fields[b"data"]),
        )

    @classmethod
    def from_pubsub(cls, message: bytes | str) -> JobEvent:
        raw = orjson.loads(message)
        return cls(
            id=raw["id"], job_id=raw["job_id"], event=raw["event"], ts=raw["ts"], data=raw["data"]
        )
