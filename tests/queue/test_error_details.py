"""A failure's structured details survive into the job the broker keeps, and a later successful
attempt leaves no trace of the earlier attempt's error."""

from __future__ import annotations

import asyncio

from emprops.queue.broker import MAX_ERROR_DETAILS_BYTES, Broker, ClaimedJob
from emprops.queue.models import JobRequest, JobStatus, WorkerCapabilities

CAPS = WorkerCapabilities(worker_id="w1", services=["comfyui"])
NODE_ERRORS = {
    "reason": "invalid_graph",
    "node_errors": {"5": {"class_type": "ImageScale", "errors": [{"type": "value_not_in_list"}]}},
}


async def _claim_again(broker: Broker) -> ClaimedJob:
    """Promote the retry as soon as its backoff is over (polled: the delay is the broker's)."""
    async with asyncio.timeout(5):
        while True:
            await broker.promote_delayed()
            claimed = await broker.claim(CAPS)
            if claimed.jobs:
                return claimed.jobs[0]
            await asyncio.sleep(0.01)


async def test_permanent_failure_keeps_its_details(broker: Broker) -> None:
    await broker.submit(JobRequest(id="j", service_required="comfyui"))
    claimed = (await broker.claim(CAPS)).jobs[0]
    assert await broker.fail(claimed.lease, "bad graph", retryable=False, details=NODE_ERRORS)
    job = await broker.get("j")
    assert job is not None and job.status == JobStatus.FAILED
    assert job.error == "bad graph"
    assert job.error_details == NODE_ERRORS


async def test_success_after_a_failed_attempt_clears_error_and_details(broker: Broker) -> None:
    await broker.submit(JobRequest(id="j", service_required="comfyui"))
    first = (await broker.claim(CAPS)).jobs[0]
    details = {"reason": "service_unavailable"}
    assert await broker.fail(first.lease, "gone", retryable=True, details=details) == "retrying"
    job = await broker.get("j")
    assert job is not None and job.error == "gone" and job.error_details == details

    second = await _claim_again(broker)
    await broker.complete(second.lease, {"ok": True})
    job = await broker.get("j")
    assert job is not None and job.status == JobStatus.COMPLETED
    assert job.error is None and job.error_details is None
    assert job.retry_count == 1  # the history of the retry itself stays


async def test_failure_without_details_drops_the_previous_attempts(broker: Broker) -> None:
    await broker.submit(JobRequest(id="j", service_required="comfyui"))
    first = (await broker.claim(CAPS)).jobs[0]
    await broker.fail(first.lease, "one", retryable=True, details={"reason": "timeout"})
    second = await _claim_again(broker)
    await broker.fail(second.lease, "two", retryable=False)
    job = await broker.get("j")
    assert job is not None and job.error == "two" and job.error_details is None


async def test_huge_details_are_cut_to_their_scalars(broker: Broker) -> None:
    await broker.submit(JobRequest(id="j", service_required="comfyui"))
    claimed = (await broker.claim(CAPS)).jobs[0]
    details = {"reason": "execution_error", "node_id": "2", "traceback": ["x" * 1000] * 100}
    await broker.fail(claimed.lease, "boom", retryable=False, details=details)
    job = await broker.get("j")
    assert job is not None
    assert job.error_details == {"reason": "execution_error", "node_id": "2", "truncated": True}
    assert len(str(details)) > MAX_ERROR_DETAILS_BYTES
