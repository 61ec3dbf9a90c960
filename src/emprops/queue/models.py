"""The job as clients submit it and as the broker stores it (field names kept from the original)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

JOB_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
SERVICE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
MAX_PRIORITY = 1000
# Keys a job may carry in its requirements that describe the job, not the worker.
NON_CAPABILITY_KEYS = frozenset(
    {"timeout_minutes", "service_type", "priority", "estimated_duration"}
)

JobId = Annotated[str, Field(pattern=JOB_ID_PATTERN)]


class JobStatus(StrEnum):
    PENDING = "pending"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobRequest(BaseModel):
    """What a client submits. Unknown fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: JobId | None = Field(default=None, validation_alias=AliasChoices("id", "message_id"))
    service_required: str = Field(pattern=SERVICE_PATTERN)
    priority: int = Field(default=50, ge=0, le=MAX_PRIORITY)
    payload: dict[str, Any] = Field(default_factory=dict)
    requirements: dict[str, Any] | None = None
    customer_id: str | None = Field(default=None, max_length=128)
    workflow_id: str | None = Field(default=None, pattern=JOB_ID_PATTERN)
    workflow_priority: int | None = Field(default=None, ge=0, le=MAX_PRIORITY)
    workflow_datetime: int | None = Field(
        default=None, ge=0, lt=2**43, description="Milliseconds since the epoch."
    )
    current_step: int | None = Field(default=None, ge=0)
    total_steps: int | None = Field(default=None, ge=1)
    max_retries: int = Field(default=3, ge=0, le=100)
    timeout_s: float | None = Field(default=None, gt=0)
    ctx: dict[str, Any] | None = None
    keep_completed_s: int | None = Field(default=None, ge=0)
    keep_failed_s: int | None = Field(default=None, ge=0)
    trace: dict[str, str] | None = Field(
        default=None, description="Trace context carried to workers."
    )

    @field_validator("requirements")
    @classmethod
    def _requirements_shape(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        for key in ("positive_requirements", "negative_requirements"):
            if key in value and not isinstance(value[key], dict):
                raise ValueError(f"requirements.{key} must be an object")
        positive = value.get("positive_requirements", value)
        models = positive.get("models") if isinstance(positive, dict) else None
        if models is not None and not (
            isinstance(models, list) and all(isinstance(m, str) for m in models)
        ):
            raise ValueError("requirements models must be a list of model names")
        isolation = positive.get("customer_isolation") if isinstance(positive, dict) else None
        if isolation is not None and isolation not in ("strict", "loose", "none"):
            raise ValueError("requirements customer_isolation must be strict, loose or none")
        return value


class Job(BaseModel):
    """A job as read back from the broker, with its status fields."""

    model_config = ConfigDict(extra="ignore")

    id: str
    service_required: str
    priority: int = 50
    payload: dict[str, Any] = Field(default_factory=dict)
    requirements: dict[str, Any] | None = None
    customer_id: str | None = None
    workflow_id: str | None = None
    workflow_priority: int | None = None
    workflow_datetime: int | None = None
    current_step: int | None = None
    total_steps: int | None = None
    max_retries: int = 3
    retry_count: int = 0
    attempt: int = 0
    timeout_s: float | None = None
    ctx: dict[str, Any] | None = None
    trace: dict[str, str] | None = None
    status: JobStatus = JobStatus.PENDING
    worker_id: str | None = None
    created_at: datetime | None = None
    assigned_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None
    cancelled_at: datetime | None = None
    error: str | None = None
    error_details: dict[str, Any] | None = None  # the connector's structured details, if any
    last_failed_worker: str | None = None
    progress: float | None = None
    progress_message: str | None = None
    result: dict[str, Any] | None = None


def ms_to_datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class Hardware(BaseModel):
    model_config = ConfigDict(extra="allow")

    gpu_memory_gb: float | None = None
    gpu_model: str | None = None
    cpu_cores: int | None = None
    ram_gb: float | None = None


class CustomerAccess(BaseModel):
    isolation: str = Field(default="none", pattern="^(strict|loose|none)$")
    allowed_customers: list[str] = Field(default_factory=list)
    denied_customers: list[str] = Field(default_factory=list)


class WorkerCapabilities(BaseModel):
    """What a worker advertises; extra keys are custom capabilities matched by dotted path."""

    model_config = ConfigDict(extra="allow")

    worker_id: str = Field(pattern=JOB_ID_PATTERN)
    machine_id: str | None = None
    services: list[str] = Field(min_length=1)
    hardware: Hardware = Field(default_factory=Hardware)
    models: dict[str, list[str]] = Field(default_factory=dict)
    customer_access: CustomerAccess = Field(default_factory=CustomerAccess)
    workflow_id: str | None = None
