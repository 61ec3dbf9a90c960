"""What every library's benchmark script shares: the measurements, done the same way for all.

Imported by the per-library scripts, each running in its own virtual environment, so it needs only
the standard library and a synchronous redis-py client (every environment has one).

Conventions (one Redis, FLUSHALL between measurements, done by run.py):
- a worker process signals it is ready with INCR bench:ready (from its library's startup hook);
- a latency handler pushes time.time() at its first line to the list bench:started;
- a script prints its result as one line `RESULT {json}` on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

READY_KEY = "bench:ready"
STARTED_KEY = "bench:started"
HERE = Path(__file__).resolve().parent


ACTIONS = ("enqueue_one", "enqueue_bulk", "e2e", "latency", "memory", "worker")


def parse_args(
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
    more_actions: tuple[str, ...] = (),
) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=[*ACTIONS, *more_actions])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--queue", default="bench")
    parser.add_argument("--n", type=int, default=1000, help="jobs")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--samples", type=int, default=100, help="latency samples")
    parser.add_argument("--cap-s", type=float, default=8.0, help="longest e2e window")
    parser.add_argument("--concurrency", type=int, default=10, help="jobs at once per worker")
    parser.add_argument("--poll", type=float, default=0.5, help="poll interval (arq)")
    parser.add_argument("--probe", action="store_true", help="worker: report handler start")
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def result(**values: Any) -> None:
    print("RESULT " + json.dumps(values), flush=True)


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def payload(i: int) -> dict[str, Any]:
    """The same small job payload for every library."""
    return {"n": i}


# --- worker side -------------------------------------------------------------------------------

_probe_client: redis.Redis | None = None


def mark_ready(url: str) -> None:
    client(url).incr(READY_KEY)


def report_start(url: str) -> None:
    """First line of a latency handler: the wall-clock time the handler began."""
    started = time.time()
    global _probe_client
    if _probe_client is None:
        _probe_client = client(url)
    _probe_client.rpush(STARTED_KEY, repr(started))


# --- driver side -------------------------------------------------------------------------------


class Workers:
    """Worker processes, each in its own process group (Celery's prefork children included)."""

    def __init__(self, commands: list[list[str]], env: dict[str, str] | None = None) -> None:
        self.commands = commands
        self.env = {**os.environ, **(env or {})}
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Workers:
        for command in self.commands:
            self.processes.append(
                subprocess.Popen(
                    command,
                    env=self.env,
                    cwd=HERE,
                    stdout=subprocess.DEVNULL,
                    stderr=sys.stderr if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        return self

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def __exit__(self, *_exc: object) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 2  # nothing left to finish: the next step flushes Redis
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_ready(r: redis.Redis, count: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while int(r.get(READY_KEY) or 0) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} workers not ready after {timeout_s} s")
        time.sleep(0.01)


def drain(
    r: redis.Redis,
    done: Callable[[], int],
    n: int,
    cap_s: float,
    *,
    poll_calls: int = 1,
    pids: list[int] | None = None,
) -> dict[str, Any]:
    """Throughput once every worker is ready: jobs finished in the window / the window.

    The window ends when all n jobs are finished or after cap_s, whichever is first. Redis's own
    statistics over the window give what each job cost the server (less what the `poll_calls`
    commands of each done() check cost); the CPU time of the worker processes (`pids` and the
    process groups they lead) gives what each job cost the workers."""
    r.config_resetstat()
    cpu0 = redis_cpu_s(r)
    workers_cpu0 = processes_cpu_s(pids or [])
    before = done()
    t0 = time.perf_counter()
    count, t, polls = before, t0, 1
    while count < n and t - t0 < cap_s:
        time.sleep(0.005)
        count, t = done(), time.perf_counter()
        polls += 1
    window = t - t0
    cpu = redis_cpu_s(r) - cpu0
    workers_cpu = processes_cpu_s(pids or []) - workers_cpu0
    jobs = count - before
    stats = r.info("commandstats")
    commands = sum(int(v["calls"]) for v in stats.values()) - polls * poll_calls - 3
    scripts = sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_eval"))
    return {
        "rate": jobs / window if window > 0 else 0.0,
        "done_before_ready": before,
        "done_in_window": jobs,
        "window_s": round(window, 3),
        # every command Redis ran, those inside Lua scripts included
        "redis_commands_per_job": commands / jobs if jobs else None,
        "redis_scripts_per_job": scripts / jobs if jobs else None,
        "redis_cpu_us_per_job": cpu * 1e6 / jobs if jobs else None,
        "worker_cpu_us_per_job": workers_cpu * 1e6 / jobs if jobs and pids else None,
    }


def processes_cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of these processes and of the process groups they lead (Celery's
    prefork children), read from /proc."""
    if not pids:
        return 0.0
    wanted, total = set(pids), 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # after the command: state ppid pgrp session ... utime(11) stime(12) from here
        if int(entry.name) in wanted or int(fields[2]) in wanted:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def redis_cpu_s(r: redis.Redis) -> float:
    cpu = r.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def latency(
    r: redis.Redis,
    enqueue: Callable[[int], None],
    samples: int,
    *,
    warmup: int = 5,
    gap_s: float = 0.02,
    timeout_s: float = 10.0,
    starts: list[float] | None = None,
) -> dict[str, Any]:
    """Enqueue one job at a time to an idle worker; latency = handler start - time before enqueue.
    The handler start times of the measured jobs are appended to `starts` when given."""
    r.delete(STARTED_KEY)
    values = []
    for i in range(warmup + samples):
        time.sleep(gap_s)  # let the worker finish the last job and wait idle again
        before = time.time()
        enqueue(i)
        item = r.blpop([STARTED_KEY], timeout=timeout_s)
        if item is None:
            raise TimeoutError(f"handler did not start within {timeout_s} s")
        if i >= warmup:
            values.append((float(item[1]) - before) * 1000)
            if starts is not None:
                starts.append(float(item[1]))
    return latency_summary(values)


def latency_summary(values_ms: list[float]) -> dict[str, Any]:
    values = sorted(values_ms)
    return {
        "p50_ms": statistics.median(values),
        "p99_ms": percentile(values, 99),
        "samples": len(values),
    }


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * pct // 100))
    return sorted_values[int(rank) - 1]


_PUBLISHER = """
import sys, time, redis
r = redis.Redis.from_url(sys.argv[1])
time.sleep(0.2)
for _ in range(int(sys.argv[2])):
    time.sleep(0.01)
    r.publish("bench:hop", repr(time.time()))
"""


def pubsub_hop_ms(url: str, samples: int = 100) -> float:
    """Median time from just before a PUBLISH in one process to its arrival in another: the floor
    of one trip through Redis between two processes on this machine (a wake-up costs one)."""
    pubsub = client(url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("bench:hop")
    publisher = subprocess.Popen([sys.executable, "-c", _PUBLISHER, url, str(samples)])
    values: list[float] = []
    deadline = time.monotonic() + 10 + samples * 0.02
    while len(values) < samples and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1.0)  # None for the subscribe confirmation too
        if message is not None:
            values.append((time.time() - float(message["data"])) * 1000)
    publisher.wait()
    pubsub.close()
    return statistics.median(values)


def used_memory(r: redis.Redis) -> int:
    return int(r.info("memory")["used_memory"])


def memory_per_job(r: redis.Redis, enqueue_all: Callable[[], None], n: int) -> dict[str, Any]:
    before = used_memory(r)
    enqueue_all()
    after = used_memory(r)
    return {"bytes_per_job": (after - before) / n, "jobs": n}
