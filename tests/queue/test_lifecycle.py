"""Job lifecycle: retries keep their place, the reaper requeues, fencing refuses late results,
cancellation reaches running jobs, submit is idempotent, events replay."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from emprops.core.errors import NotFoundError
from emprops.queue.broker import Broker
from emprops.queue.errors import DuplicateJobError, LeaseLostError, UnknownServiceError
from emprops.queue.models import JobRequest, JobStatus, WorkerCapabilities


def caps(worker_id: str = "w1") -> WorkerCapabilities:
    return WorkerCapabilities(worker_id=worker_id, services=["echo"])


async def submit(broker: Broker, job_id: str, **kw: Any) -> None:
    await broker.submit(JobRequest(id=job_id, service_required="echo", **kw))


async def status(broker: Broker, job_id: str) -> JobStatus:
    job = await broker.get(job_id)
    assert job is not None
    return job.status


async def event_names(broker: Broker, job_id: str) -> list[str]:
    return [e.event for e in await broker.read_events(job_id)]


async def test_retry_keeps_its_place_among_equal_priority(broker: Broker) -> None:
    for name in ("a", "b", "c"):
        await submit(broker, name)
    first = (await broker.claim(caps())).jobs[0]
    assert first.job.id == "a"
    assert await broker.fail(first.lease, "boom", retryable=True) == "retrying"
    assert (await broker.get("a")).retry_count == 1  # type: ignore[union-attr]
    await asyncio.sleep(0.08)  # retry_base_ms is 50 in tests
    promoted, _ = await broker.promote_delayed()
    assert promoted == 1
    # "a" is back in front of "b" and "c", not behind them.
    assert (await broker.claim(caps("w2"))).jobs[0].job.id == "a"


async def test_backoff_doubles_and_retries_run_out_into_dead_letter(broker: Broker) -> None:
    await submit(broker, "j", max_retries=2)
    delays = []
    for _ in range(2):
        claimed = (await broker.claim(caps())).jobs[0]
        await broker.fail(claimed.lease, "boom", retryable=True)
        job = await broker.get("j")
        delays.append(int(await broker.redis.hget(broker.keys.job("j"), "retry_at")))
        await asyncio.sleep(0.15)
        await broker.promote_delayed()
    claimed = (await broker.claim(caps())).jobs[0]
    assert await broker.fail(claimed.lease, "boom", retryable=True) == "failed"
    job = await broker.get("j")
    assert job is not None and job.status == JobStatus.FAILED and job.retry_count == 2
    assert await broker.redis.zscore(broker.keys.dead, "j") is not None
    assert "complete_job" in await event_names(broker, "j")


async def test_permanent_failure_goes_straight_to_dead_letter(broker: Broker) -> None:
    await submit(broker, "j")
    claimed = (await broker.claim(caps())).jobs[0]
    assert await broker.fail(claimed.lease, "bad payload", retryable=False) == "failed"
    assert await broker.redis.zscore(broker.keys.dead, "j") is not None
    assert await broker.retry_dead("j")
    assert await status(broker, "j") == JobStatus.PENDING
    assert (await broker.claim(caps())).jobs[0].job.id == "j"


async def test_reaper_requeues_expired_lease_and_fences_the_late_worker(
    broker: Broker, redis_client: Any
) -> None:
    short = Broker(redis_client, replace(broker.config, lease_ms=100))
    await submit(short, "j")
    lost = (await short.claim(caps("w1"))).jobs[0]
    await asyncio.sleep(0.15)  # w1 vanished: no heartbeat
    assert await short.requeue_expired() == (1, 0)
    assert await short.requeue_expired() == (0, 0)  # idempotent
    job = await short.get("j")
    assert job is not None and job.status == JobStatus.PENDING
    assert job.retry_count == 1 and job.last_failed_worker == "w1"
    # The worker that lost it is excluded from the next claim; another takes it.
    assert (await short.claim(caps("w1"))).jobs == []
    taken = (await short.claim(caps("w2"))).jobs[0]
    assert taken.lease.attempt == lost.lease.attempt + 1
    # The late result from w1 is refused and changes nothing.
    with pytest.raises(LeaseLostError):
        await short.complete(lost.lease, {"late": True})
    with pytest.raises(LeaseLostError):
        await short.progress(lost.lease, 50)
    assert await status(short, "j") == JobStatus.ASSIGNED
    await short.complete(taken.lease, {"ok": True})
    events = await event_names(short, "j")
    assert events.count("complete_job") == 1
    assert (await short.get("j")).result == {"ok": True}  # type: ignore[union-attr]


async def test_heartbeat_keeps_the_lease(broker: Broker, redis_client: Any) -> None:
    short = Broker(redis_client, replace(broker.config, lease_ms=150))
    await submit(short, "j")
    held = (await short.claim(caps())).jobs[0]
    for _ in range(4):
        await asyncio.sleep(0.06)
        assert await short.heartbeat(caps(), [held.lease]) == []
        assert await short.requeue_expired() == (0, 0)
    await short.complete(held.lease, {})


async def test_reaper_dead_letters_when_retries_are_used_up(
    broker: Broker, redis_client: Any
) -> None:
    short = Broker(redis_client, replace(broker.config, lease_ms=50, exclude_failed_worker_ms=0))
    await submit(short, "j", max_retries=0)
    await short.claim(caps())
    await asyncio.sleep(0.08)
    assert await short.requeue_expired() == (0, 1)
    assert await status(short, "j") == JobStatus.FAILED


async def test_cancel_reaches_a_running_job(broker: Broker, redis_client: Any) -> None:
    await submit(broker, "j")
    held = (await broker.claim(caps())).jobs[0]
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(broker.keys.control_channel("w1"))
    await pubsub.get_message(timeout=1)  # subscription confirmation
    assert await broker.cancel("j") == JobStatus.ASSIGNED
    message = await pubsub.get_message(timeout=2)
    assert message is not None and b'"cancel":"j"' in message["data"]
    await pubsub.aclose()
    assert await broker.heartbeat(caps(), [held.lease]) == ["j"]  # the backstop
    with pytest.raises(LeaseLostError):
        await broker.complete(held.lease, {})
    assert await status(broker, "j") == JobStatus.CANCELLED
    assert await broker.cancel("j") == JobStatus.CANCELLED  # already finished: unchanged


async def test_cancel_pending_job_removes_it_from_the_queue(broker: Broker) -> None:
    await submit(broker, "j")
    await broker.cancel("j")
    assert (await broker.claim(caps())).jobs == []
    with pytest.raises(NotFoundError):
        await broker.cancel("nope")


async def test_submit_is_idempotent_and_refuses_a_different_job_with_the_same_id(
    broker: Broker,
) -> None:
    first = await broker.submit(JobRequest(id="j", service_required="echo", payload={"a": [1, 2]}))
    again = await broker.submit(JobRequest(id="j", service_required="echo", payload={"a": [1, 2]}))
    assert first.created and not again.created
    with pytest.raises(DuplicateJobError, match="different payload") as info:
        await broker.submit(JobRequest(id="j", service_required="echo", payload={"a": [2]}))
    assert info.value.details["field"] == "payload"
    with pytest.raises(DuplicateJobError, match="service_required"):
        await broker.submit(JobRequest(id="j", service_required="other"))
    assert (await broker.claim(caps())).jobs[0].job.payload == {"a": [1, 2]}
    assert (await broker.claim(caps())).jobs == []  # only one job was ever queued


async def test_submit_many_validates_everything_before_writing(
    broker: Broker, redis_client: Any
) -> None:
    strict = Broker(redis_client, replace(broker.config, known_services=frozenset({"echo"})))
    with pytest.raises(UnknownServiceError, match="'nope'"):
        await strict.submit_many(
            [JobRequest(id="ok", service_required="echo"), JobRequest(service_required="nope")]
        )
    assert await strict.get("ok") is None
    results = await strict.submit_many([JobRequest(service_required="echo") for _ in range(50)])
    assert len({r.id for r in results}) == 50 and all(r.created for r in results)


async def test_events_replay_from_a_stream_id(broker: Broker) -> None:
    await submit(broker, "j")
    held = (await broker.claim(caps())).jobs[0]
    for pct in (25, 50, 75):
        await broker.progress(held.lease, pct, f"at {pct}")
    await broker.complete(held.lease, {"done": 1})
    events = await broker.read_events("j")
    assert [e.event for e in events] == [
        "job_submitted", "job_claimed", "update_job_progress", "update_job_progress",
        "update_job_progress", "complete_job",
    ]  # fmt: skip
    resumed = await broker.read_events("j", after=events[2].id)
    assert [e.data.get("progress") for e in resumed[:2]] == [50, 75]
    followed = [e async for e in broker.follow("j", after=events[3].id)]
    assert [e.event for e in followed] == ["update_job_progress", "complete_job"]
    assert followed[-1].data["result"] == {"status": "success", "data": {"done": 1}}


async def test_garbage_progress_is_refused_and_the_job_unaffected(broker: Broker) -> None:
    await submit(broker, "j")
    held = (await broker.claim(caps())).jobs[0]
    with pytest.raises(ValueError, match=r"0\.\.100"):
        await broker.progress(held.lease, 250)
    assert (await broker.get("j")).progress is None  # type: ignore[union-attr]
    await broker.complete(held.lease, {})


async def test_retention_is_per_job(broker: Broker) -> None:
    await submit(broker, "short", keep_completed_s=1)
    await submit(broker, "default")
    for _ in range(2):
        held = (await broker.claim(caps())).jobs[0]
        await broker.complete(held.lease, {})
    short_ttl = await broker.redis.pttl(broker.keys.job("short"))
    default_ttl = await broker.redis.pttl(broker.keys.job("default"))
    assert 0 < short_ttl <= 1000
    assert default_ttl > 23 * 3600 * 1000
    assert await broker.redis.pttl(broker.keys.events("short")) <= 1000


async def test_a_queued_job_has_no_event_stream_until_something_happens(broker: Broker) -> None:
    """A one-entry stream costs ~4.7 KB; a queued job stores only its hash and its queue entry."""
    await submit(broker, "j", payload={"prompt": "a small payload"})
    assert await broker.redis.exists(broker.keys.events("j")) == 0
    first = await broker.read_events("j")
    assert [(e.id, e.event) for e in first] == [("0-1", "job_submitted")]
    assert first[0].data == {"service_required": "echo", "priority": 50}
    await broker.claim(caps())
    assert await broker.redis.exists(broker.keys.events("j")) == 1
    assert [e.event for e in await broker.read_events("j")] == ["job_submitted", "job_claimed"]
    assert [e.event for e in await broker.read_events("j", after="0-1")] == ["job_claimed"]
    usage = await broker.redis.memory_usage(broker.keys.job("j"))
    assert usage is not None and usage < 1000
