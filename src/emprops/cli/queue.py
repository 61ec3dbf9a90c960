"""`emprops queue ...`: what the broker holds and who is working."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from emprops.cli.context import clear_errors, open_broker, run_command

app = typer.Typer(no_args_is_help=True, help="Queue state and workers.")


@app.command()
@clear_errors
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Pending / active / delayed / dead counts, live workers, unworkable jobs."""

    async def main() -> None:
        async with open_broker() as broker:
            result = await broker.stats()
        if as_json:
            typer.echo(result.model_dump_json(indent=2))
            return
        console = Console()
        counts = Table(title=f"queue {broker.config.queue}")
        for column in ("pending", "active", "delayed", "dead", "unworkable"):
            counts.add_column(column, justify="right")
        counts.add_row(str(result.pending_total), str(result.active), str(result.delayed),
                       str(result.dead), str(len(result.unworkable)))  # fmt: skip
        console.print(counts)
        if result.pending:
            by_service = Table(title="pending by service")
            by_service.add_column("service")
            by_service.add_column("pending", justify="right")
            for service, count in result.pending.items():
                by_service.add_row(service, str(count))
            console.print(by_service)
        workers = Table(title=f"live workers ({len(result.workers)})")
        for column in ("worker", "status", "jobs", "services", "seen"):
            workers.add_column(column)
        now_ms = time.time() * 1000
        for w in result.workers:
            services = ", ".join(w.capabilities.get("services", []))
            workers.add_row(w.worker_id, w.status, str(w.jobs), services,
                            f"{(now_ms - w.last_seen_ms) / 1000:.1f} s ago")  # fmt: skip
        console.print(workers)
        if result.unworkable:
            console.print(f"[yellow]unworkable:[/yellow] {', '.join(result.unworkable[:20])}")

    run_command(main)
