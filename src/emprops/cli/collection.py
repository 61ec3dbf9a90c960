"""`emprops collection`: check a v2 GenerationInput and preview its generations offline.

Other modules add commands (run, package, ...) to this same `app`, so it stays a module-level name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, get_args

import typer

from emprops.workflows import (
    GenerationInput,
    WorkflowCatalog,
    WorkflowDefinition,
    WorkflowType,
    builtin_catalog,
    generation_hashes,
    is_well_formed_hash,
    preview_generations,
    validate_generation_input,
)

app = typer.Typer(
    no_args_is_help=True,
    help="Collections: validate a GenerationInput file and preview its generations.",
)

FileArgument = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="GenerationInput JSON")
]
WorkflowOption = Annotated[
    list[str] | None,
    typer.Option(
        "--workflow",
        "-w",
        help="Accept this workflow name too: NAME, NAME=TYPE or NAME=TYPE:SERVICE "
        "(TYPE defaults to comfy_workflow; SERVICE is the queue service that runs it).",
    ),
]


def _catalog(extra: list[str] | None) -> WorkflowCatalog:
    catalog = builtin_catalog()
    types = get_args(WorkflowType)
    for item in extra or []:
        name, _, kind = item.partition("=")
        kind, _, service = kind.partition(":")
        kind = kind or "comfy_workflow"
        if kind not in types:
            raise typer.BadParameter(f"workflow type {kind!r} is not one of {', '.join(types)}")
        catalog.register(WorkflowDefinition(name=name, type=kind, service=service or None))
    return catalog


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        typer.echo(f"error: {path}: not JSON: {exc}", err=True)
        raise typer.Exit(1) from exc


def _validated(path: Path, workflows: list[str] | None, *, quiet: bool) -> GenerationInput:
    """The parsed document, or every problem printed and exit 1."""
    result = validate_generation_input(_load(path), _catalog(workflows))
    for problem in result.problems:
        if result.errors or not quiet:
            typer.echo(str(problem), err=quiet)
    if result.errors or result.generation_input is None:
        typer.echo(f"{path}: {len(result.errors)} error(s)", err=True)
        raise typer.Exit(1)
    return result.generation_input


@app.command("validate")
def validate(file: FileArgument, workflow: WorkflowOption = None) -> None:
    """Print every problem with its location; exit 1 if there is any error."""
    generation_input = _validated(file, workflow, quiet=False)
    spec = generation_input.generations
    runs = (
        f"{len(spec.hashes)} custom hashes"
        if spec.has_custom_hashes
        else f"{spec.generations} generations"
    )
    typer.echo(
        f"{file}: valid: {len(generation_input.steps)} steps, "
        f"{len(generation_input.variables)} variables, {runs}"
    )


@app.command("preview")
def preview(
    file: FileArgument,
    generations: Annotated[
        int | None,
        typer.Option("--generations", "-n", min=1, help="How many random hashes to make."),
    ] = None,
    hashes: Annotated[
        str | None, typer.Option("--hashes", help="Comma-separated hashes to preview instead.")
    ] = None,
    workflow: WorkflowOption = None,
) -> None:
    """One JSON line per generation: index, hash, seed and resolved variables (nothing runs).

    Hashes come from --hashes, else the file's hashes when it lists any (whatever
    use_custom_hashes says), else N new random ones (N from --generations or the file).
    """
    generation_input = _validated(file, workflow, quiet=True)
    if hashes is not None:
        chosen = [h.strip() for h in hashes.split(",") if h.strip()]
        bad = [h for h in chosen if not is_well_formed_hash(h)]
        if bad or not chosen:
            raise typer.BadParameter(f"malformed hash: {bad[0] if bad else '(none given)'}")
    else:
        chosen = generation_hashes(generation_input.generations, generations)
    for item in preview_generations(generation_input, chosen):
        typer.echo(json.dumps(item.model_dump(), ensure_ascii=False))
