"""The job metrics workers keep in Redis: buckets are inclusive upper bounds, flushes add up
across workers, and a flush that cannot reach Redis keeps its numbers for the next one."""

from __future__ import annotations

import pytest
import redis.asyncio
from prometheus_client.core import Metric
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from emprops.observability.job_metrics import JobMetricsRecorder, read_job_metrics
from emprops.queue.broker import Broker


def samples(families: list[Metric]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def at(name: str, **labels: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


async def test_two_workers_add_up_and_buckets_are_inclusive(broker: Broker) -> None:
    key = broker.keys.metrics
    first, second = JobMetricsRecorder(), JobMetricsRecorder()
    first.observe_run("echo", "completed", 0.5)  # exactly on a bound: counted in le=0.5
    first.observe_run("echo", "completed", 0.75)
    second.observe_run("echo", "completed", 7200)  # past the last bound: only in +Inf
    second.observe_wait("echo", 0.001)
    second.count_failure("echo", "Timeout")
    second.count_failure("echo", "Timeout")
    await first.flush(broker.redis, key)
    await second.flush(broker.redis, key)
    assert not first.pending and not second.pending

    got = samples(await read_job_metrics(broker.redis, key))
    run = "emprops_job_duration_seconds"
    completed = {"service": "echo", "outcome": "completed"}
    assert got[at(f"{run}_bucket", le="0.25", **completed)] == 0
    assert got[at(f"{run}_bucket", le="0.5", **completed)] == 1
    assert got[at(f"{run}_bucket", le="1.0", **completed)] == 2
    assert got[at(f"{run}_bucket", le="3600.0", **completed)] == 2
    assert got[at(f"{run}_bucket", le="+Inf", **completed)] == 3
    assert got[at(f"{run}_count", **completed)] == 3
    assert got[at(f"{run}_sum", **completed)] == pytest.approx(7201.25)
    wait = "emprops_job_queue_wait_seconds"
    assert got[at(f"{wait}_bucket", le="0.005", service="echo")] == 1
    assert got[at(f"{wait}_count", service="echo")] == 1
    assert got[at("emprops_job_failures_total", service="echo", error_class="Timeout")] == 2


async def test_a_flush_that_fails_keeps_its_numbers(broker: Broker) -> None:
    recorder = JobMetricsRecorder()
    recorder.observe_run("echo", "failed", 1.0)
    recorder.count_failure("echo", "PermanentJobError")
    unreachable = redis.asyncio.Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    with pytest.raises(redis.ConnectionError):
        await recorder.flush(unreachable, broker.keys.metrics)
    await unreachable.aclose()
    assert recorder.pending
    await recorder.flush(broker.redis, broker.keys.metrics)
    got = samples(await read_job_metrics(broker.redis, broker.keys.metrics))
    assert got[at("emprops_job_duration_seconds_count", service="echo", outcome="failed")] == 1
    failures = at("emprops_job_failures_total", service="echo", error_class="PermanentJobError")
    assert got[failures] == 1


async def test_fields_of_another_version_or_shape_are_ignored(broker: Broker) -> None:
    key = broker.keys.metrics
    await broker.redis.hset(
        key, mapping={"v0|run|echo|completed|b0": 5, "v1|run|echo|b0": 1, "v1|what|x|y": 2}
    )
    got = samples(await read_job_metrics(broker.redis, key))
    assert got == {}
