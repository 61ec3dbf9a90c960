"""Returns its payload, optionally after a delay with progress steps: for tests and benchmarks."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from emprops.queue.models import Job
from emprops.worker.connector import Connector, PermanentJobError, ProgressReporter


class EchoPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    delay_s: float = Field(default=0.0, ge=0, le=3600)
    steps: int = Field(default=0, ge=0, le=10_000)
    fail: str | None = Field(default=None, pattern="^(retryable|permanent)$")


class EchoConnector(Connector):
    service = "echo"

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        try:
            spec = EchoPayload.model_validate(job.payload)
        except ValidationError as exc:
            raise PermanentJobError(f"bad echo payload: {exc.errors()[0]['msg']}") from exc
        if spec.fail == "permanent":
            raise PermanentJobError("echo asked to fail permanently")
        if spec.fail == "retryable":
            from emprops.worker.connector import RetryableJobError

            raise RetryableJobError("echo asked to fail, retryable")
        if spec.steps:
            for step in range(1, spec.steps + 1):
                await asyncio.sleep(spec.delay_s / spec.steps)
                await progress(100 * step / spec.steps, f"step {step}/{spec.steps}")
        elif spec.delay_s:
            await asyncio.sleep(spec.delay_s)
        return {"echo": job.payload}
