"""GET /metrics, parsed with prometheus_client's own parser: job, queue and worker metrics after
real jobs on a real worker, HTTP counts by route template, and open SSE/WebSocket gauges."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import websockets
from prometheus_client.parser import text_string_to_metric_families

from emprops.core.settings import Settings
from emprops.queue.models import JobRequest
from tests.api.conftest import Api
from tests.api.generation_world import (
    echo_document,
    grant,
    make_collection,
    register_workflow,
    running_worker,
    served,
)
from tests.observability.conftest import open_api

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


async def scrape_until(
    client: httpx.AsyncClient, ready: Callable[[Samples], bool], timeout: float = 15
) -> Samples:
    deadline = time.monotonic() + timeout
    while True:
        samples = await scrape(client)
        if ready(samples):
            return samples
        if time.monotonic() > deadline:
            raise AssertionError("metrics never reached the expected values")
        await asyncio.sleep(0.1)


async def test_job_queue_and_worker_metrics_after_real_jobs(
    obs_api: Api, obs_settings: Settings
) -> None:
    broker = obs_api.state.broker
    # Two jobs no worker here can run: pending, and reported unworkable.
    for i in range(2):
        await broker.submit(JobRequest(id=f"r{i}", service_required="render"))
    async with running_worker(obs_settings) as worker:
        for i in range(3):
            await broker.submit(JobRequest(id=f"ok{i}", service_required="echo"))
        await broker.submit(
            JobRequest(id="perm", service_required="echo", payload={"fail": "permanent"})
        )
        await broker.submit(
            JobRequest(
                id="retry", service_required="echo", payload={"fail": "retryable"}, max_retries=1
            )
        )

        def settled(s: Samples) -> bool:
            return (
                value(s, "emprops_job_duration_seconds_count", service="echo", outcome="failed")
                == 2
                and value(s, "emprops_workers", state="idle") == 1
                and value(s, "emprops_job_duration_seconds_count", service="echo",
                          outcome="completed") == 3
            )  # fmt: skip

        samples = await scrape_until(obs_api.client, settled)
        assert worker.completed == 3

    run = "emprops_job_duration_seconds"
    assert value(samples, f"{run}_count", service="echo", outcome="retrying") == 1
    for outcome, count in (("completed", 3), ("failed", 2), ("retrying", 1)):
        labels = {"service": "echo", "outcome": outcome}
        assert value(samples, f"{run}_bucket", le="+Inf", **labels) == count
        total = value(samples, f"{run}_sum", **labels)
        assert total is not None and 0 <= total < 5 * count
    # Wait time is observed once per job, at its first claim: 5 echo jobs.
    wait = "emprops_job_queue_wait_seconds"
    assert value(samples, f"{wait}_count", service="echo") == 5
    assert value(samples, f"{wait}_bucket", service="echo", le="+Inf") == 5
    waited = value(samples, f"{wait}_sum", service="echo")
    assert waited is not None and 0 <= waited < 5 * 5
    assert value(samples, f"{wait}_count", service="render") is None  # never claimed

    failures = "emprops_job_failures_total"
    assert value(samples, failures, service="echo", error_class="PermanentJobError") == 1
    assert value(samples, failures, service="echo", error_class="RetryableJobError") == 2

    jobs = "emprops_queue_jobs"
    assert value(samples, jobs, service="render", state="pending") == 2
    assert value(samples, jobs, service="echo", state="pending") == 0
    assert value(samples, jobs, service="echo", state="dead") == 2
    assert value(samples, jobs, service="echo", state="active") is None
    assert value(samples, "emprops_queue_unworkable_jobs") == 2
    assert value(samples, "emprops_workers", state="busy") == 0
    assert value(samples, "emprops_worker_running_jobs") == 0
    assert value(samples, "emprops_queue_metrics_up") == 1

    # The totals live in Redis: a second API process reports the same numbers.
    async for sibling in open_api(obs_settings):
        again = await scrape(sibling.client)
        assert value(again, f"{run}_count", service="echo", outcome="completed") == 3
        assert value(again, failures, service="echo", error_class="RetryableJobError") == 2
        assert value(again, "emprops_http_requests_total", method="GET", route="/metrics",
                     status="200") is None  # its own HTTP counts start at zero  # fmt: skip


async def test_http_requests_are_counted_by_route_template(obs_api: Api) -> None:
    client = obs_api.client
    for _ in range(2):
        assert (await client.get("/health")).status_code == 200
    job = "/jobs/00000000-0000-0000-0000-000000000001"
    assert (await client.get(job)).status_code == 401
    assert (await client.get("/no/such/route")).status_code == 404
    samples = await scrape(client)
    requests = "emprops_http_requests_total"
    assert value(samples, requests, method="GET", route="/health", status="200") == 2
    assert value(samples, requests, method="GET", route="/jobs/{job_id}", status="401") == 1
    assert value(samples, requests, method="GET", route="unmatched", status="404") == 1
    latency = "emprops_http_request_duration_seconds"
    assert value(samples, f"{latency}_count", method="GET", route="/health") == 2
    assert not any(
        dict(labels).get("route", "").startswith("/jobs/0000") for _, labels in samples
    ), "raw paths never become label values"


async def test_open_sse_streams_and_websockets_are_gauged(obs_api: Api) -> None:
    api = obs_api
    admin, user = await api.new_user("admin", admin=True), await api.new_user("watcher")
    await register_workflow(api)
    await grant(api, admin, user, 10)
    collection = await make_collection(api, user, echo_document(generations=1, steps=1))
    started = await api.client.post(f"/collections/{collection}/generations", headers=user)
    assert started.status_code == 202, started.text
    run_id = started.json()["job_id"]  # no worker: the run stays open, and so does its stream
    sse = "emprops_sse_connections"
    ws = "emprops_websocket_connections"

    async with (
        served(api.app) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as client,
    ):
        async with client.stream("GET", f"/jobs/{run_id}/events", headers=user) as stream:
            assert stream.status_code == 200
            samples = await scrape(client)
            assert value(samples, sse, route="/jobs/{job_id}/events") == 1
            token = user["X-API-Key"]
            async with websockets.connect(f"ws://{address}/ws?token={token}"):
                samples = await scrape_until(
                    client, lambda s: value(s, ws, route="/ws") == 1, timeout=5
                )
                assert value(samples, sse, route="/jobs/{job_id}/events") == 1
        samples = await scrape_until(
            client,
            lambda s: (
                value(s, sse, route="/jobs/{job_id}/events") == 0 and value(s, ws, route="/ws") == 0
            ),
            timeout=10,
        )
        # A stream is counted once it ends, and kept out of the latency histogram.
        events_route = {"method": "GET", "route": "/jobs/{job_id}/events"}
        assert value(samples, "emprops_http_requests_total", status="200", **events_route) == 1
        latency = "emprops_http_request_duration_seconds_count"
        assert value(samples, latency, **events_route) is None
