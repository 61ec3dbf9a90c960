"""Our broker and worker under the shared measurements; runs in the project environment.

Worker: the real `emprops worker --services echo --concurrency N` processes (LocalWorkerPool); the
echo connector with a small payload is a no-op. The latency measurement runs the same CLI with a
`probe` connector added (ours_worker.py). Besides the shared measurements:
- `claim`: latency of `Broker.claim` from Python with a given number of pending jobs of mixed
  services and requirements, and its time inside Redis (SLOWLOG);
- `profile`: the end-to-end run with py-spy sampling the worker process."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import common

from emprops.core.redis_connection import RedisEndpoint
from emprops.queue.broker import Broker, BrokerConfig
from emprops.queue.keys import QueueKeys
from emprops.queue.models import JobRequest, WorkerCapabilities
from emprops.queue.scripts import ScriptName
from emprops.worker.local_pool import LocalWorkerPool

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
PY_SPY = HERE / ".venvs" / "tools" / "bin" / "py-spy"


def extra_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--depth", type=int, default=1000, help="claim: pending jobs")
    parser.add_argument("--claims", type=int, default=300, help="claim: timed claims")
    parser.add_argument("--profile-out", type=Path, help="profile: raw py-spy output file")


args = common.parse_args(extra_args, more_actions=("claim", "profile"))
keys = QueueKeys(args.queue)


def broker() -> Broker:
    return Broker(RedisEndpoint(args.redis_url).async_client(), BrokerConfig(queue=args.queue))


def echo_job(i: int) -> JobRequest:
    return JobRequest(service_required="echo", payload=common.payload(i))


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def enqueue_one(n: int) -> float:
    b = broker()
    await b.submit(echo_job(-1))  # connect and load the script outside the clock
    start = time.perf_counter()
    for i in range(n):
        await b.submit(echo_job(i))
    elapsed = time.perf_counter() - start
    await b.redis.aclose()
    return elapsed


async def add_bulk(
    b: Broker, n: int, chunk: int = 1000, make: Callable[[int], JobRequest] = echo_job
) -> None:
    for first in range(0, n, chunk):
        await b.submit_many([make(i) for i in range(first, min(n, first + chunk))])


async def enqueue_bulk(n: int) -> float:
    b = broker()
    await b.submit(echo_job(-1))
    start = time.perf_counter()
    await add_bulk(b, n)
    elapsed = time.perf_counter() - start
    await b.redis.aclose()
    return elapsed


def worker_env(data_dir: str) -> dict[str, str]:
    return {
        "EMPROPS_REDIS_URL": args.redis_url,
        "EMPROPS_QUEUE_NAME": args.queue,
        "EMPROPS_DATA_DIR": data_dir,
        "EMPROPS_LOG_LEVEL": "WARNING",
    }


def wait_workers(r: Any, count: int, timeout_s: float = 60.0) -> None:
    """Our workers register in the workers set on their first heartbeat, before claiming."""
    deadline = time.monotonic() + timeout_s
    while int(r.zcard(keys.workers)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} workers not registered after {timeout_s} s")
        time.sleep(0.01)


async def pre_enqueue(n: int) -> None:
    b = broker()
    await add_bulk(b, n)
    await b.redis.aclose()


def e2e(r: Any, profile_out: Path | None = None) -> dict[str, Any]:
    run(pre_enqueue(args.n))
    with tempfile.TemporaryDirectory() as data_dir:
        pool = LocalWorkerPool(
            ["echo"], args.workers, concurrency=args.concurrency, env=worker_env(data_dir)
        )
        with pool:
            wait_workers(r, args.workers)
            spy = None
            if profile_out is not None:
                pid = pool.processes[0].pid  # type: ignore[union-attr]
                spy = subprocess.Popen(
                    [str(PY_SPY), "record", "--pid", str(pid), "--rate", "250", "--nonblocking", "--threads",
                     "--format", "raw", "--output", str(profile_out),
                     "--duration", str(max(1, int(args.cap_s)))],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                time.sleep(0.3)  # py-spy attaches
            pids = [p.pid for p in pool.processes if p is not None]
            out = common.drain(r, lambda: int(r.zcard(keys.done)), args.n, args.cap_s, pids=pids)
            if spy is not None:
                spy.wait(timeout=args.cap_s + 30)
    return out


def latency(r: Any) -> dict[str, Any]:
    """The shared measurement, plus where the time goes, from the job hash's Redis-clock times
    (ms): before submit -> created_at (submit reaches Redis) -> assigned_at (the worker woke up
    and its claim ran) -> handler start (claim reply decoded, task started). Means, since the
    hash's times have 1 ms resolution."""
    b = broker()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(b.submit(JobRequest(service_required="probe")))
    loop.run_until_complete(b.redis.delete(keys.pending("probe")))  # script loaded, queue empty
    command = [sys.executable, str(HERE / "ours_worker.py"), "--services", "probe",
               "--concurrency", str(args.concurrency)]  # fmt: skip
    submitted: list[tuple[str, float]] = []

    def submit(i: int) -> None:
        before = time.time()
        job = loop.run_until_complete(
            b.submit(JobRequest(service_required="probe", payload=common.payload(i)))
        )
        submitted.append((job.id, before))

    starts: list[float] = []
    with tempfile.TemporaryDirectory() as data_dir, common.Workers([command], worker_env(data_dir)):
        wait_workers(r, 1)
        out = common.latency(r, submit, args.samples, starts=starts)
    legs: dict[str, list[float]] = {"submit_to_created": [], "created_to_claimed": [],
                                    "claimed_to_handler": []}  # fmt: skip
    for (job_id, before), started in zip(submitted[-len(starts) :], starts, strict=True):
        created, assigned = (int(x) for x in r.hmget(keys.job(job_id), "created_at", "assigned_at"))
        legs["submit_to_created"].append(created - before * 1000)
        legs["created_to_claimed"].append(assigned - created)
        legs["claimed_to_handler"].append(started * 1000 - assigned)
    loop.run_until_complete(b.redis.aclose())
    loop.close()
    return {
        **out,
        "legs_mean_ms": {k: sum(v) / len(v) for k, v in legs.items()},
        "pubsub_hop_ms": common.pubsub_hop_ms(args.redis_url),
    }


