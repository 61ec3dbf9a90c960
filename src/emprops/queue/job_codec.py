"""Jobs to and from the flat Redis hash: JSON fields as JSON text, times as epoch milliseconds."""

from __future__ import annotations

from typing import Any

import orjson

from emprops.queue.models import Job, JobRequest, ms_to_datetime

_JSON_FIELDS = ("payload", "requirements", "ctx", "result", "trace", "error_details")
_TIME_FIELDS = ("created_at", "assigned_at", "started_at", "completed_at", "failed_at",
                "cancelled_at")  # fmt: skip
_SCALAR_FIELDS = ("customer_id", "workflow_id", "workflow_priority", "workflow_datetime",
                  "current_step", "total_steps", "max_retries", "timeout_s", "keep_completed_s",
                  "keep_failed_s")  # fmt: skip


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def encode_submit_fields(request: JobRequest) -> dict[str, str]:
    """Hash fields for a new job (the script adds id, service, status, times and its place)."""
    fields: dict[str, str] = {"priority": str(request.priority), "payload": _json(request.payload)}
    for name in ("requirements", "ctx", "trace"):
        value = getattr(request, name)
        if value is not None:
            fields[name] = _json(value)
    for name in _SCALAR_FIELDS:
        value = getattr(request, name)
        if value is not None:
            fields[name] = str(value)
    return fields


def decode_job(raw: dict[Any, Any]) -> Job:
    fields = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }
    data: dict[str, Any] = {}
    for name, value in fields.items():
        if value == "":
            continue
        if name in _JSON_FIELDS:
            data[name] = orjson.loads(value)
        elif name in _TIME_FIELDS:
            data[name] = ms_to_datetime(int(value))
        else:
            data[name] = value
    return Job.model_validate(data)
