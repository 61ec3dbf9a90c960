"""A follower blocked on XREAD never meets its client's socket timeout: a job (or an SSE stream,
or `emprops jobs watch`) idle for longer than the timeout keeps following, then gets the next
event. The socket timeout is made small here (0.4 s) instead of redis-py's 5 s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from emprops.core.redis_connection import blocking_ms, socket_timeout_s
from emprops.queue.broker import Broker, BrokerConfig
from emprops.queue.events import JobEvent
from emprops.queue.models import JobRequest, WorkerCapabilities
from tests.conftest import REDIS_URL

SOCKET_TIMEOUT_S = 0.4


@pytest.fixture
async def short_timeout_broker(broker_config: BrokerConfig) -> AsyncIterator[Broker]:
    client = redis.asyncio.Redis.from_url(REDIS_URL, socket_timeout=SOCKET_TIMEOUT_S)
    yield Broker(client, broker_config)
    await client.aclose()


def test_blocking_reads_end_before_the_socket_timeout() -> None:
    default = redis.asyncio.Redis.from_url(REDIS_URL)
    short = redis.asyncio.Redis.from_url(REDIS_URL, socket_timeout=0.4)
    unbounded = redis.asyncio.Redis.from_url(REDIS_URL, socket_timeout=None)
    assert socket_timeout_s(default) == 5.0  # redis-py 8's default
    assert blocking_ms(default, 5_000) < 5_000 and blocking_ms(default, 1_000) == 1_000
    assert 0 < blocking_ms(short, 5_000) < 400 and 0 < blocking_ms(short, 0) < 400
    assert blocking_ms(unbounded, 5_000) == 5_000


async def test_an_idle_follow_outlives_the_socket_timeout(
    short_timeout_broker: Broker, broker: Broker
) -> None:
    await broker.submit(JobRequest(id="j", service_required="echo"))
    seen: list[JobEvent] = []
    got_first = asyncio.Event()

    async def follow() -> None:
        # The default block (5 s) is far above the 0.4 s socket timeout.
        async for event in short_timeout_broker.follow("j"):
            seen.append(event)
            got_first.set()

    follower = asyncio.create_task(follow())
    await asyncio.wait_for(got_first.wait(), 5)
    idle_until = time.monotonic() + 3 * SOCKET_TIMEOUT_S
    while time.monotonic() < idle_until:  # idle: no event for three socket timeouts
        assert not follower.done(), follower.exception()
        await asyncio.sleep(0.05)
    claimed = await broker.claim(WorkerCapabilities(worker_id="w", services=["echo"]))
    await broker.complete(claimed.jobs[0].lease, {"ok": True})
    await asyncio.wait_for(follower, 5)
    assert [e.event for e in seen] == ["job_submitted", "job_claimed", "complete_job"]
