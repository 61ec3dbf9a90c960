"""`emprops doctor`: try every configured part (settings, data dir, Redis, database, storage,
secret, workers, chain) and print what is wrong with the fix; exit 1 if anything failed."""

from __future__ import annotations

import asyncio

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from emprops.core.settings import get_settings

_STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def run_doctor() -> None:
    """Check the configuration (EMPROPS_* variables, .env) against the real services."""
    from emprops.doctor import Verdict, run_checks

    console = Console()
    try:
        settings = get_settings()
    except ValidationError as exc:
        console.print("[red]fail[/red] settings: the configuration does not parse")
        for error in exc.errors():
            name = "EMPROPS_" + "_".join(str(p) for p in error["loc"]).upper()
            console.print(f"  {name}: {error['msg']} (got {error.get('input')!r})", highlight=False)
        raise typer.Exit(1) from None
    findings = asyncio.run(run_checks(settings))
    table = Table(title="emprops doctor")
    for column in ("part", "", "what was found", "what to do"):
        table.add_column(column)
    for f in findings:
        table.add_row(f.part, f"[{_STYLE[f.verdict]}]{f.verdict}[/]", f.detail, f.fix)
    console.print(table)
    failed = sum(f.verdict is Verdict.FAIL for f in findings)
    warned = sum(f.verdict is Verdict.WARN for f in findings)
    console.print(f"{failed} failed, {warned} warnings, {len(findings) - failed - warned} ok")
    if failed:
        raise typer.Exit(1)
