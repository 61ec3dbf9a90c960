"""The submitting side of a job's trace: a producer span whose context travels in the job."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry.trace import SpanKind

from emprops.core.tracing import current_trace_carrier, start_span, tracing_enabled
from emprops.queue.models import JobRequest


@contextmanager
def submit_span(queue: str, requests: Sequence[JobRequest]) -> Iterator[Sequence[JobRequest]]:
    """Yields the requests to submit: with tracing on, each (unless its client already set one)
    carries this span's W3C context in `trace`, so the worker's job span continues the trace."""
    if not tracing_enabled():
        yield requests
        return
    ids = [r.id for r in requests if r.id]
    attributes: dict[str, str | int | list[str]] = {
        "messaging.system": "emprops",
        "messaging.operation.type": "send",
        "messaging.destination.name": queue,
        "messaging.batch.message_count": len(requests),
        "db.system.name": "redis",
        "emprops.job.services": sorted({r.service_required for r in requests}),
    }
    if len(ids) == 1:
        attributes["emprops.job.id"] = ids[0]
    with start_span("queue.submit", kind=SpanKind.PRODUCER, attributes=attributes):
        carrier = current_trace_carrier()
        yield [
            r if r.trace is not None or carrier is None else r.model_copy(update={"trace": carrier})
            for r in requests
        ]
