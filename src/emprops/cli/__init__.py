"""The `emprops` command: one Typer app with a sub-app per domain."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="EmProps: AI-generated NFT collections, self-hosted.")


@app.callback()
def _root() -> None:
    """EmProps: AI-generated NFT collections, self-hosted."""


def main() -> None:
    app()
