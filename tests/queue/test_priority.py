"""One priority formula: higher P first, then older T, then submission order; exact in a double."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emprops.queue.broker import Broker
from emprops.queue.models import JobRequest, WorkerCapabilities

CAPS = WorkerCapabilities(worker_id="w", services=["echo"])


async def drain(broker: Broker) -> list[str]:
    order = []
    while (result := await broker.claim(CAPS)).jobs:
        order.append(result.jobs[0].job.id)
    return order


def score(p: int, t: int) -> int:
    return (1000 - p) * 2**43 + t


async def test_score_is_exact_at_the_extremes(broker: Broker) -> None:
    cases = {"hi-old": (1000, 0), "hi-new": (1000, 2**43 - 1), "lo-new": (0, 2**43 - 1)}
    for job_id, (p, t) in cases.items():
        await broker.submit(
            JobRequest(id=job_id, service_required="echo", priority=p, workflow_datetime=t)
        )
        stored = await broker.redis.hget(broker.keys.job(job_id), "qscore")
        assert int(stored) == score(p, t) < 2**53
    assert await drain(broker) == ["hi-old", "hi-new", "lo-new"]


async def test_priority_then_age_then_submission_order(broker: Broker) -> None:
    await broker.submit(JobRequest(id="low", service_required="echo", priority=10))
    for i in range(5):  # same priority, same millisecond is likely: submission order decides
        await broker.submit(JobRequest(id=f"mid-{i}", service_required="echo", priority=50))
    await broker.submit(JobRequest(id="high", service_required="echo", priority=90))
    await broker.submit(
        JobRequest(id="mid-older", service_required="echo", priority=50, workflow_datetime=1)
    )
    assert await drain(broker) == ["high", "mid-older", *[f"mid-{i}" for i in range(5)], "low"]


async def test_workflow_steps_inherit_the_workflows_place(broker: Broker) -> None:
    await broker.submit(JobRequest(id="a1", service_required="echo", workflow_id="A"))
    await asyncio.sleep(0.005)
    await broker.submit(JobRequest(id="b1", service_required="echo", workflow_id="B"))
    # A's second step arrives later, at a higher own priority; it inherits A's priority and time.
    await broker.submit(JobRequest(id="a2", service_required="echo", workflow_id="A", priority=99))
    assert await drain(broker) == ["a1", "a2", "b1"]
    a2 = await broker.get("a2")
    assert a2 is not None and a2.workflow_priority == 50


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 2**43 - 1)), min_size=1, max_size=12)
)
def test_claim_order_is_the_sorted_order(broker_factory_sync, jobs: list[tuple[int, int]]) -> None:  # type: ignore[no-untyped-def]
    async def run() -> list[str]:
        broker = await broker_factory_sync()
        for i, (p, t) in enumerate(jobs):
            await broker.submit(
                JobRequest(id=f"j{i}", service_required="echo", priority=p, workflow_datetime=t)
            )
        order = await drain(broker)
        await broker.redis.aclose()
        return order

    expected = [
        f"j{i}" for i, _ in sorted(enumerate(jobs), key=lambda x: (-x[1][0], x[1][1], x[0]))
    ]
    assert asyncio.run(run()) == expected


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["echo", "render"]), st.integers(0, 3), st.booleans()),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 7),
)
def test_paged_merge_across_services_claims_in_global_order(  # type: ignore[no-untyped-def]
    broker_factory_sync, jobs: list[tuple[str, int, bool]], batch: int
) -> None:
    """Candidates are read in pages per service and merged; skipped and claimed entries shift the
    pages under the cursor. The claimed order must still be the global order of matching jobs."""
    caps = WorkerCapabilities(worker_id="w", services=["echo", "render"])

    async def run() -> tuple[list[str], int]:
        broker = await broker_factory_sync()
        for i, (service, priority, runnable) in enumerate(jobs):
            await broker.submit(
                JobRequest(
                    id=f"j{i}", service_required=service, priority=priority * 10,
                    requirements=None if runnable else {"gpu_memory_gb": 80},
                )
            )  # fmt: skip
        order: list[str] = []
        while (result := await broker.claim(caps, count=batch)).jobs:
            order += [claimed.job.id for claimed in result.jobs]
        left = sum([await broker.redis.zcard(broker.keys.pending(s)) for s in ("echo", "render")])
        await broker.redis.aclose()
        return order, left

    matching = [(i, p) for i, (_, p, runnable) in enumerate(jobs) if runnable]
    expected = [f"j{i}" for i, _ in sorted(matching, key=lambda x: (-x[1], x[0]))]
    order, left = asyncio.run(run())
    assert order == expected
    assert left == len(jobs) - len(matching)
