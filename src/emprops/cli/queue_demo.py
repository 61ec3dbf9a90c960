"""`emprops queue demo`: the queue alone, end to end: a private Redis (or the configured one), local
worker processes, a batch of echo jobs with progress steps, shown completing live."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from emprops.cli.context import broker_config, clear_errors, run_command
from emprops.core.redis_connection import close_endpoint, open_endpoint
from emprops.core.settings import get_settings
from emprops.queue.broker import Broker
from emprops.queue.models import JobRequest
from emprops.worker.local_pool import LocalWorkerPool, settings_env


@clear_errors
def run_queue_demo(
    jobs: Annotated[int, typer.Option(min=1, max=100_000, help="Jobs to run.")] = 200,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = max(
        2, os.cpu_count() or 2
    ),
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs per worker at once.")] = 8,
    steps: Annotated[int, typer.Option(min=0, help="Progress steps per job.")] = 5,
    delay: Annotated[float, typer.Option(min=0, help="Seconds each job works.")] = 0.1,
) -> None:
    """Run a batch of echo jobs on local workers, with live progress and a summary."""
    settings = get_settings()
    console = Console()

    async def main() -> None:
        endpoint = await asyncio.to_thread(open_endpoint, settings)
        client = endpoint.async_client()
        broker = Broker(client, broker_config(settings))
        env = settings_env(settings.data_dir, redis_url=settings.redis_url,
                           queue_name=settings.queue_name)  # fmt: skip
        pool = LocalWorkerPool(["echo"], workers, concurrency=concurrency, env=env,
                               log_dir=settings.data_dir / "logs")  # fmt: skip
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(broker.keys.events_channel)
        try:
            pool.start()
            run_id = f"demo-{int(time.time())}"
            requests = [
                JobRequest(
                    id=f"{run_id}-{i}",
                    service_required="echo",
                    workflow_id=run_id,
                    payload={"delay_s": delay, "steps": steps, "n": i},
                )
                for i in range(jobs)
            ]
            started = time.perf_counter()
            await broker.submit_many(requests)
            wanted = {r.id for r in requests}
            done: set[str] = set()
            failed: set[str] = set()
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn())  # fmt: skip
            with Progress(*columns, console=console) as bar:
                overall = bar.add_task("jobs", total=jobs)
                running = bar.add_task("running now", total=workers * concurrency)
                active: set[str] = set()
                while len(done) + len(failed) < jobs:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    event = orjson.loads(message["data"])
                    if event["job_id"] not in wanted:
                        continue
                    if event["event"] == "job_claimed":
                        active.add(event["job_id"])
                    elif event["event"] == "complete_job":
                        active.discard(event["job_id"])
                        ok = event["data"]["result"]["status"] == "success"
                        (done if ok else failed).add(event["job_id"])
                        bar.update(overall, completed=len(done) + len(failed))
                    bar.update(running, completed=len(active))
            elapsed = time.perf_counter() - started
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.to_thread(pool.stop)
            await client.aclose()
            await asyncio.to_thread(close_endpoint, endpoint)
        table = Table(title="demo summary")
        for column in ("jobs", "completed", "failed", "workers", "wall time", "jobs/s"):
            table.add_column(column, justify="right")
        table.add_row(str(jobs), str(len(done)), str(len(failed)), f"{workers}×{concurrency}",
                      f"{elapsed:.2f} s", f"{jobs / elapsed:.0f}")  # fmt: skip
        console.print(table)
        where = settings.redis_url or f"embedded Redis in {settings.data_dir.resolve()}"
        console.print(f"state kept in {where}; try `emprops queue stats`")

    run_command(main)
