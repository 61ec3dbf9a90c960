"""Job metrics kept in Redis: workers add them up, the API's /metrics reads them.

Why not a /metrics port per worker: workers are many short-lived processes on machines the
operator's Prometheus may not reach (spot GPU boxes behind NAT). Each worker instead adds its
observations (histogram buckets, counters) into one Redis hash per queue every heartbeat, in one
MULTI/EXEC; any API process renders the fleet-wide totals at scrape time, so every API replica
reports the same numbers. A worker killed outright loses at most its last unflushed period.
The hash lives under the queue's key prefix (one hash slot, Redis Cluster safe).
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # workers record without loading prometheus_client; the API reads with it
    from prometheus_client.core import Metric

# Changing a boundary changes what stored counts mean: bump the field version with it.
WAIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                300.0, 900.0, 3600.0)  # fmt: skip
RUN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
               300.0, 600.0, 1800.0, 3600.0)  # fmt: skip
_VERSION = "v1"
_SEP = "|"  # service names and outcomes never contain it; error classes are Python identifiers

# What became of an attempt, as the `outcome` label says it.
OUTCOMES = ("completed", "retrying", "failed", "cancelled", "lease_lost", "released", "unreported")


class JobMetricsRecorder:
    """A worker's observations since its last flush (plain counters: no I/O on the job path)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._sums: defaultdict[str, float] = defaultdict(float)

    def observe_wait(self, service: str, seconds: float) -> None:
        """Submit → first claim, from the broker's clock."""
        self._observe(_field("wait", service), WAIT_BUCKETS, seconds)

    def observe_run(self, service: str, outcome: str, seconds: float) -> None:
        """One attempt, from claim to its report, by what became of it."""
        self._observe(_field("run", service, outcome), RUN_BUCKETS, seconds)

    def count_failure(self, service: str, error_class: str) -> None:
        self._counts[_field("fail", service, error_class)] += 1

    def _observe(self, series: str, buckets: tuple[float, ...], value: float) -> None:
        value = max(0.0, value)
        index = bisect.bisect_left(buckets, value)  # le is inclusive; len(buckets) is +Inf
        self._counts[f"{series}{_SEP}b{index}"] += 1
        self._sums[f"{series}{_SEP}sum"] += value

    @property
    def pending(self) -> bool:
        return bool(self._counts)

    async def flush(self, redis: Any, key: str) -> None:
        """Add what was observed into the shared hash, all or nothing. On failure the numbers
        are kept for the next flush."""
        if not self._counts:
            return
        counts, sums = self._counts, self._sums
        self._counts, self._sums = Counter(), defaultdict(float)
        try:
            pipe = redis.pipeline(transaction=True)
            for field, count in counts.items():
                pipe.hincrby(key, field, count)
            for field, total in sums.items():
                pipe.hincrbyfloat(key, field, total)
            await pipe.execute()
        except BaseException:
            self._counts.update(counts)
            for field, total in sums.items():
                self._sums[field] += total
            raise


def _field(kind: str, *labels: str) -> str:
    return _SEP.join((_VERSION, kind, *labels))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class _Histogram:
    def __init__(self, size: int) -> None:
        self.buckets = [0] * (size + 1)  # per bucket, not cumulative; the last is +Inf
        self.sum = 0.0


async def read_job_metrics(redis: Any, key: str) -> list[Metric]:
    """The stored job metrics as Prometheus families (cumulative buckets, as Prometheus wants)."""
    from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

    raw = await redis.hgetall(key)
    waits: dict[tuple[str, ...], _Histogram] = {}
    runs: dict[tuple[str, ...], _Histogram] = {}
    failures: dict[tuple[str, ...], float] = {}
    for name, value in raw.items():
        parts = _text(name).split(_SEP)
        if len(parts) < 3 or parts[0] != _VERSION:
            continue
        kind, rest = parts[1], parts[2:]
        if kind == "fail" and len(rest) == 2:
            failures[tuple(rest)] = float(_text(value))
            continue
        if kind == "wait" and len(rest) == 2:
            series, size, labels = waits, len(WAIT_BUCKETS), tuple(rest[:1])
        elif kind == "run" and len(rest) == 3:
            series, size, labels = runs, len(RUN_BUCKETS), tuple(rest[:2])
        else:
            continue
        histogram = series.setdefault(labels, _Histogram(size))
        slot = rest[-1]
        if slot == "sum":
            histogram.sum = float(_text(value))
        elif slot.startswith("b") and slot[1:].isdigit() and int(slot[1:]) <= size:
            histogram.buckets[int(slot[1:])] = int(_text(value))

    wait_family = HistogramMetricFamily(
        "emprops_job_queue_wait_seconds",
        "Time from submission to the first claim by a worker, by service.",
        labels=["service"],
    )
    for labels, histogram in sorted(waits.items()):
        wait_family.add_metric(list(labels), _cumulative(histogram, WAIT_BUCKETS), histogram.sum)
    run_family = HistogramMetricFamily(
        "emprops_job_duration_seconds",
        "Time a worker spent on one attempt (claim to report), by service and outcome.",
        labels=["service", "outcome"],
    )
    for labels, histogram in sorted(runs.items()):
        run_family.add_metric(list(labels), _cumulative(histogram, RUN_BUCKETS), histogram.sum)
    failure_family = CounterMetricFamily(
        "emprops_job_failures",
        "Failed attempts (retried or final), by service and error class.",
        labels=["service", "error_class"],
    )
    for labels, count in sorted(failures.items()):
        failure_family.add_metric(list(labels), count)
    return [wait_family, run_family, failure_family]


def _cumulative(histogram: _Histogram, bounds: tuple[float, ...]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    running = 0
    for bound, count in zip(bounds, histogram.buckets, strict=False):
        running += count
        out.append((_bound_text(bound), running))
    out.append(("+Inf", running + histogram.buckets[-1]))  # also the series' _count
    return out


def _bound_text(bound: float) -> str:
    return repr(float(bound))
