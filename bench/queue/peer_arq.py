"""arq under the shared measurements; runs in .venvs/arq (arq needs redis<6).

Worker: one `arq.worker.Worker` per process, `max_jobs` = --concurrency, polling the queue every
--poll seconds (arq's default is 0.5 s; 0.05 s is the low-latency setting). arq has no bulk
enqueue call. A job stays in arq's queue sorted set until it finishes, so finished = N - ZCARD."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from urllib.parse import urlparse

import common
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker, func

args = common.parse_args()
url = urlparse(args.redis_url)
SETTINGS = RedisSettings(host=url.hostname or "127.0.0.1", port=url.port or 6379)


async def noop(ctx, **kwargs):
    return None


async def probe(ctx, **kwargs):
    common.report_start(args.redis_url)


async def pool():
    return await create_pool(SETTINGS, default_queue_name=args.queue)


async def enqueue_one(n: int) -> float:
    redis = await pool()
    await redis.enqueue_job("noop", n=-1)
    start = asyncio.get_running_loop().time()
    for i in range(n):
        await redis.enqueue_job("noop", **common.payload(i))
    elapsed = asyncio.get_running_loop().time() - start
    await redis.aclose()
    return elapsed


async def add_all(n: int) -> None:
    redis = await pool()
    for i in range(n):
        await redis.enqueue_job("noop", **common.payload(i))
    await redis.aclose()


def run_worker() -> None:
    async def ready(ctx):
        common.mark_ready(args.redis_url)

    worker = Worker(
        functions=[func(probe if args.probe else noop, name="noop")],
        queue_name=args.queue,
        redis_settings=SETTINGS,
        max_jobs=args.concurrency,
        poll_delay=args.poll,
        on_startup=ready,
    )
    worker.run()


def worker_commands(count: int, probe: bool = False) -> list[list[str]]:
    command = [sys.executable, str(Path(__file__).resolve()), "worker", "--redis-url",
               args.redis_url, "--queue", args.queue, "--concurrency", str(args.concurrency),
               "--poll", str(args.poll)]  # fmt: skip
    return [command + (["--probe"] if probe else [])] * count


def main() -> None:
    r = common.client(args.redis_url)
    if args.action == "worker":
        run_worker()
        return
    loop = asyncio.new_event_loop()
    if args.action == "enqueue_one":
        common.result(rate=args.n / loop.run_until_complete(enqueue_one(args.n)))
    elif args.action == "enqueue_bulk":
        common.result(skip="no bulk API")
    elif args.action == "e2e":
        loop.run_until_complete(add_all(args.n))
        with common.Workers(worker_commands(args.workers)) as workers:
            common.wait_ready(r, args.workers)
            out = common.drain(
                r, lambda: args.n - int(r.zcard(args.queue)), args.n, args.cap_s, pids=workers.pids
            )
        common.result(**out)
    elif args.action == "latency":
        redis = loop.run_until_complete(pool())
        with common.Workers(worker_commands(1, probe=True)):
            common.wait_ready(r, 1)
            out = common.latency(
                r,
                lambda i: loop.run_until_complete(redis.enqueue_job("noop", n=i)),
                args.samples,
                timeout_s=max(10.0, 4 * args.poll),
            )
        loop.run_until_complete(redis.aclose())
        common.result(**out)
    elif args.action == "memory":
        redis = loop.run_until_complete(pool())
        loop.run_until_complete(redis.enqueue_job("noop", n=-1))

        async def add() -> None:
            for i in range(args.n):
                await redis.enqueue_job("noop", **common.payload(i))

        out = common.memory_per_job(r, lambda: loop.run_until_complete(add()), args.n)
        loop.run_until_complete(redis.aclose())
        common.result(**out)


if __name__ == "__main__":
    main()
