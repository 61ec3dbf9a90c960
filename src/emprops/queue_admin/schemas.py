"""What the operator routes return."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from emprops.queue.broker import WorkerInfo
from emprops.queue.events import JobEvent
from emprops.queue.models import Job


class QueueOverview(BaseModel):
    queue: str
    server_ms: int = Field(description="Redis time when read: ages are measured against it.")
    pending: dict[str, int] = Field(description="Pending jobs by service.")
    pending_total: int
    active: int
    delayed: int
    dead: int
    finished_retained: int = Field(description="Finished jobs still kept (completed, failed...).")
    finished: dict[str, int] = Field(
        description="How the most recent retained finished jobs ended (status -> count)."
    )
    workers: list[WorkerInfo]
    unworkable: list[str] = Field(description="Pending jobs no live worker can run.")


class JobDetail(BaseModel):
    job: Job
    events: list[JobEvent]


class JobActionOut(BaseModel):
    job_id: str
    action: str
    outcome: str = Field(description="cancelled | finished | retried | not_failed")
    previous_status: str | None = None
    job: Job | None = None


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="cancelled by an operator", min_length=1, max_length=500)
