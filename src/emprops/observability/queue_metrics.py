"""Queue gauges computed from Redis at scrape time: depth by service and state, live workers.

Nothing is kept in the API process, so every API replica reports the same numbers and a restart
loses nothing. Pending depth per service is exact (one ZCARD each). Active, delayed and dead jobs
are kept in one set per state, not per service: the service of each is looked up (pipelined),
for at most `scan_limit` of them per state; the rest, and jobs whose record already expired,
count under the service `unknown`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from emprops.queue.broker import Broker

UNKNOWN_SERVICE = "unknown"
DEFAULT_SCAN_LIMIT = 10_000


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def queue_metrics(broker: Broker, scan_limit: int = DEFAULT_SCAN_LIMIT) -> list[Metric]:
    redis, keys = broker.redis, broker.keys
    services = sorted(_text(s) for s in await redis.smembers(keys.services))
    pipe = redis.pipeline(transaction=False)
    for service in services:
        pipe.zcard(keys.pending(service))
    states = {"active": keys.active, "delayed": keys.delayed, "dead": keys.dead}
    for key in states.values():
        pipe.zcard(key)
        pipe.zrange(key, 0, scan_limit - 1)
    replies = await pipe.execute()
    pending = dict(zip(services, (int(n) for n in replies[: len(services)]), strict=True))
    rest = replies[len(services) :]

    depth = GaugeMetricFamily(
        "emprops_queue_jobs",
        "Jobs in the queue now, by service and state (pending, active, delayed, dead).",
        labels=["service", "state"],
    )
    for service, count in pending.items():
        depth.add_metric([service, "pending"], count)
    for i, state in enumerate(states):
        total, members = int(rest[2 * i]), [_text(m) for m in rest[2 * i + 1]]
        by_service = await _services_of(broker, members)
        by_service[UNKNOWN_SERVICE] += total - sum(by_service.values())
        for service, count in sorted(by_service.items()):
            if count or service != UNKNOWN_SERVICE:
                depth.add_metric([service, state], count)

    workers = await broker.live_workers()
    states_count = Counter(w.status for w in workers)
    worker_family = GaugeMetricFamily(
        "emprops_workers",
        "Live workers (heartbeat within the worker TTL), by state: busy runs a job, idle waits.",
        labels=["state"],
    )
    for state in sorted({"busy", "idle", *states_count}):
        worker_family.add_metric([state], states_count.get(state, 0))
    running = GaugeMetricFamily(
        "emprops_worker_running_jobs", "Jobs the live workers report running now."
    )
    running.add_metric([], sum(w.jobs for w in workers))
    unworkable = GaugeMetricFamily(
        "emprops_queue_unworkable_jobs",
        "Pending jobs (of those a claim would scan) that no live worker can run.",
    )
    unworkable.add_metric([], len(await broker.unworkable()))
    return [depth, worker_family, running, unworkable]


async def _services_of(broker: Broker, job_ids: list[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    if not job_ids:
        return found
    pipe = broker.redis.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hget(broker.keys.job(job_id), "service_required")
    for service in await pipe.execute():
        if service is not None:
            found[_text(service)] += 1
    return found
