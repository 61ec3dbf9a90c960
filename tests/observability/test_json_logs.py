"""JSON log lines carry the job and the trace they belong to: a connector's own log line names
its job and the span it ran under, and the standard library's loggers write the same JSON."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import structlog
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from emprops.core.logging import configure_logging
from emprops.core.settings import Settings
from emprops.queue.broker import Broker
from emprops.queue.models import Job, JobRequest
from emprops.worker.connector import Connector, ProgressReporter
from tests.api.generation_world import running_worker

connector_log = structlog.get_logger("tests.observability.chatty")


class ChattyConnector(Connector):
    """Logs one line while it works, as real connectors do."""

    service = "echo"

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        connector_log.info("rendering", step=1)
        return {"ok": True}


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    configure_logging("INFO", json=True, stream=stream, cache_loggers=False)
    yield stream
    structlog.reset_defaults()
    root.setLevel(level)
    for handler in list(root.handlers):
        if handler.get_name() == "emprops":
            root.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


async def run_one(broker: Broker, settings: Settings, request: JobRequest) -> None:
    async with running_worker(settings, {"echo": ChattyConnector()}):
        await broker.submit(request)
        deadline = time.monotonic() + 10
        while (job := await broker.get(request.id or "")) is None or not job.status.finished:
            assert time.monotonic() < deadline, "job did not finish"
            await asyncio.sleep(0.05)


async def test_a_connector_log_line_names_its_job_and_span(
    json_log: io.StringIO, spans: InMemorySpanExporter, broker: Broker, obs_settings: Settings
) -> None:
    settings = obs_settings.model_copy(update={"queue_name": broker.config.queue})
    await run_one(broker, settings, JobRequest(id="job-7", service_required="echo"))

    rendering = [line for line in lines(json_log) if line["event"] == "rendering"]
    assert len(rendering) == 1
    line = rendering[0]
    connector_span = next(s for s in spans.get_finished_spans() if s.name == "connector echo")
    assert line["job_id"] == "job-7"
    assert line["service"] == "echo" and line["attempt"] == 1
    assert line["trace_id"] == format(connector_span.context.trace_id, "032x")
    assert line["span_id"] == format(connector_span.context.span_id, "016x")
    assert line["level"] == "info" and line["step"] == 1 and "timestamp" in line
    # The worker's own lines outside any job carry neither.
    started = next(line for line in lines(json_log) if line["event"] == "worker started")
    assert "job_id" not in started and "trace_id" not in started


async def test_with_tracing_off_a_job_still_logs_the_trace_it_was_submitted_in(
    json_log: io.StringIO, broker: Broker, obs_settings: Settings
) -> None:
    """A worker that records no spans still names the submitter's trace in its log lines."""
    settings = obs_settings.model_copy(update={"queue_name": broker.config.queue})
    trace_id, span_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    traceparent = f"00-{trace_id}-{span_id}-01"
    await run_one(
        broker,
        settings,
        JobRequest(id="job-8", service_required="echo", trace={"traceparent": traceparent}),
    )
    line = next(line for line in lines(json_log) if line["event"] == "rendering")
    assert line["job_id"] == "job-8"
    assert line["trace_id"] == trace_id and line["span_id"] == span_id


def test_standard_library_loggers_write_the_same_json(json_log: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(job_id="job-9")
    try:
        logging.getLogger("some.library").warning("disk %s", "full")
        logging.getLogger("some.library").info("below the library threshold")
    finally:
        structlog.contextvars.unbind_contextvars("job_id")
    assert lines(json_log) == [
        {
            "event": "disk full",
            "logger": "some.library",
            "level": "warning",
            "job_id": "job-9",
            "timestamp": lines(json_log)[0]["timestamp"],
        }
    ]
