"""Fault tests with real worker processes: workers killed with SIGKILL, Redis restarted mid-run.
In the end every job has completed exactly once and none is lost."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio

from emprops.core.embedded_redis import EmbeddedRedis
from emprops.queue.broker import Broker, BrokerConfig
from emprops.queue.models import JobRequest, JobStatus
from emprops.worker.local_pool import LocalWorkerPool, settings_env
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.slow


async def count_finished(broker: Broker, ids: list[str]) -> int:
    pipe = broker.redis.pipeline(transaction=False)
    for job_id in ids:
        pipe.hget(broker.keys.job(job_id), "status")
    statuses = await pipe.execute()
    return sum(1 for s in statuses if s in (b"completed", b"failed"))


async def worker_holding_a_job(broker: Broker, rng: random.Random) -> int | None:
    """The pool index of the worker running a random active job (ids: local-<pid>-<index>-<n>)."""
    active = await broker.redis.zrange(broker.keys.active, 0, -1)
    if not active:
        return None
    job_id = rng.choice(active).decode()
    worker_id = await broker.redis.hget(broker.keys.job(job_id), "worker_id")
    if not worker_id:
        return None
    return int(worker_id.decode().split("-")[2])


async def assert_each_completed_exactly_once(broker: Broker, ids: list[str]) -> list[int]:
    attempts = []
    for job_id in ids:
        job = await broker.get(job_id)
        assert job is not None and job.status == JobStatus.COMPLETED, (job_id, job)
        events = [e.event for e in await broker.read_events(job_id, count=1000)]
        assert events.count("complete_job") == 1, (job_id, events)
        assert job.result is not None
        assert job.result["echo"]["n"] == int(job_id.split("-")[-1])
        attempts.append(job.attempt)
    return attempts


async def test_sigkilled_workers_lose_no_job(queue_name: str, tmp_path: Path) -> None:
    config = BrokerConfig(queue=queue_name, lease_ms=1500, retry_base_ms=50)
    env = settings_env(tmp_path, redis_url=REDIS_URL, queue_name=queue_name, lease_s="1.5",
                       heartbeat_s="0.3", idle_wait_s="1", retry_base_s="0.05")  # fmt: skip
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    broker = Broker(client, config)
    ids = [f"job-{i}" for i in range(1000)]
    rng = random.Random(7)
    kills = 0
    with LocalWorkerPool(["echo"], 4, concurrency=4, env=env, log_dir=tmp_path / "logs") as pool:
        await broker.submit_many(
            [JobRequest(id=job_id, service_required="echo", max_retries=50,
                        payload={"delay_s": 0.1, "n": i}) for i, job_id in enumerate(ids)]
        )  # fmt: skip
        deadline = time.monotonic() + 240
        while await count_finished(broker, ids) < len(ids):
            assert time.monotonic() < deadline, "jobs did not finish in time"
            await asyncio.sleep(rng.uniform(0.2, 0.5))
            victim = await worker_holding_a_job(broker, rng)
            if victim is not None and kills < 20:
                pool.restart(victim)  # SIGKILL mid-job, then a fresh process
                kills += 1
    attempts = await assert_each_completed_exactly_once(broker, ids)
    await client.aclose()
    assert kills >= 8
    # Some jobs were running when their worker died and were re-run by the reaper.
    assert max(attempts) >= 2


async def test_embedded_redis_restart_mid_run_loses_nothing(
    queue_name: str, tmp_path: Path
) -> None:
    embedded = EmbeddedRedis(tmp_path)
    url = embedded.acquire()
    config = BrokerConfig(queue=queue_name, lease_ms=3000)
    env = settings_env(tmp_path, queue_name=queue_name, lease_s="3", heartbeat_s="0.3",
                       idle_wait_s="1")  # fmt: skip
    client: Any = redis.asyncio.Redis.from_url(url, retry_on_error=[redis.ConnectionError])
    broker = Broker(client, config)
    ids = [f"job-{i}" for i in range(400)]
    with LocalWorkerPool(["echo"], 2, concurrency=4, env=env, log_dir=tmp_path / "logs"):
        await broker.submit_many(
            [JobRequest(id=job_id, service_required="echo", payload={"delay_s": 0.05, "n": i})
             for i, job_id in enumerate(ids)]
        )  # fmt: skip
        while await count_finished(broker, ids) < 100:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(embedded.stop)  # SIGTERM: Redis flushes its append-only file
        assert not embedded.is_running()
        await asyncio.sleep(1.0)  # workers see connection errors meanwhile
        await asyncio.to_thread(embedded.acquire)  # same data directory, same socket
        deadline = time.monotonic() + 120
        while True:
            try:
                if await count_finished(broker, ids) == len(ids):
                    break
            except redis.ConnectionError:
                pass
            assert time.monotonic() < deadline, "jobs did not finish after the restart"
            await asyncio.sleep(0.1)
    await assert_each_completed_exactly_once(broker, ids)
    await client.aclose()
    await asyncio.to_thread(embedded.release)
    assert not embedded.is_running()  # the last one out stopped it
