"""RQ under the shared measurements; runs in .venvs/rq.

Worker: one `rq.SimpleWorker` per process (runs jobs in the worker process, no fork per job: RQ's
fast setting). Bulk: `Queue.enqueue_many` (one pipeline). Finished jobs are counted in RQ's
finished-job registry."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import common
from rq import Queue, SimpleWorker

args = common.parse_args()
NOOP, PROBE = "peer_rq.noop", "peer_rq.probe"


def noop(**kwargs):
    return None


def probe(**kwargs):
    common.report_start(args_url())


def args_url() -> str:
    return args.redis_url


def queue() -> Queue:
    return Queue(args.queue, connection=common.client(args.redis_url))


def enqueue_one(n: int) -> float:
    q = queue()
    q.enqueue(NOOP, n=-1)
    start = time.perf_counter()
    for i in range(n):
        q.enqueue(NOOP, **common.payload(i))
    return time.perf_counter() - start


def add_bulk(q: Queue, n: int, chunk: int = 1000) -> None:
    for first in range(0, n, chunk):
        q.enqueue_many(
            [Queue.prepare_data(NOOP, kwargs=common.payload(i))
             for i in range(first, min(n, first + chunk))]
        )  # fmt: skip


def enqueue_bulk(n: int) -> float:
    q = queue()
    q.enqueue(NOOP, n=-1)
    start = time.perf_counter()
    add_bulk(q, n)
    return time.perf_counter() - start


def run_worker() -> None:
    q = queue()
    worker = SimpleWorker([q], connection=q.connection)
    common.mark_ready(args.redis_url)
    worker.work(logging_level="WARNING")


def worker_commands(count: int) -> list[list[str]]:
    command = [sys.executable, str(Path(__file__).resolve()), "worker", "--redis-url",
               args.redis_url, "--queue", args.queue]  # fmt: skip
    return [command] * count


def main() -> None:
    r = common.client(args.redis_url)
    if args.action == "worker":
        run_worker()
    elif args.action == "enqueue_one":
        common.result(rate=args.n / enqueue_one(args.n))
    elif args.action == "enqueue_bulk":
        common.result(rate=args.n / enqueue_bulk(args.n))
    elif args.action == "e2e":
        add_bulk(queue(), args.n)
        finished = f"rq:finished:{args.queue}"
        with common.Workers(worker_commands(args.workers)) as workers:
            common.wait_ready(r, args.workers)
            out = common.drain(
                r, lambda: int(r.zcard(finished)), args.n, args.cap_s, pids=workers.pids
            )
        common.result(**out)
    elif args.action == "latency":
        q = queue()
        with common.Workers(worker_commands(1)):
            common.wait_ready(r, 1)
            out = common.latency(r, lambda i: q.enqueue(PROBE, n=i), args.samples)
        common.result(**out)
    elif args.action == "memory":
        q = queue()
        q.enqueue(NOOP, n=-1)
        out = common.memory_per_job(r, lambda: add_bulk(q, args.n), args.n)
        common.result(**out)


if __name__ == "__main__":
    main()
