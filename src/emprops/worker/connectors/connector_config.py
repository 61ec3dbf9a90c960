"""Typed connector settings and payloads from the plain dicts the worker and the broker hand over."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from emprops.core.errors import InvalidInputError
from emprops.queue.models import Job
from emprops.worker.connector import PermanentJobError

ModelT = TypeVar("ModelT", bound=BaseModel)


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(root)"
    return f"{where}: {error['msg']}"


def parse_config(model: type[ModelT], raw: dict[str, Any], service: str) -> ModelT:
    """The worker config section for a service; a bad one stops the worker at start."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInputError(
            f"worker config [{service}] is invalid: {_first_problem(exc)}",
            details={"service": service},
        ) from exc


def parse_payload(model: type[ModelT], job: Job, service: str) -> ModelT:
    """The job payload for a service; a bad one fails the job for good."""
    try:
        return model.model_validate(job.payload)
    except ValidationError as exc:
        raise PermanentJobError(
            f"job {job.id}: bad {service} payload: {_first_problem(exc)}",
            details={
                "service": service,
                "errors": [
                    {"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
                    for e in exc.errors()[:20]
                ],
            },
        ) from exc
