"""`emprops jobs ...`: submit, inspect, watch and cancel single jobs."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer
from pydantic import ValidationError
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from emprops.cli.context import clear_errors, err_console, open_broker, run_command
from emprops.core.errors import InvalidInputError
from emprops.queue.models import JobRequest

app = typer.Typer(no_args_is_help=True, help="Submit, inspect, watch and cancel jobs.")


def parse_json_option(name: str, text: str | None) -> Any:
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(
            f"--{name} is not valid JSON: {exc}", details={"field": name}
        ) from None


def build_request(fields: dict[str, Any]) -> JobRequest:
    try:
        return JobRequest.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        problems = {".".join(str(p) for p in e["loc"]) or "job": e["msg"] for e in exc.errors()}
        first = next(iter(problems))
        raise InvalidInputError(f"invalid {first}: {problems[first]}", details=problems) from None


@app.command()
@clear_errors
def submit(
    service: Annotated[str, typer.Option("--service", "-s", help="Service that must run it.")],
    payload: Annotated[str, typer.Option(help="Payload JSON given to the connector.")] = "{}",
    priority: Annotated[int, typer.Option(help="0..1000, higher first.")] = 50,
    requirements: Annotated[str | None, typer.Option(help="Requirements JSON.")] = None,
    job_id: Annotated[str | None, typer.Option("--id", help="Job id (idempotent).")] = None,
    customer: Annotated[str | None, typer.Option(help="Customer id for isolation.")] = None,
    max_retries: Annotated[int, typer.Option(help="Retries before dead letter.")] = 3,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds before the worker gives up.")
    ] = None,
) -> None:
    """Submit a job and print its id."""
    request = build_request(
        {
            "service_required": service,
            "payload": parse_json_option("payload", payload),
            "priority": priority,
            "requirements": parse_json_option("requirements", requirements),
            "id": job_id,
            "customer_id": customer,
            "max_retries": max_retries,
            "timeout_s": timeout,
        }
    )

    async def main() -> None:
        async with open_broker() as broker:
            result = await broker.submit(request)
        typer.echo(result.id)
        if not result.created:
            err_console.print("(already submitted: nothing changed)")

    run_command(main)


@app.command()
@clear_errors
def get(job_id: str) -> None:
    """Print a job as JSON."""

    async def main() -> None:
        async with open_broker() as broker:
            job = await broker.get(job_id)
        if job is None:
            raise InvalidInputError(f"job {job_id!r} not found")
        typer.echo(job.model_dump_json(indent=2, exclude_none=True))

    run_command(main)


@app.command()
@clear_errors
def watch(job_id: str) -> None:
    """Show live progress until the job finishes (replays what already happened)."""

    async def main() -> int:
        async with open_broker() as broker:
            if await broker.get(job_id) is None:
                raise InvalidInputError(f"job {job_id!r} not found")
            columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                       TimeElapsedColumn())  # fmt: skip
            outcome = "unknown"
            with Progress(*columns, console=err_console) as bar:
                task = bar.add_task(job_id, total=100)
                async for event in broker.follow(job_id):
                    if event.event == "update_job_progress":
                        msg = event.data.get("message") or job_id
                        bar.update(task, completed=event.data["progress"], description=msg)
                    elif event.event == "job_claimed":
                        bar.update(task, description=f"running on {event.data['worker_id']}")
                    elif event.event == "job_failed" and event.data.get("retrying"):
                        bar.update(
                            task, completed=0, description="retrying: " + event.data["error"]
                        )
                    elif event.event == "complete_job":
                        outcome = event.data["result"]["status"]
                        if outcome == "success":
                            bar.update(task, completed=100, description="done")
                    elif event.event == "job_cancelled":
                        outcome = "cancelled"
            job = await broker.get(job_id)
        typer.echo(f"{job_id}: {job.status if job else outcome}")
        return 0 if outcome == "success" else 1

    raise typer.Exit(run_command(main))


@app.command()
@clear_errors
def cancel(job_id: str) -> None:
    """Cancel a job; a running one is stopped on its worker."""

    async def main() -> None:
        async with open_broker() as broker:
            previous = await broker.cancel(job_id)
        typer.echo(
            f"{job_id}: was {previous}, now cancelled"
            if previous not in ("completed", "failed", "cancelled")
            else f"{job_id}: already {previous}, unchanged"
        )

    run_command(main)


@app.command()
@clear_errors
def retry(job_id: str) -> None:
    """Send a dead-lettered job back to the queue."""

    async def main() -> None:
        async with open_broker() as broker:
            if not await broker.retry_dead(job_id):
                raise InvalidInputError(f"job {job_id!r} is not a failed job")
        typer.echo(f"{job_id}: requeued")

    run_command(main)
