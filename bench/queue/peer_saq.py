"""SAQ under the shared measurements; runs in .venvs/saq.

Worker: one `saq.Worker` per process, concurrency 10 (SAQ's default). SAQ has no bulk call: "bulk"
is concurrent `enqueue` calls under asyncio.gather (how its own `Queue.map` enqueues), bounded by
the queue's max_concurrent_ops (20)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import common
from saq import Queue, Worker

args = common.parse_args()


def queue() -> Queue:
    return Queue.from_url(args.redis_url, name=args.queue)


async def noop(ctx, **kwargs):
    return None


async def probe(ctx, **kwargs):
    common.report_start(args.redis_url)


async def enqueue_one(n: int) -> float:
    q = queue()
    await q.enqueue("noop", n=-1)
    start = asyncio.get_running_loop().time()
    for i in range(n):
        await q.enqueue("noop", **common.payload(i))
    elapsed = asyncio.get_running_loop().time() - start
    await q.disconnect()
    return elapsed


async def add_bulk(q: Queue, n: int, chunk: int = 1000) -> None:
    for first in range(0, n, chunk):
        await asyncio.gather(
            *(q.enqueue("noop", **common.payload(i)) for i in range(first, min(n, first + chunk)))
        )


async def enqueue_bulk(n: int) -> float:
    q = queue()
    await q.enqueue("noop", n=-1)
    start = asyncio.get_running_loop().time()
    await add_bulk(q, n)
    elapsed = asyncio.get_running_loop().time() - start
    await q.disconnect()
    return elapsed


async def run_worker() -> None:
    async def ready(ctx):
        common.mark_ready(args.redis_url)

    function = probe if args.probe else noop
    function.__qualname__ = function.__name__ = "noop"
    worker = Worker(queue(), functions=[function], concurrency=args.concurrency, startup=ready)
    await worker.start()


def worker_commands(count: int, probe: bool = False) -> list[list[str]]:
    command = [sys.executable, str(Path(__file__).resolve()), "worker", "--redis-url",
               args.redis_url, "--queue", args.queue, "--concurrency", str(args.concurrency)]  # fmt: skip
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
        incomplete = f"saq:{args.queue}:incomplete"
        with common.Workers(worker_commands(args.workers)) as workers:
            common.wait_ready(r, args.workers)
            out = common.drain(
                r, lambda: args.n - int(r.zcard(incomplete)), args.n, args.cap_s, pids=workers.pids
            )
        loop.run_until_complete(q.disconnect())
        common.result(**out)
    elif args.action == "latency":
        q = queue()
        with common.Workers(worker_commands(1, probe=True)):
            common.wait_ready(r, 1)
            out = common.latency(
                r, lambda i: loop.run_until_complete(q.enqueue("noop", n=i)), args.samples
            )
        loop.run_until_complete(q.disconnect())
        common.result(**out)
    elif args.action == "memory":
        q = queue()
        loop.run_until_complete(q.enqueue("noop", n=-1))
        out = common.memory_per_job(r, lambda: loop.run_until_complete(add_bulk(q, args.n)), args.n)
        loop.run_until_complete(q.disconnect())
        common.result(**out)


if __name__ == "__main__":
    main()
