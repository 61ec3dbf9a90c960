"""`emprops components import PATH...`: register components written in the original format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from emprops.cli.context import clear_errors, run_command
from emprops.core.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Registered components (ComfyUI graphs, jobs, APIs).")


@app.command("import")
@clear_errors
def import_components(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Component folders, or library folders (with _form_confs/)."),
    ],
    dry_run: Annotated[bool, typer.Option(help="Check only; write nothing.")] = False,
) -> None:
    """Import each component (a new version when its definition changed); one refused component
    writes nothing and does not stop the others. Exits 1 when any was refused."""
    from emprops.components.importer import import_library
    from emprops.components.repository import WorkflowRepository
    from emprops.components.schemas import WorkflowCreate
    from emprops.components.service import WorkflowRegistryService
    from emprops.core.errors import EmpropsError
    from emprops.db import create_engine, database_url, session_factory, upgrade_to_head_async

    settings = get_settings()
    for path in paths:
        if not path.is_dir():
            raise typer.BadParameter(f"{path} is not a folder")
    entries = [entry for path in paths for entry in import_library(path)]
    results: list[tuple[str, str, str]] = []

    async def main() -> None:
        url = database_url(settings)
        await upgrade_to_head_async(url)
        engine = create_engine(url)
        try:
            for entry in entries:
                if entry.error is not None or entry.component is None:
                    message = entry.error.message if entry.error else "not imported"
                    results.append((entry.folder, "refused", message))
                    continue
                async with session_factory(engine)() as session:
                    service = WorkflowRegistryService(WorkflowRepository(session))
                    try:
                        body = WorkflowCreate.model_validate(entry.component.body)
                        record, outcome = await service.register(body)
                    except EmpropsError as exc:
                        await session.rollback()
                        results.append((entry.folder, "refused", exc.message))
                        continue
                    except ValueError as exc:  # pydantic: the body itself
                        await session.rollback()
                        results.append((entry.folder, "refused", str(exc).splitlines()[0]))
                        continue
                    detail = f"v{record.version} {record.digest[:12] if record.digest else ''}"
                    if dry_run:
                        await session.rollback()
                        outcome = "ok (dry run)"
                    else:
                        await session.commit()
                    results.append((entry.folder, outcome, f"{record.type} {detail}"))
        finally:
            await engine.dispose()

    run_command(main)
    table = Table("component", "result", "detail", title="components import")
    for folder, outcome, detail in results:
        style = "red" if outcome == "refused" else "green"
        table.add_row(folder, f"[{style}]{outcome}[/{style}]", detail)
    Console().print(table)
    refused = sum(1 for _, outcome, _ in results if outcome == "refused")
    typer.echo(f"{len(results) - refused} imported, {refused} refused")
    if refused:
        raise typer.Exit(1)
