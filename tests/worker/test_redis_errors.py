"""Redis answering errors (`OOM command not allowed`, `READONLY`) is Redis unavailable to the
worker: its heartbeat, claim loop, reports and control listener log, back off and keep going.
A heartbeat thread that dies anyway, or stops beating, makes the worker stop and exit with an
error rather than run invisibly. A malformed control message is ignored, not fatal."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest

from emprops.core.redis_connection import RedisEndpoint
from emprops.queue.broker import Broker, BrokerConfig
from emprops.queue.models import Job, JobRequest, JobStatus, WorkerCapabilities
from emprops.worker.connector import Connector, ProgressReporter
from emprops.worker.connectors.echo import EchoConnector
from emprops.worker.heartbeat import HeartbeatThread
from emprops.worker.runtime import HeartbeatLostError, WorkerOptions, WorkerRuntime
from tests.conftest import REDIS_URL
from tests.protocol_servers.redis_fault_proxy import OOM, READONLY, RedisFaultProxy
from tests.worker.test_runtime import BlockingConnector, wait_status


class GatedConnector(Connector):
    """Runs until the test opens the gate."""

    service = "gated"

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.gate = asyncio.Event()
        self.runs = 0

    async def process(self, job: Job, progress: ProgressReporter) -> dict[str, Any]:
        self.runs += 1
        self.started.set()
        await self.gate.wait()
        return {"done": job.id}


def make_runtime(
    url: str, config: BrokerConfig, connectors: dict[str, Connector], **kw: Any
) -> WorkerRuntime:
    caps = WorkerCapabilities(worker_id="w1", services=list(connectors))
    options = WorkerOptions(heartbeat_s=0.1, idle_wait_s=0.5, shutdown_grace_s=1, **kw)
    return WorkerRuntime(RedisEndpoint(url=url), config, caps, connectors, options)


async def until(condition: Callable[[], Any], timeout: float = 5, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while True:
        met = condition()
        if asyncio.iscoroutine(met):
            met = await met
        if met:
            return
        assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
        await asyncio.sleep(0.02)


@pytest.fixture
async def proxy() -> AsyncIterator[RedisFaultProxy]:
    async with RedisFaultProxy(REDIS_URL).running() as running:
        yield running


@pytest.mark.parametrize("reply", [OOM, READONLY], ids=["oom", "readonly"])
async def test_worker_rides_out_redis_error_replies(
    reply: bytes, proxy: RedisFaultProxy, broker: Broker, broker_config: BrokerConfig
) -> None:
    config = replace(broker_config, lease_ms=10_000)  # the fault does not outlast a lease
    gated = GatedConnector()
    runtime = make_runtime(proxy.url, config, {"gated": gated, "echo": EchoConnector()})
    task = asyncio.create_task(runtime.run())
    try:
        await broker.submit(JobRequest(id="j", service_required="gated"))
        await asyncio.wait_for(gated.started.wait(), 5)

        proxy.fail_with(reply)  # heartbeat, idle claim loop: error replies
        await until(lambda: proxy.faulted >= 10, what="error replies")
        gated.gate.set()  # the job ends while Redis refuses: its report must wait and retry
        at_release, released_at = proxy.faulted, time.monotonic()
        await until(  # a few seconds of refusals: several heartbeats, backoffs, report retries
            lambda: proxy.faulted >= at_release + 20 and time.monotonic() > released_at + 2,
            what="more error replies",
        )
        assert not task.done(), task.exception()
        assert (await broker.get("j")).status == JobStatus.ASSIGNED  # type: ignore[union-attr]

        recovered_ms = time.time() * 1000
        proxy.fail_with(None)
        job = await wait_status(broker, "j", JobStatus.COMPLETED)
        assert job.attempt == 1 and job.result == {"done": "j"} and gated.runs == 1
        events = [e.event for e in await broker.read_events("j", count=1000)]
        assert events.count("complete_job") == 1, events

        async def beating() -> bool:  # heartbeats resume
            score = await broker.redis.zscore(broker.keys.workers, "w1")
            return score is not None and score > recovered_ms

        await until(beating, what="a heartbeat after the fault")
        await broker.submit(JobRequest(id="after", service_required="echo"))  # still claiming
        await wait_status(broker, "after", JobStatus.COMPLETED)
        assert not task.done()
    finally:
        proxy.fail_with(None)
        gated.gate.set()
        runtime.request_stop()
        await asyncio.wait_for(task, 10)


async def test_a_malformed_control_message_does_not_stop_the_listener(
    broker: Broker, broker_config: BrokerConfig
) -> None:
    blocking = BlockingConnector()
    runtime = make_runtime(REDIS_URL, broker_config, {"block": blocking, "echo": EchoConnector()})
    task = asyncio.create_task(runtime.run())
    try:
        await broker.submit(JobRequest(id="j", service_required="block"))
        await asyncio.wait_for(blocking.started.wait(), 5)
        channel = broker.keys.control_channel("w1")

        async def subscribed() -> bool:
            counts = dict(await broker.redis.pubsub_numsub(channel))
            return bool(counts.get(channel.encode()))

        await until(subscribed, what="the control listener")
        for bad in (b"[1]", b"\xff\xfe", b"not json", b'{"cancel": 5}', b"null"):
            assert await broker.redis.publish(channel, bad) == 1
        await broker.cancel("j")  # a valid control message after the bad ones still works
        await until(lambda: blocking.remote_cancelled == ["j"], what="the cancel")
        assert not task.done()
        # And wake-ups still arrive: an idle worker starts a new job without polling.
        await until(lambda: not runtime._running, what="the cancelled job to stop")
        await broker.submit(JobRequest(id="next", service_required="echo"))
        job = await wait_status(broker, "next", JobStatus.COMPLETED)
        assert job.assigned_at is not None and job.created_at is not None
        assert (job.assigned_at - job.created_at).total_seconds() < 0.3  # idle wait is 0.5 s
    finally:
        runtime.request_stop()
        await asyncio.wait_for(task, 10)


async def test_a_dead_heartbeat_thread_stops_the_worker_with_an_error(
    broker: Broker, broker_config: BrokerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: HeartbeatThread, scripts: Any) -> None:
        raise RuntimeError("a bug in the heartbeat")

    monkeypatch.setattr(HeartbeatThread, "_beat", broken)
    blocking = BlockingConnector()
    runtime = make_runtime(REDIS_URL, broker_config, {"block": blocking})
    with pytest.raises(HeartbeatLostError):
        await asyncio.wait_for(runtime.run(), 10)
    assert (await broker.redis.zcard(broker.keys.workers)) == 0  # it never showed up


async def test_a_stalled_heartbeat_stops_the_worker_and_hands_back_its_job(
    broker: Broker, broker_config: BrokerConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = replace(broker_config, lease_ms=600)
    stalled, unstall = threading.Event(), threading.Event()
    real_beat = HeartbeatThread._beat

    def beat(self: HeartbeatThread, scripts: Any) -> None:
        if stalled.is_set():
            unstall.wait(10)  # stuck, e.g. on a lock; the thread lives on
        real_beat(self, scripts)

    monkeypatch.setattr(HeartbeatThread, "_beat", beat)
    blocking = BlockingConnector()
    runtime = make_runtime(REDIS_URL, config, {"block": blocking})
    task = asyncio.create_task(runtime.run())
    try:
        await broker.submit(JobRequest(id="j", service_required="block"))
        await asyncio.wait_for(blocking.started.wait(), 5)
        stalled.set()
        with pytest.raises(HeartbeatLostError):
            await asyncio.wait_for(task, 5)
        job = await broker.get("j")  # handed back, not left assigned to an invisible worker
        assert job is not None and job.status == JobStatus.PENDING
    finally:
        unstall.set()
        runtime.request_stop()
        if not task.done():
            await asyncio.wait_for(task, 10)
