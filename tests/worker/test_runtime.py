"""The worker runtime in-process against real Redis: claims, progress, failures, cancel, timeouts,
graceful shutdown, and a heartbeat that a CPU-bound handler cannot starve."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from emprops.core.redis_connection import RedisEndpoint
from emprops.queue.broker import Broker, BrokerConfig
from emprops.queue.models import Job, JobRequest, JobStatus, WorkerCapabilities
from emprops.worker.connector import Connector, PermanentJobError, ProgressReporter
from emprops.worker.connectors.echo import EchoConnector
from emprops.worker.runtime import WorkerOptions, WorkerRuntime
from tests.conftest import REDIS_URL


class BlockingConnector(Connector):
    """Runs until cancelled; records that the runtime asked the remote side to stop."""

    service = "block"

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.remote_cancelled: list[str] = []

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        self.started.set()
        await asyncio.sleep(3600)
        return {}

    async def cancel(self, job: Job) -> None:
        self.remote_cancelled.append(job.id)


class HogConnector(Connector):
    """Holds the event loop with CPU work longer than the lease (a badly behaved connector)."""

    service = "hog"

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        end = time.monotonic() + job.payload["seconds"]
        while time.monotonic() < end:
            pass
        return {"hogged": job.payload["seconds"]}


class RunningWorker:
    def __init__(self, broker_config: BrokerConfig, connectors: dict[str, Connector], **kw: Any):
        caps = WorkerCapabilities(worker_id=kw.pop("worker_id", "w1"), services=list(connectors))
        options = WorkerOptions(heartbeat_s=0.1, idle_wait_s=1.0, **kw)
        self.runtime = WorkerRuntime(
            RedisEndpoint(url=REDIS_URL), broker_config, caps, connectors, options
        )
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WorkerRuntime:
        self.task = asyncio.create_task(self.runtime.run())
        return self.runtime

    async def __aexit__(self, *_exc: object) -> None:
        self.runtime.request_stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, 10)


async def wait_status(broker: Broker, job_id: str, *wanted: JobStatus, timeout: float = 5) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = await broker.get(job_id)
        if job is not None and job.status in wanted:
            return job
        await asyncio.sleep(0.02)
    raise AssertionError(f"{job_id} never reached {wanted}: {await broker.get(job_id)}")


@pytest.fixture
async def echo_worker(broker_config: BrokerConfig) -> AsyncIterator[WorkerRuntime]:
    async with RunningWorker(broker_config, {"echo": EchoConnector()}, concurrency=4) as runtime:
        yield runtime


async def test_runs_jobs_with_progress(broker: Broker, echo_worker: WorkerRuntime) -> None:
    await broker.submit(
        JobRequest(id="j", service_required="echo", payload={"delay_s": 0.3, "steps": 3})
    )
    job = await wait_status(broker, "j", JobStatus.COMPLETED)
    assert job.result == {"echo": {"delay_s": 0.3, "steps": 3}}
    progress = [e.data["progress"] for e in await broker.read_events("j") if e.data.get("progress")]
    assert progress and progress[-1] == 100


async def test_idle_worker_starts_a_job_within_milliseconds(
    broker: Broker, echo_worker: WorkerRuntime
) -> None:
    await asyncio.sleep(0.3)  # the worker is idle, blocked on its wake-up channel
    latencies = []
    for i in range(20):
        await broker.submit(JobRequest(id=f"j{i}", service_required="echo"))
        job = await wait_status(broker, f"j{i}", JobStatus.COMPLETED)
        assert job.assigned_at is not None and job.created_at is not None
        latencies.append((job.assigned_at - job.created_at).total_seconds())
    # No polling: with a 1 s idle wait, polling would show up as hundreds of milliseconds.
    assert sorted(latencies)[len(latencies) // 2] < 0.05


async def test_failures_are_classified(broker: Broker, echo_worker: WorkerRuntime) -> None:
    await broker.submit(
        JobRequest(id="perm", service_required="echo", payload={"fail": "permanent"})
    )
    await broker.submit(
        JobRequest(
            id="retry", service_required="echo", payload={"fail": "retryable"}, max_retries=2
        )
    )
    perm = await wait_status(broker, "perm", JobStatus.FAILED)
    assert perm.retry_count == 0 and "permanently" in (perm.error or "")
    retry = await wait_status(broker, "retry", JobStatus.FAILED)
    assert retry.retry_count == 2  # tried 3 times with backoff, then dead letter
    assert await broker.redis.zscore(broker.keys.dead, "retry") is not None


async def test_bad_payload_is_a_permanent_failure(
    broker: Broker, echo_worker: WorkerRuntime
) -> None:
    await broker.submit(JobRequest(id="j", service_required="echo", payload={"delay_s": -1}))
    job = await wait_status(broker, "j", JobStatus.FAILED)
    assert job.retry_count == 0 and "bad echo payload" in (job.error or "")
    assert isinstance(PermanentJobError("x"), Exception)


async def test_cancel_reaches_the_running_job(broker: Broker, broker_config: BrokerConfig) -> None:
    blocking = BlockingConnector()
    async with RunningWorker(broker_config, {"block": blocking}) as runtime:
        await broker.submit(JobRequest(id="j", service_required="block"))
        await asyncio.wait_for(blocking.started.wait(), 5)
        await broker.cancel("j")
        deadline = time.monotonic() + 3
        while runtime._running and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert not runtime._running
        assert blocking.remote_cancelled == ["j"]
    assert (await broker.get("j")).status == JobStatus.CANCELLED  # type: ignore[union-attr]


async def test_timeout_fails_the_job_and_stops_the_remote_side(
    broker: Broker, broker_config: BrokerConfig
) -> None:
    blocking = BlockingConnector()
    async with RunningWorker(broker_config, {"block": blocking}):
        await broker.submit(
            JobRequest(id="j", service_required="block", timeout_s=0.2, max_retries=0)
        )
        job = await wait_status(broker, "j", JobStatus.FAILED)
    assert "timed out" in (job.error or "") and blocking.remote_cancelled == ["j"]


async def test_graceful_shutdown_hands_back_unfinished_jobs(
    broker: Broker, broker_config: BrokerConfig
) -> None:
    blocking = BlockingConnector()
    worker = RunningWorker(broker_config, {"block": blocking}, shutdown_grace_s=0.2)
    async with worker:
        await broker.submit(JobRequest(id="j", service_required="block"))
        await asyncio.wait_for(blocking.started.wait(), 5)
    job = await broker.get("j")
    assert job is not None and job.status == JobStatus.PENDING and job.retry_count == 0


async def test_heartbeat_survives_a_handler_that_hogs_the_event_loop(
    broker: Broker, broker_config: BrokerConfig, redis_client: Any
) -> None:
    config = replace(broker_config, lease_ms=400)
    async with RunningWorker(config, {"hog": HogConnector()}):
        await Broker(redis_client, config).submit(
            JobRequest(id="j", service_required="hog", payload={"seconds": 1.2})
        )
        # Meanwhile another process runs the reaper: the lease must still be alive.
        reaper = Broker(redis_client, config)
        for _ in range(10):
            await asyncio.sleep(0.1)
            assert await reaper.requeue_expired() == (0, 0)
        job = await wait_status(broker, "j", JobStatus.COMPLETED)
    assert job.attempt == 1 and job.result == {"hogged": 1.2}
