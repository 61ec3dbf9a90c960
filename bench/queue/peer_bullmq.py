"""BullMQ (the Python port) under the shared measurements; runs in .venvs/bullmq.

Worker: one `bullmq.Worker` per process with `concurrency` jobs at once; jobs keep the defaults
(completed jobs are kept, so the completed set counts them)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from urllib.parse import urlparse

import common
from bullmq import Queue, Worker

args = common.parse_args()
url = urlparse(args.redis_url)
CONNECTION = {"host": url.hostname, "port": url.port or 6379}


def queue() -> Queue:
    return Queue(args.queue, {"connection": CONNECTION})


async def enqueue_one(n: int) -> float:
    q = queue()
    await q.add("noop", common.payload(-1))  # connect and load scripts outside the clock
    start = asyncio.get_running_loop().time()
    for i in range(n):
        await q.add("noop", common.payload(i))
    elapsed = asyncio.get_running_loop().time() - start
    await q.close()
    return elapsed


async def add_bulk(q: Queue, n: int, chunk: int = 1000) -> None:
    for first in range(0, n, chunk):
        await q.addBulk(
            [
                {"name": "noop", "data": common.payload(i)}
                for i in range(first, min(n, first + chunk))
            ]
        )


async def enqueue_bulk(n: int) -> float:
    q = queue()
    await q.add("noop", common.payload(-1))
    start = asyncio.get_running_loop().time()
    await add_bulk(q, n)
    elapsed = asyncio.get_running_loop().time() - start
    await q.close()
    return elapsed


async def run_worker() -> None:
    async def noop(job, token):
        return None

    async def probe(job, token):
        common.report_start(args.redis_url)

    worker = Worker(
        args.queue, probe if args.probe else noop,
        {"connection": CONNECTION, "concurrency": args.concurrency},
    )  # fmt: skip
    common.mark_ready(args.redis_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await worker.close()


def worker_commands(count: int, probe: bool = False) -> list[list[str]]:
    command = [sys.executable, str(Path(__file__).resolve()), "worker", "--redis-url", args.redis_url,
               "--queue", args.queue, "--concurrency", str(args.concurrency)]  # fmt: skip
    return [command + (["--probe"] if probe else [])] * count


def main() -> None:
    r = common.client(args.redis_url)
    loop = asyncio.new_event_loop()
    if args.action == "worker":
        loop.run_until_complete(run_worker())
    elif args.action == "enqueue_one":
        common.result(rate=args.n / loop.run_until_complete(enqueue_one(args.n)))
    elif args.action == "enqueue_bulk":
        common.result(rate=args.n / loop.run_until_complete(enqueue_bulk(args.n)))
    elif args.action == "e2e":
        q = queue()
        loop.run_until_complete(add_bulk(q, args.n))
        completed = f"bull:{args.queue}:completed"
        with common.Workers(worker_commands(args.workers)) as workers:
            common.wait_ready(r, args.workers)
            out = common.drain(
                r, lambda: int(r.zcard(completed)), args.n, args.cap_s, pids=workers.pids
            )
        loop.run_until_complete(q.close())
        common.result(**out)
    elif args.action == "latency":
        q = queue()
        with common.Workers(worker_commands(1, probe=True)):
            common.wait_ready(r, 1)
            out = common.latency(
                r, lambda i: loop.run_until_complete(q.add("noop", common.payload(i))), args.samples
            )
        loop.run_until_complete(q.close())
        common.result(**out)
    elif args.action == "memory":
        q = queue()
        loop.run_until_complete(q.add("noop", common.payload(-1)))
        out = common.memory_per_job(r, lambda: loop.run_until_complete(add_bulk(q, args.n)), args.n)
        loop.run_until_complete(q.close())
        common.result(**out)


if __name__ == "__main__":
    main()
