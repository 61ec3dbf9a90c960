"""One job's trace, end to end: the API request, the run it starts, the submission to Redis, the
worker's job and its connector call: one trace id, each span the child of the one before."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from emprops.core.settings import Settings
from emprops.queue.broker import Broker
from emprops.queue.models import JobRequest
from emprops.workflows.engine import GeneratorV2
from tests.api.conftest import Api
from tests.api.generation_world import (
    echo_document,
    grant,
    make_collection,
    register_workflow,
    running_worker,
    wait_for_job,
)


async def finished_spans(
    exporter: InMemorySpanExporter, names: set[str], timeout: float = 10
) -> dict[str, list[ReadableSpan]]:
    """Spans by name, once every name has ended (a run's span ends after its status is set)."""
    deadline = time.monotonic() + timeout
    while True:
        by_name: dict[str, list[ReadableSpan]] = {}
        for span in exporter.get_finished_spans():
            by_name.setdefault(span.name, []).append(span)
        if names <= by_name.keys():
            return by_name
        if time.monotonic() > deadline:
            raise AssertionError(f"spans missing: {sorted(names - by_name.keys())}")
        await asyncio.sleep(0.05)


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_one_job_is_one_trace_from_request_to_connector(
    traced_api: Api, obs_settings: Settings, spans: InMemorySpanExporter
) -> None:
    api = traced_api
    admin, user = await api.new_user("admin", admin=True), await api.new_user("creator")
    await register_workflow(api)
    await grant(api, admin, user, 10)
    collection = await make_collection(api, user, echo_document(generations=1, steps=1))
    for probe in ("/health", "/health/ready", "/metrics"):
        assert (await api.client.get(probe)).status_code == 200
    assert spans.get_finished_spans(), "requests before this one were traced"
    assert not [
        s
        for s in spans.get_finished_spans()
        if s.kind == SpanKind.SERVER
        and s.attributes
        and s.attributes.get("url.path") in ("/health", "/health/ready", "/metrics")
    ], "probes untraced"
    spans.clear()

    async with running_worker(obs_settings) as worker:
        response = await api.client.post(f"/collections/{collection}/generations", headers=user)
        assert response.status_code == 202, response.text
        run_id = response.json()["job_id"]
        await wait_for_job(api, user, run_id, {"completed"})
        found = await finished_spans(
            spans,
            {
                "POST /collections/{collection_id}/generations",
                "generation_run",
                "queue.submit",
                "job echo",
                "connector echo",
                "queue.complete",
            },
        )

    request = found["POST /collections/{collection_id}/generations"][0]
    run = found["generation_run"][0]
    submit = found["queue.submit"][0]
    job = found["job echo"][0]
    connector = found["connector echo"][0]
    complete = found["queue.complete"][0]
    chain = [request, run, submit, job, connector]
    trace_ids = {s.context.trace_id for s in [*chain, complete]}
    assert len(trace_ids) == 1, "every span of the job belongs to the request's trace"
    for parent, child in itertools.pairwise(chain):
        assert parent_id(child) == parent.context.span_id, f"{child.name} under {parent.name}"
    assert parent_id(complete) == job.context.span_id

    assert request.kind == SpanKind.SERVER
    assert request.attributes is not None and request.attributes["http.response.status_code"] == 202
    assert run.attributes is not None and run.attributes["emprops.run.id"] == run_id
    assert submit.kind == SpanKind.PRODUCER and job.kind == SpanKind.CONSUMER
    job_id = GeneratorV2.job_id(run_id, 0, 1)
    assert submit.attributes is not None and submit.attributes["emprops.job.id"] == job_id
    assert job.attributes is not None
    assert (
        dict(job.attributes).items()
        >= {
            "emprops.job.id": job_id,
            "emprops.job.service": "echo",
            "emprops.job.attempt": 1,
            "emprops.worker.id": worker.caps.worker_id,
            "emprops.job.outcome": "completed",
        }.items()
    )
    # The context travelled in the stored job, as W3C trace context.
    stored = await api.state.broker.get(job_id)
    assert stored is not None and stored.trace is not None
    assert stored.trace["traceparent"].split("-")[1] == format(submit.context.trace_id, "032x")
    assert stored.trace["traceparent"].split("-")[2] == format(submit.context.span_id, "016x")


@pytest.mark.parametrize("fail", ["permanent", "retryable"])
async def test_a_failed_attempt_is_an_error_span_with_its_error_class(
    spans: InMemorySpanExporter, broker: Broker, obs_settings: Settings, fail: str
) -> None:
    settings = obs_settings.model_copy(update={"queue_name": broker.config.queue})
    async with running_worker(settings):
        await broker.submit(
            JobRequest(id="j1", service_required="echo", payload={"fail": fail}, max_retries=0)
        )
        found = await finished_spans(spans, {"job echo", "connector echo", "queue.fail"})
    job, connector = found["job echo"][0], found["connector echo"][0]
    assert job.status.status_code == StatusCode.ERROR
    assert job.attributes is not None
    assert job.attributes["emprops.job.outcome"] == "failed"
    error_class = "PermanentJobError" if fail == "permanent" else "RetryableJobError"
    assert job.attributes["error.type"] == error_class
    assert connector.status.status_code == StatusCode.ERROR  # the exception is recorded on it
    assert [e.name for e in connector.events] == ["exception"]
    assert job.context.trace_id == found["queue.submit"][0].context.trace_id


async def test_tracing_off_leaves_jobs_without_a_trace(broker: Broker) -> None:
    await broker.submit(JobRequest(id="plain", service_required="echo"))
    job = await broker.get("plain")
    assert job is not None and job.trace is None
