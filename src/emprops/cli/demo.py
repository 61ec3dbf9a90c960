"""`emprops demo`: the main job on the embedded defaults, with nothing installed.

It starts the embedded stack (a private Redis, SQLite, local blob storage, a local chain, the API
and one worker process per core), then, through the REST API: creates a user, a project and a
100-token layered collection, generates it with live progress, packages it (metadata, CIDs, CAR),
deploys it through the factory, mints every token in batches, indexes the chain, and prints a
summary with a contact sheet of the tokens. Run it again: it resumes instead of duplicating.

With `--comfyui URL` the collection is an AI one instead: the demo imports its ComfyUI component
(`emprops/demo/components/`), starts a worker for that ComfyUI and renders every token there.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from emprops.cli.context import clear_errors
from emprops.core.errors import UnavailableError
from emprops.core.settings import get_settings


class ConsoleUi:
    """The journey's phases as lines, its long steps as progress bars."""

    def __init__(self, console: Console, progress: Progress) -> None:
        self.console, self.bar = console, progress
        self.tasks: dict[str, TaskID] = {}

    def phase(self, name: str, detail: str = "") -> None:
        self.console.print(f"[bold green]✓[/] [bold]{name}[/]: {detail}", highlight=False)

    def progress(self, name: str, done: int, total: int) -> None:
        if name not in self.tasks:
            self.tasks[name] = self.bar.add_task(name, total=total)
        self.bar.update(self.tasks[name], completed=done, total=total)


def check_comfyui(url: str, timeout_s: float = 10.0) -> str:
    """The ComfyUI version at `url` (from `GET /system_stats`); a clear error if it does not
    answer as ComfyUI does."""
    import httpx

    base = url.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise UnavailableError(f"--comfyui wants an http(s) URL, not {url!r}")
    try:
        response = httpx.get(f"{base}/system_stats", timeout=timeout_s)
        response.raise_for_status()
        stats = response.json()
        return str(stats["system"].get("comfyui_version", "unknown version"))
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = str(exc) or type(exc).__name__
        raise UnavailableError(
            f"ComfyUI at {base} does not answer GET /system_stats ({reason}): is it running?"
        ) from None


@clear_errors
def run_demo(
    tokens: Annotated[int, typer.Option(min=1, max=1000, help="Tokens in the collection.")] = 100,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes (default: one per core).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="API port (default: free).")
    ] = None,
    comfyui: Annotated[
        str | None,
        typer.Option(metavar="URL", help="A ComfyUI server: make a small AI collection on it."),
    ] = None,
) -> None:
    """The whole product on one machine: generate, package, deploy, mint and index a collection."""
    if comfyui is not None:  # before the stack's (slow) imports: a wrong URL is told at once
        comfyui_version = check_comfyui(comfyui)
    import httpx

    from emprops.demo.art import ensure_layers
    from emprops.demo.contact_sheet import write_contact_sheet
    from emprops.demo.journey import DemoCollection, DemoJourney, collector_address
    from emprops.demo.lock import DemoLock
    from emprops.demo.stack import DemoStack, default_workers, free_port
    from emprops.demo.state import DemoState

    settings = get_settings()
    console = Console()
    data_dir = settings.data_dir.resolve()
    demo_dir = data_dir / ("demo-comfyui" if comfyui else "demo")  # each demo resumes its own
    made: DemoCollection | None = None  # the layered collection
    if comfyui is not None:
        console.print(f"[bold green]✓[/] [bold]ComfyUI[/]: {comfyui} answers ({comfyui_version})")
    state_path = demo_dir / "state.json"
    started = time.perf_counter()
    with DemoLock(data_dir):
        state = DemoState.load(state_path)
        if state.tokens is not None and state.tokens != tokens:
            console.print(f"[yellow]the demo in {data_dir} has {state.tokens} tokens; "
                          f"going on with those (use another EMPROPS_DATA_DIR for {tokens})[/]")  # fmt: skip
            tokens = state.tokens
        console.print(f"[bold]EmProps demo[/] in {data_dir} ({tokens} tokens)")
        if comfyui is None:
            ensure_layers(data_dir / "assets" / "demo", tokens)
        else:
            from emprops.demo.comfyui import ai_collection

            made = ai_collection(tokens)
        api_port = port or free_port()
        count = workers or default_workers()

        async def main() -> DemoJourney:
            async with DemoStack(
                settings, demo_dir, workers=count, port=api_port, comfyui=comfyui
            ) as stack:
                extra = " and one for ComfyUI" if comfyui else ""
                console.print(f"[bold green]✓[/] [bold]stack[/]: API at {stack.url}, "
                              f"{count} worker processes{extra}")  # fmt: skip
                columns = (TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(),
                           TimeElapsedColumn())  # fmt: skip
                with Progress(*columns, console=console, transient=True) as bar:
                    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
                        journey = DemoJourney(
                            client, stack.app_state, state, state_path, tokens=tokens,
                            ui=ConsoleUi(console, bar), collector=collector_address(str(data_dir)),
                            made=made,
                        )  # fmt: skip
                        await journey.run()
                        return journey

        journey = asyncio.run(main())
    result = journey.result
    sheet = write_contact_sheet(data_dir, demo_dir / "contact-sheet.png", result)
    wall = time.perf_counter() - started
    table = Table(title="emprops demo", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    package, deployment, mint = result.package, result.deployment, result.mint
    rows = [
        ("tokens", f"{result.generated} generated, {result.failed} failed, {mint.get('minted', 0)} minted"),
        ("collection", result.collection_id),
        ("root CID", str(package.get("root_cid"))),
        ("base URI", str(package.get("base_uri"))),
        ("contract URI", str(package.get("contract_uri"))),
        ("CAR", str(package.get("car"))),
        ("chain", f"{deployment.get('chain')} (chain id {deployment.get('chain_id')})"),
        ("contract", str(deployment.get("address"))),
        ("gas", f"deploy {deployment.get('gas_used', 0):,}, mint {mint.get('gas_used', 0):,}"),
        ("indexed", f"{result.indexed.get('mints', '?')} mints, {result.indexed.get('owners', '?')} owner(s)"),
        ("wall time", f"{wall:.1f} s (" + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()) + ")"),
        ("resumed", ", ".join(result.resumed) or "nothing (a fresh run)"),
        ("contact sheet", str(sheet) if sheet else "-"),
    ]  # fmt: skip
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    console.print(
        f"Look at it: [bold]{_serve_command()}[/], then open "
        f"http://127.0.0.1:8000/studio/collections/{result.collection_id} "
        f"(sign in with the API key in {demo_dir / 'state.json'})"
    )


def _serve_command() -> str:
    """How this install starts the server: through uv in a source checkout, else the installed
    `emprops` (a wheel, `uv tool install`, pipx)."""
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "pyproject.toml").is_file() and (checkout / "src" / "emprops").is_dir():
        return "uv run --frozen --no-dev emprops serve"
    return "emprops serve"
