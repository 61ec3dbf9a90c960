"""Every key a script touches shares the queue's hash tag, so the broker runs on Redis Cluster."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.crc import key_slot

from emprops.queue.broker import Broker
from emprops.queue.models import JobRequest, WorkerCapabilities
from emprops.queue.scripts import ScriptName


class RecordingBroker(Broker):
    calls: list[tuple[ScriptName, list[str]]]

    async def _run(self, name: ScriptName, keys: Sequence[str], args: Sequence[Any]) -> Any:
        self.calls.append((name, list(keys)))
        return await super()._run(name, keys, args)


async def test_every_script_key_shares_one_slot(redis_client: Any, broker_config: Any) -> None:
    broker = RecordingBroker(redis_client, broker_config)
    broker.calls = []
    caps = WorkerCapabilities(worker_id="w1", services=["echo"])
    await broker.submit(JobRequest(id="a", service_required="echo", workflow_id="wf"))
    await broker.submit(JobRequest(id="b", service_required="echo"))
    await broker.submit(JobRequest(id="c", service_required="echo", max_retries=0))
    a = (await broker.claim(caps)).jobs[0]
    await broker.heartbeat(caps, [a.lease])
    await broker.progress(a.lease, 10)
    await broker.fail(a.lease, "x", retryable=True)
    await asyncio.sleep(0.06)
    await broker.promote_delayed()
    a = (await broker.claim(caps)).jobs[0]
    await broker.release(a.lease)
    a = (await broker.claim(caps)).jobs[0]
    await broker.complete(a.lease, {})
    b = (await broker.claim(caps)).jobs[0]
    await broker.cancel(b.job.id)
    c = (await broker.claim(caps)).jobs[0]
    await broker.fail(c.lease, "x", retryable=False)
    await broker.retry_dead("c")
    await broker.requeue_expired()
    await broker.unworkable()

    assert {name for name, _ in broker.calls} == set(ScriptName)  # every script was exercised
    tag_slot = key_slot(broker.keys.prefix.encode())
    for name, keys in broker.calls:
        assert keys, name
        assert {key_slot(k.encode()) for k in keys} == {tag_slot}, (name, keys)
    # Keys the scripts built themselves from the prefix land in the same slot too.
    created = [k async for k in redis_client.scan_iter(match=f"{broker.keys.prefix}*")]
    assert len(created) > 5
    assert {key_slot(k) for k in created} == {tag_slot}
    assert broker.keys.prefix == f"emp:{{{broker_config.queue}}}:"
