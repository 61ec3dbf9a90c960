"""Celery with the Redis broker under the shared measurements; runs in .venvs/celery.

Worker: one `celery worker` per process, prefork pool with 2 children, results ignored, no gossip,
mingle or heartbeat (the settings Celery documents for throughput); early ack (the default).
Celery has no bulk enqueue call, so it has no bulk figure. Finished = neither in the queue list nor
in the transport's unacked hash (a message is acked just before its task runs, so this can count a
no-op task up to a few tasks early: in Celery's favour)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import common
from celery import Celery
from celery.signals import worker_ready

args = common.parse_args()

app = Celery("peer_celery", broker=args.redis_url)
app.conf.update(
    task_ignore_result=True,
    task_default_queue=args.queue,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="noop")
def noop(**kwargs):
    return None


@app.task(name="probe")
def probe(**kwargs):
    common.report_start(args.redis_url)


@worker_ready.connect
def _ready(**_kwargs):
    common.mark_ready(args.redis_url)


def enqueue_one(n: int) -> float:
    noop.delay(n=-1)  # connect outside the clock
    start = time.perf_counter()
    for i in range(n):
        noop.delay(**common.payload(i))
    return time.perf_counter() - start


def worker_commands(count: int) -> list[list[str]]:
    command = [sys.executable, str(Path(__file__).resolve()), "worker", "--redis-url",
               args.redis_url, "--queue", args.queue, "--concurrency", str(args.concurrency)]  # fmt: skip
    return [command] * count


def main() -> None:
    r = common.client(args.redis_url)
    if args.action == "worker":
        app.worker_main(
            ["worker", "--pool=prefork", f"--concurrency={args.concurrency}", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "--loglevel=WARNING", f"-Q{args.queue}"]
        )  # fmt: skip
    elif args.action == "enqueue_one":
        common.result(rate=args.n / enqueue_one(args.n))
    elif args.action == "enqueue_bulk":
        common.result(skip="no bulk API")
    elif args.action == "e2e":
        for i in range(args.n):
            noop.delay(**common.payload(i))

        def done() -> int:
            pipe = r.pipeline(transaction=False)
            pipe.llen(args.queue)
            pipe.hlen("unacked")
            waiting, unacked = pipe.execute()
            return args.n - int(waiting) - int(unacked)

        with common.Workers(worker_commands(args.workers)) as workers:
            common.wait_ready(r, args.workers)
            out = common.drain(r, done, args.n, args.cap_s, poll_calls=2, pids=workers.pids)
        common.result(**out)
    elif args.action == "latency":
        with common.Workers(worker_commands(1)):
            common.wait_ready(r, 1)
            out = common.latency(r, lambda i: probe.delay(n=i), args.samples)
        common.result(**out)
    elif args.action == "memory":
        noop.delay(n=-1)
        out = common.memory_per_job(
            r, lambda: [noop.delay(**common.payload(i)) for i in range(args.n)], args.n
        )
        common.result(**out)


if __name__ == "__main__":
    main()
