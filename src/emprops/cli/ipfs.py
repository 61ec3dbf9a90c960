"""`emprops ipfs`: offline CIDs identical to `ipfs add --only-hash -Q`, and CAR export."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from emprops.core.errors import EmpropsError
from emprops.ipfs import HamtRule, ImportOptions, cid_of_path, write_car
from emprops.ipfs.blocks import ProgressCallback
from emprops.ipfs.tree import input_size

app = typer.Typer(
    no_args_is_help=True,
    help="Content addressing: CIDs identical to Kubo's `ipfs add`, and CARv1 export.",
)

_PROGRESS_FROM_BYTES = 64 * 1024 * 1024
_stderr = Console(stderr=True)

PathArg = Annotated[
    Path, typer.Argument(exists=True, dir_okay=True, file_okay=True, resolve_path=False)
]
CidVersion = Annotated[
    int, typer.Option("--cid-version", min=0, max=1, help="0 (Kubo default) or 1.")
]
RawLeaves = Annotated[
    bool | None,
    typer.Option("--raw-leaves/--no-raw-leaves", help="Default: on exactly for CIDv1, as Kubo."),
]
HamtRuleOpt = Annotated[
    HamtRule,
    typer.Option(
        "--hamt-rule", help="kubo-0.22 shards at >= 256 KiB of links, newer only above it."
    ),
]
Hidden = Annotated[
    bool, typer.Option("--hidden", "-H", help="Include dot-files inside folders (Kubo -H).")
]


def _options(
    cid_version: int, raw_leaves: bool | None, hamt_rule: HamtRule, hidden: bool
) -> ImportOptions:
    return ImportOptions(
        cid_version=1 if cid_version else 0,
        raw_leaves=raw_leaves,
        hamt_rule=hamt_rule,
        include_hidden=hidden,
    )


@contextmanager
def _progress_for(path: Path, hidden: bool, label: str) -> Iterator[ProgressCallback | None]:
    """A Rich bar on stderr for inputs big enough to wait for; stdout stays just the CID."""
    total = input_size(path, hidden)
    if total < _PROGRESS_FROM_BYTES:
        yield None
        return
    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=_stderr, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda consumed: bar.advance(task, consumed)


@contextmanager
def _errors_as_exit() -> Iterator[None]:
    try:
        yield
    except EmpropsError as exc:
        _stderr.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc


@app.command("cid")
def cid_command(
    path: PathArg,
    cid_version: CidVersion = 0,
    raw_leaves: RawLeaves = None,
    hamt_rule: HamtRuleOpt = HamtRule.KUBO_0_22,
    hidden: Hidden = False,
    wrap: Annotated[
        bool, typer.Option("--wrap-with-directory", "-w", help="Wrap in a folder (Kubo -w).")
    ] = False,
) -> None:
    """Print the CID `ipfs add --only-hash -Q [-r] PATH` would print, without an IPFS node."""
    options = _options(cid_version, raw_leaves, hamt_rule, hidden)
    with _errors_as_exit(), _progress_for(path, hidden, "hashing") as progress:
        cid = cid_of_path(path, options, progress=progress, wrap_with_directory=wrap)
    typer.echo(str(cid))


@app.command("car")
def car_command(
    path: PathArg,
    out: Annotated[Path, typer.Argument(dir_okay=False, help="The .car file to write.")],
    cid_version: CidVersion = 0,
    raw_leaves: RawLeaves = None,
    hamt_rule: HamtRuleOpt = HamtRule.KUBO_0_22,
    hidden: Hidden = False,
) -> None:
    """Export PATH as a CARv1 (root = PATH's CID, each block once) and print the root CID."""
    options = _options(cid_version, raw_leaves, hamt_rule, hidden)
    with _errors_as_exit(), _progress_for(path, hidden, "packing") as progress:
        cid = write_car(path, out, options, progress=progress)
    typer.echo(str(cid))