# --- claim ------------------------------------------------------------------------------------

CAPS = WorkerCapabilities.model_validate(
    {
        "worker_id": "bench-claimer",
        "services": ["echo", "render"],
        "hardware": {"gpu_memory_gb": 16, "gpu_model": "T4", "cpu_cores": 8},
        "models": {"echo": ["sdxl-base"], "render": ["sdxl-base", "flux-dev"]},
        "features": {"controlnet": {"enabled": True, "version": 2}},
    }
)
# Jobs this worker must skip, ranked above everything else (priority 100).
SKIPPED = [
    {"positive_requirements": {"hardware": {"gpu_memory_gb": 48}}},
    {"positive_requirements": {"models": ["flux-pro"]}},
    {"negative_requirements": {"gpu_model": "T4"}},
    {"positive_requirements": {"features": {"controlnet": {"version": 3}}}},
]
HEAD_SKIPPED = 20


def mixed_job(i: int) -> JobRequest:
    """The bulk: matching echo and render jobs with requirements, and comfyui jobs (a service this
    worker does not run, in a pending set it never reads)."""
    kind = i % 10
    if kind < 4:
        return JobRequest(service_required="echo", payload=common.payload(i), requirements={
            "positive_requirements": {"hardware": {"gpu_memory_gb": 8}, "models": ["sdxl-base"]},
            "negative_requirements": {"gpu_model": "A10"}})  # fmt: skip
    if kind < 7:
        return JobRequest(service_required="render", payload=common.payload(i), requirements={
            "positive_requirements": {"features": {"controlnet": {"enabled": True}}}})  # fmt: skip
    return JobRequest(service_required="comfyui", payload=common.payload(i),
                      requirements={"positive_requirements": {"hardware": {"gpu_memory_gb": 24}}})  # fmt: skip


def skipped_job(i: int) -> JobRequest:
    return JobRequest(service_required="echo", priority=100, payload=common.payload(i),
                      requirements=SKIPPED[i % len(SKIPPED)])  # fmt: skip


async def claim_bench(r: Any) -> dict[str, Any]:
    b = broker()
    await add_bulk(b, HEAD_SKIPPED, make=skipped_job)
    await add_bulk(b, args.depth - HEAD_SKIPPED, chunk=2000, make=mixed_job)
    await b.claim(CAPS)  # load the script; then keep the depth constant with one new job per claim
    await b.submit(mixed_job(0))
    claim_sha = b._scripts[ScriptName.CLAIM].sha
    r.config_set("slowlog-log-slower-than", 0)
    r.config_set("slowlog-max-len", 4 * args.claims + 100)
    r.slowlog_reset()
    times, scanned = [], Counter[int]()
    for i in range(args.claims):
        start = time.perf_counter()
        result = await b.claim(CAPS)
        times.append((time.perf_counter() - start) * 1000)
        scanned[result.scanned] += 1
        if not result.jobs:
            raise RuntimeError(f"claim {i} found no job (scanned {result.scanned})")
        await b.submit(mixed_job(i + 1))
    inside = [
        entry["duration"] / 1000
        for entry in r.slowlog_get(4 * args.claims + 100)
        if len(entry["command"].split()) > 1 and entry["command"].split()[1].decode() == claim_sha
    ]
    page_us = {f"zrange{size}_us": script_us(r, ZRANGE_PAGE.format(last=size - 1), keys.pending("echo"))
               for size in (100, 16)}  # fmt: skip
    r.config_set("slowlog-log-slower-than", 10000)
    pending = sum(
        [int(await b.redis.zcard(keys.pending(s))) for s in ("echo", "render", "comfyui")]
    )
    await b.redis.aclose()
    summary = common.latency_summary(times)
    redis_side = common.latency_summary(inside) if inside else {}
    return {
        "depth": args.depth,
        "pending_after": pending,
        "p50_ms": summary["p50_ms"],
        "p99_ms": summary["p99_ms"],
        "claims_per_s": len(times) / (sum(times) / 1000),
        "redis_p50_ms": redis_side.get("p50_ms"),
        "redis_p99_ms": redis_side.get("p99_ms"),
        "scanned": dict(scanned),
        **page_us,
        "used_memory_mb": common.used_memory(r) / 2**20,
    }


