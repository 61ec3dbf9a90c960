"""`emprops collection package RUN_DIR --out DIR` and `emprops collection upload DIR --to ...`:
a finished run becomes images + metadata folders with their CIDs, CARs and a report; a package
goes to a pinning service, resumably (re-run the same command to continue after a failure)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from emprops.cli.collection import app
from emprops.core.errors import EmpropsError
from emprops.metadata import CollectionInfo, MetadataInvalid
from emprops.packaging import (
    PackageOptions,
    PackageReport,
    UploadPart,
    package_import_options,
    package_run_sync,
    parts_to_upload,
    read_package_report,
    upload_package,
)
from emprops.pinning import (
    CACHE_NAME,
    RetryPolicy,
    ServiceKind,
    UploadCache,
    Uploader,
    UploadEvent,
    open_pinning_service,
)

_console = Console()
_errors = Console(stderr=True)
TOKEN_ENV = {
    "pinata": "EMPROPS_PINATA_JWT",
    "psa": "EMPROPS_PSA_TOKEN",
    "kubo": "EMPROPS_KUBO_TOKEN",
}
_STAGES = {"check": "check + copy media", "hash": "hash folders", "metadata": "write metadata",
           "car": "write CARs"}  # fmt: skip


@contextmanager
def _clean_errors(hint: str | None = None) -> Iterator[None]:
    """Our errors as one message (every problem for metadata) and exit 1, no traceback."""
    try:
        yield
    except MetadataInvalid as exc:
        _errors.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except EmpropsError as exc:
        _errors.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)
        if hint:
            _errors.print(hint, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"


def print_report(report: PackageReport, out: Path, console: Console) -> None:
    summary = Table(title=f"package of run {report.run_id}: {report.tokens} tokens",
                    title_justify="left")  # fmt: skip
    summary.add_column("part")
    summary.add_column("what")
    summary.add_column("files", justify="right")
    summary.add_column("size", justify="right")
    summary.add_column("CID", no_wrap=True, overflow="ignore")  # a folded CID cannot be copied
    parts = [("reveal", report.reveal)] + ([("hidden", report.hidden)] if report.hidden else [])
    for name, part in parts:
        for folder in part.folders:
            summary.add_row(name, f"{folder.path}/", str(folder.files), _size(folder.bytes),
                            folder.cid)  # fmt: skip
        for file in part.files:
            summary.add_row(name, file.path, "1", _size(file.bytes), file.cid)
        if part.car is not None:
            summary.add_row(name, part.car.path, "", _size(part.car.bytes), part.car.cid)
    console.print(summary)
    if report.rarity:
        rarity = Table(title="traits", title_justify="left")
        for column in ("trait", "value", "tokens", "%"):
            rarity.add_column(column, justify="right" if column in ("tokens", "%") else "left")
        for trait, values in report.rarity.items():
            for i, (value, entry) in enumerate(values.items()):
                rarity.add_row(trait if i == 0 else "", value, str(entry.count),
                               f"{entry.percent:.2f}")  # fmt: skip
        console.print(rarity)
    for name, part in parts:
        console.print(f"{name} baseURI: {part.base_uri}", soft_wrap=True, highlight=False)
        console.print(f"{name} contractURI: {part.contract_uri}", soft_wrap=True, highlight=False)
    console.print(f"provenance hash: {report.provenance_hash}", soft_wrap=True, highlight=False)
    console.print(f"package in {out} (report.json)", soft_wrap=True, highlight=False)


@app.command("package")
def package(
    run_dir: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="The run's --out folder.")
    ],
    out: Annotated[Path, typer.Option(file_okay=False, help="Package folder (created).")],
    name: Annotated[str, typer.Option(help="Collection name (token names: NAME #ID).")],
    symbol: Annotated[str | None, typer.Option(help="Token symbol, up to 10 characters.")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    royalty_bps: Annotated[
        int | None, typer.Option(help="Royalty in basis points (500 = 5%).")
    ] = None,
    royalty_recipient: Annotated[
        str | None, typer.Option(help="0x address receiving royalties.")
    ] = None,
    external_url: Annotated[
        str | None, typer.Option(help="The collection's https:// site.")
    ] = None,
    image: Annotated[
        str | None, typer.Option(help="Collection image URI (default: token 0's).")
    ] = None,
    hidden: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Delayed reveal: placeholder image every token shows until the reveal.",
        ),
    ] = None,
    token_name: Annotated[
        str, typer.Option(help="Token name template: {name}, {id}.")
    ] = "{name} #{id}",
    json_extension: Annotated[
        bool, typer.Option("--json-extension", help="Name metadata files <id>.json.")
    ] = False,
    first_token_id: Annotated[
        int, typer.Option(min=0, max=1, help="Id of the first token: 0 or 1.")
    ] = 0,
    cid_version: Annotated[int, typer.Option(min=0, max=1, help="0 (Kubo default) or 1.")] = 0,
    image_step: Annotated[
        str | None, typer.Option(help="Step (id, alias, workflow) giving the image.")
    ] = None,
    animation_step: Annotated[
        str | None, typer.Option(help="Step giving the animation_url.")
    ] = None,
    car: Annotated[bool, typer.Option("--car/--no-car", help="Write CAR files.")] = True,
) -> None:
    """Package a finished run: images and metadata folders, CIDs, contract metadata, CARs, report."""
    with _clean_errors():
        info = CollectionInfo(
            name=name, symbol=symbol, description=description, external_url=external_url,
            image=image, royalty_bps=royalty_bps, royalty_recipient=royalty_recipient,
            token_name=token_name,
        )  # fmt: skip
        options = PackageOptions(
            info=info, hidden_placeholder=hidden,
            metadata_extension=".json" if json_extension else "",
            first_token_id=1 if first_token_id else 0, cid_version=1 if cid_version else 0,
            image_step=image_step, animation_step=animation_step, car=car,
        )  # fmt: skip
        columns = (TextColumn("{task.description:>20}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())  # fmt: skip
        with Progress(*columns, console=_console, transient=True) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
                bar.update(tasks[stage], completed=done, total=total)

            report = package_run_sync(run_dir, out, options, progress)
        print_report(report, out.resolve(), _console)


@app.command("upload")
def upload(
    package_dir: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="A package folder.")
    ],
    to: Annotated[
        ServiceKind, typer.Option(help="pinata, psa (IPFS Pinning Service API) or kubo.")
    ],
    endpoint: Annotated[str | None, typer.Option(help="Service base URL (psa: required).")] = None,
    token_env: Annotated[
        str | None,
        typer.Option(
            help="Environment variable holding the token (default: EMPROPS_<SERVICE>_...)."
        ),
    ] = None,
    part: Annotated[
        Literal["hidden", "reveal", "all"] | None,
        typer.Option(help="Which part: hidden (default for a hidden package), reveal, all."),
    ] = None,
    car: Annotated[
        bool, typer.Option("--car", help="Send the CAR files (kubo) instead of files.")
    ] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests at once.")] = 4,
    attempts: Annotated[
        int, typer.Option(min=1, max=50, help="Tries per request (429/5xx/timeouts back off).")
    ] = 6,
    origin: Annotated[
        list[str] | None, typer.Option(help="psa: multiaddr the provider may fetch from (repeat).")
    ] = None,
    pin_timeout: Annotated[
        float, typer.Option(min=0, help="psa: seconds to wait for pinned.")
    ] = 600.0,
    poll_interval: Annotated[
        float, typer.Option(min=0.01, help="psa: seconds between status checks.")
    ] = 2.0,
    folder_mode: Annotated[
        Literal["auto", "per_file", "one_request"],
        typer.Option(help="kubo: per_file (resumable, default) or one_request."),
    ] = "auto",
) -> None:
    """Upload a package to a pinning service; re-run to resume (uploaded files are cached)."""
    chosen: UploadPart | None = part
    variable = token_env or TOKEN_ENV[to]
    token = os.environ.get(variable) or None
    hint = (
        f"what was confirmed is kept in {package_dir / CACHE_NAME}: run the same command again "
        "to resume"
    )
    with _clean_errors(hint):
        report = read_package_report(package_dir)
        if token is None and to != "kubo":
            _errors.print(f"[red]error:[/red] no token: set {variable} (or name another variable "
                          "with --token-env)", highlight=False)  # fmt: skip
            raise typer.Exit(1)
        service = open_pinning_service(
            to, endpoint=endpoint, token=token, origins=origin or (),
            policy=RetryPolicy(attempts=attempts),
        )  # fmt: skip
        sections = parts_to_upload(report, chosen)
        if car:
            total = sum(s.car.bytes for _, s in sections if s.car is not None)
        else:
            total = sum(f.bytes for _, s in sections for f in s.folders) + sum(
                f.bytes for _, s in sections for f in s.files
            )
        outcomes: list[UploadEvent] = []
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn(), TimeElapsedColumn())  # fmt: skip

        async def main() -> None:
            with (
                UploadCache(package_dir / CACHE_NAME) as cache,
                Progress(*columns, console=_console, transient=True) as bar,
            ):
                task = bar.add_task(f"upload to {to}", total=total)
                uploader = Uploader(
                    service, cache, import_options=package_import_options(report),
                    concurrency=concurrency, folder_mode=folder_mode,
                    pin_timeout_s=pin_timeout, poll_s=poll_interval,
                    on_bytes=lambda n: bar.advance(task, n),
                    on_event=outcomes.append,
                )  # fmt: skip
                try:
                    summary = await upload_package(package_dir, uploader, part=chosen,
                                                   use_car=car, report=report)  # fmt: skip
                finally:
                    await service.aclose()
            _console.print(f"uploaded to {service.identity}", soft_wrap=True, highlight=False)
            for item in summary.items:  # full CIDs, whatever the terminal width
                _console.print(f"{item.part} {item.name}: {item.cid}", soft_wrap=True,
                               highlight=False)  # fmt: skip
            cached = sum(1 for e in outcomes if e.outcome == "cached")
            _console.print(f"{len(outcomes) - cached} uploaded or pinned, {cached} already there")
            _console.print(f"baseURI: {summary.base_uri}\ncontractURI: {summary.contract_uri}",
                           soft_wrap=True, highlight=False)  # fmt: skip

        asyncio.run(main())
