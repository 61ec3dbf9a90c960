"""`emprops collection run FILE --out DIR`: run a collection on the broker with local workers.

Outputs land in DIR (the blob store root for this run), with a manifest of every token's inputs,
picks and files. Run it again with the same DIR to resume: finished steps are not redone.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from emprops.cli.collection import FileArgument, WorkflowOption, _catalog, _validated, app
from emprops.cli.context import broker_config, clear_errors
from emprops.core.redis_connection import close_endpoint, open_endpoint
from emprops.core.settings import get_settings
from emprops.packaging.run_manifest import build_run_manifest, write_run_manifest
from emprops.queue.broker import Broker
from emprops.worker.local_pool import LocalWorkerPool, settings_env
from emprops.workflows import GenerationInput
from emprops.workflows.engine import EngineEvent, GeneratorV2, RunOutcome
from emprops.workflows.planners import STEP_PLANNERS
from emprops.workflows.run_journal import SqliteRunJournal


def write_manifest(
    out: Path, gi: GenerationInput, outcome: RunOutcome, services: dict[str, str]
) -> Path:
    manifest = build_run_manifest(
        outcome.run_id, gi, outcome.hashes, outcome.records.outputs, outcome.failed, services
    )
    return write_run_manifest(out, manifest)


@app.command("run")
@clear_errors
def run(
    file: FileArgument,
    out: Annotated[Path, typer.Option(help="Output directory (also the resume state).")],
    workflow: WorkflowOption = None,
    generations: Annotated[int | None, typer.Option(min=1, help="Override the count.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Local worker processes.")] = max(
        1, os.cpu_count() or 1
    ),
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs per worker at once.")] = 2,
    priority: Annotated[int, typer.Option(min=0, max=1000)] = 50,
) -> None:
    """Run every generation of a collection, with live progress per step and overall."""
    settings = get_settings()
    gi = _validated(file, workflow, quiet=True)
    catalog = _catalog(workflow)
    services = {s.node_name: catalog[s.node_name].service for s in gi.steps}
    missing = sorted(name for name, service in services.items() if service is None)
    if missing:
        typer.echo(f"error: no queue service for workflow(s) {', '.join(missing)} "
                   "(register them with -w NAME=TYPE:SERVICE)", err=True)  # fmt: skip
        raise typer.Exit(1)
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    console = Console()

    async def main() -> RunOutcome:
        endpoint = await asyncio.to_thread(open_endpoint, settings)
        client = endpoint.async_client()
        journal = SqliteRunJournal(out / "run.sqlite")
        engine = GeneratorV2(
            Broker(client, broker_config(settings)), gi, catalog, journal,
            priority=priority, planners=STEP_PLANNERS, reconcile_s=1.0,
        )  # fmt: skip
        header = engine.open_run(generations)
        total = len(header.hashes)
        env = settings_env(
            settings.data_dir, redis_url=settings.redis_url, queue_name=settings.queue_name,
            storage_url=f"file://{out}",
        )  # fmt: skip
        pool = LocalWorkerPool(sorted({s for s in services.values() if s}), workers,
                               concurrency=concurrency, env=env, log_dir=out / "logs")  # fmt: skip
        columns = (TextColumn("{task.description:>24}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())  # fmt: skip
        try:
            pool.start()
            with Progress(*columns, console=console) as bar:
                records = journal.records()
                overall = bar.add_task("tokens", total=total)
                per_step = {
                    step.id: bar.add_task(
                        f"{step.alias or step.node_name} ({step.id})", total=total,
                        completed=sum(1 for (_, sid) in records.outputs if sid == step.id),
                    )
                    for step in gi.steps
                }  # fmt: skip

                def on_event(event: EngineEvent) -> None:
                    if event.type == "node_completed" and event.step_id in per_step:
                        bar.advance(per_step[event.step_id])
                    elif event.type in ("complete", "error"):
                        bar.advance(overall)
                    if event.type == "error":
                        console.print(
                            f"[red]token {event.generation} failed:[/red] {event.data.get('error')}"
                        )

                done_before = sum(
                    1 for g in range(total)
                    if all((g, s.id) in records.outputs or s.skip for s in gi.steps)
                )  # fmt: skip
                bar.update(overall, completed=done_before)
                return await engine.run(on_event, generations)
        finally:
            await asyncio.to_thread(pool.stop)
            journal.close()
            await client.aclose()
            await asyncio.to_thread(close_endpoint, endpoint)

    started = time.perf_counter()
    outcome = asyncio.run(main())
    elapsed = time.perf_counter() - started
    manifest = write_manifest(out, gi, outcome, {k: v for k, v in services.items() if v})
    table = Table(title=f"collection run {outcome.run_id}")
    for column in ("tokens", "complete", "failed", "workers", "wall time", "tokens/s"):
        table.add_column(column, justify="right")
    table.add_row(str(len(outcome.hashes)), str(len(outcome.completed)), str(len(outcome.failed)),
                  f"{workers}×{concurrency}", f"{elapsed:.1f} s",
                  f"{len(outcome.hashes) / elapsed:.1f}")  # fmt: skip
    console.print(table)
    console.print(f"outputs in {out}; manifest {manifest}")
    if outcome.failed:
        raise typer.Exit(1)
