"""The contract between the worker runtime and whatever does the work (a renderer, ComfyUI, an API)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Protocol

from emprops.core.errors import EmpropsError, ErrorCode
from emprops.queue.models import Job
from emprops.storage.blob_store import BlobStore


class ProgressReporter(Protocol):
    """Report 0–100 progress with a short message; cheap to call often (updates are coalesced)."""

    async def __call__(self, percent: float, message: str = "") -> None: ...


class JobFailure(EmpropsError):
    """A failure the connector classified; `retryable` decides between retry and dead letter."""

    retryable: bool = True

    def __init__(
        self, message: str, *, retryable: bool | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        if retryable is not None:
            self.retryable = retryable


class RetryableJobError(JobFailure):
    """Try again later: a server down, a timeout, a rate limit."""

    code = ErrorCode.UNAVAILABLE
    retryable = True


class ServiceUnavailableError(RetryableJobError):
    """The service itself is gone (connection refused or reset), not this job: its details say
    `reason: "service_unavailable"` so the queue can tell an outage from a failing job."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details={**(details or {}), "reason": "service_unavailable"})


class PermanentJobError(JobFailure):
    """Retrying cannot help: a bad payload, a graph the server rejects, a missing model."""

    code = ErrorCode.INVALID_INPUT
    retryable = False


class Connector(ABC):
    """One service a worker offers. Subclasses set `service` and implement `process`.

    `config` comes from the worker's config file section named after the service.
    """

    service: ClassVar[str]

    def __init__(
        self, config: dict[str, Any] | None = None, *, store: BlobStore | None = None
    ) -> None:
        self.config = config or {}
        self.store = store  # where outputs go; connectors return URLs, never inline bytes

    async def start(self) -> None:
        """Open connections, check the server is there; called once before the first job."""

    async def close(self) -> None:
        """Release what `start` opened."""

    @abstractmethod
    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        """Run one job and return its result (JSON; outputs as URLs, never inline bytes)."""

    async def cancel(self, job: Job) -> None:
        """Stop the remote side of a running job (the task itself is cancelled by the runtime)."""