ZRANGE_PAGE = "return #redis.call('ZRANGE', KEYS[1], 0, {last}, 'WITHSCORES')"


def script_us(r: Any, script: str, key: str, runs: int = 200) -> float:
    """Median time inside Redis (SLOWLOG, µs) of a one-key script: what one step of the claim
    costs on the same pending set."""
    sha = r.script_load(script)
    r.slowlog_reset()
    for _ in range(runs):
        r.evalsha(sha, 1, key)
    durations = sorted(
        entry["duration"]
        for entry in r.slowlog_get(runs + 10)
        if len(entry["command"].split()) > 1 and entry["command"].split()[1].decode() == sha
    )
    return float(durations[len(durations) // 2])


# --- profile ----------------------------------------------------------------------------------


def summarize_profile(path: Path, top: int = 15) -> dict[str, Any]:
    """Where the worker's main thread spends its time, from py-spy's raw output (`thread (...);
    frame;frame;... count`, frames as `function (file:line)`, idle samples left out).

    py-spy samples without pausing the worker (pausing halved its throughput here), so a stack can
    be torn: self time and packages come from each sample's innermost frame, which is reliable;
    inclusive time only from the samples whose stack reaches the program's entry. Frames present
    in nearly all of those (the entry, the event loop's run) are left out: they say nothing."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = whole = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = stack.split(";")
        if not frames or "MainThread" not in frames[0]:
            continue  # the heartbeat thread and the thread pool: idle, or not the hot path
        frames = [f for f in frames[1:] if f and not f.startswith("process ")]
        if not frames:
            continue
        count = int(count_text)
        total += count
        names = [function_name(f) for f in frames]
        self_time[names[-1]] += count
        packages[package_of(frames[-1])] += count
        if frames[0].startswith("<module>") or "runpy" in frames[0]:
            whole += count
            for name in set(names):
                inclusive[name] += count
    inclusive = Counter({k: v for k, v in inclusive.items() if v < 0.9 * whole})

    def pct(counter: Counter[str], of: int) -> list[tuple[str, float]]:
        return [(k, round(100 * v / of, 1)) for k, v in counter.most_common(top)] if of else []

    return {
        "samples": total,
        "whole_stacks": whole,
        "self": pct(self_time, total),
        "inclusive": pct(inclusive, whole),
        "packages": pct(packages, total),
    }


def function_name(frame: str) -> str:
    """`claim (emprops/queue/broker.py:213)` -> `claim (emprops/queue/broker.py)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rstrip(')').rsplit(':', 1)[0]})"


PACKAGES = (
    ("emprops/", "emprops (ours)"),
    ("redis/", "redis-py"),
    ("hiredis", "redis-py"),
    ("pydantic", "pydantic"),
    ("structlog/", "structlog"),
    ("selectors.py", "event loop: waiting in epoll"),
    ("asyncio/selector_events.py", "event loop: socket send/recv"),
    ("asyncio/", "event loop: asyncio"),
)


def package_of(leaf: str) -> str:
    """Whose code a sample's innermost frame is in."""
    where = leaf.partition(" (")[2]
    for prefix, label in PACKAGES:
        if where.startswith(prefix) or f"/{prefix}" in where:
            return label
    return "other: " + function_name(leaf)


def main() -> None:
    r = common.client(args.redis_url)
    if args.action == "enqueue_one":
        common.result(rate=args.n / run(enqueue_one(args.n)))
    elif args.action == "enqueue_bulk":
        common.result(rate=args.n / run(enqueue_bulk(args.n)))
    elif args.action == "e2e":
        common.result(**e2e(r))
    elif args.action == "latency":
        common.result(**latency(r))
    elif args.action == "memory":
        b = broker()
        loop = asyncio.new_event_loop()
        loop.run_until_complete(b.submit(echo_job(-1)))
        out = common.memory_per_job(r, lambda: loop.run_until_complete(add_bulk(b, args.n)), args.n)
        job_id = r.zrange(keys.pending("echo"), -1, -1)[0].decode().split("|", 1)[1]
        out["job_hash_bytes"] = r.memory_usage(keys.job(job_id))
        out["events_stream_bytes"] = r.memory_usage(keys.events(job_id))
        loop.run_until_complete(b.redis.aclose())
        common.result(**out)
    elif args.action == "claim":
        common.result(**run(claim_bench(r)))
    elif args.action == "profile":
        if not PY_SPY.exists():
            common.result(skip=f"py-spy not installed at {PY_SPY}")
            return
        out_file = args.profile_out or Path(tempfile.mkstemp(suffix=".txt")[1])
        out = e2e(r, profile_out=out_file)
        common.result(**out, profile=summarize_profile(out_file))
        if args.profile_out is None:
            os.unlink(out_file)
    else:
        raise SystemExit(f"{args.action} is not an action of ours.py")


if __name__ == "__main__":
    main()
