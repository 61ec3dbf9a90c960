"""`emprops indexer ...`: follow the chain into the database, and ask what it holds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from emprops.cli.context import clear_errors, run_command
from emprops.core.errors import InvalidInputError
from emprops.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from emprops.indexer import IndexerQueries, TokenOut, TransferOut

T = TypeVar("T")
app = typer.Typer(no_args_is_help=True, help="Index collections, mints and owners from the chain.")


def console() -> Console:
    """Made per command so that the terminal width (COLUMNS) is read when printing."""
    return Console()


ChainIdOption = Annotated[int | None, typer.Option("--chain-id", help="Only this chain.")]


def default_chain_source(settings: Settings) -> tuple[str | None, list[str]]:
    """The configured chain's RPC URL (the embedded node's on the local chain) and the factory
    the chain service deployed there; (None, []) when none is deployed yet."""
    from emprops.indexer.follower import configured_source

    async def find() -> tuple[str | None, list[str]]:
        async with open_sessions(settings) as sessions:
            source = await configured_source(settings, sessions)
        return (source.rpc_url, source.factories) if source else (None, [])

    return run_command(find)


@asynccontextmanager
async def open_sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    from emprops.db import create_engine, database_url, session_factory, upgrade_to_head_async

    url = database_url(settings)
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def _query(settings: Settings, ask: Callable[[IndexerQueries], Awaitable[T]]) -> T:
    from emprops.indexer import IndexerQueries

    async def main() -> T:
        async with open_sessions(settings) as sessions, sessions() as session:
            return await ask(IndexerQueries(session))

    return run_command(main)


@app.command("run")
@clear_errors
def run_indexer(
    once: Annotated[bool, typer.Option("--once", help="Catch up to the target and exit.")] = False,
    rpc_url: Annotated[str | None, typer.Option(help="JSON-RPC endpoint of the chain.")] = None,
    factory: Annotated[
        list[str] | None, typer.Option("--factory", help="Factory address (repeatable).")
    ] = None,
    chain_id: Annotated[
        int | None, typer.Option(help="Expected chain id (checked against the node).")
    ] = None,
    finality: Annotated[
        str | None, typer.Option(help="finalized | safe | confirmations | head.")
    ] = None,
    confirmations: Annotated[int | None, typer.Option(help="For 'confirmations'.")] = None,
    from_block: Annotated[
        int | None, typer.Option(help="First block to scan (first run on a chain only).")
    ] = None,
) -> None:
    """Index the factories' collections (mints, transfers, upgrades) into the database."""
    import asyncio
    import signal

    from pydantic import ValidationError
    from web3 import Web3

    from emprops.indexer import Indexer, IndexerConfig

    settings = get_settings()
    default_url, default_factories = default_chain_source(settings)
    url = rpc_url or default_url
    factories = factory or default_factories
    if url is None or not factories:
        raise InvalidInputError(
            "give --rpc-url and at least one --factory, or deploy the platform on the configured chain first (emprops chain deploy-factory)",
            details={"rpc_url": url, "factories": factories},
        )
    overrides: dict[str, object] = {}
    if from_block is not None:
        overrides["start_block"] = from_block
    if finality is not None or confirmations is not None:
        overrides["finality"] = {
            "mode": finality or settings.indexer_finality,
            "confirmations": settings.indexer_confirmations
            if confirmations is None
            else confirmations,
        }
    try:
        config = IndexerConfig.from_settings(settings, factories, chain_id, **overrides)
    except ValidationError as exc:
        problems = {".".join(str(p) for p in e["loc"]) or "config": e["msg"] for e in exc.errors()}
        first = next(iter(problems))
        raise InvalidInputError(f"invalid {first}: {problems[first]}", details=problems) from None
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": settings.indexer_rpc_timeout_s}))

    async def main() -> None:
        async with open_sessions(settings) as sessions:
            indexer = Indexer(w3, sessions, config)
            if once:
                progress = await indexer.run_once()
                console().print(
                    f"chain {progress.chain_id}: blocks {progress.start_block + 1}.."
                    f"{progress.block_number} indexed (target {progress.target}), "
                    f"{progress.logs} logs, {progress.counts.collections} collections, "
                    f"{progress.counts.mints} mints, {progress.counts.transfers} transfers, "
                    f"{progress.counts.upgrades} upgrades, rollbacks {progress.rollbacks or 'none'}",
                    highlight=False,
                    soft_wrap=True,
                )
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            console().print(f"indexing chain {await indexer.chain_id()} from {url}; Ctrl-C stops")
            await indexer.run_forever(stop)

    run_command(main)


@app.command()
@clear_errors
def collections(
    creator: Annotated[str, typer.Option(help="Creator address.")],
    chain_id: ChainIdOption = None,
) -> None:
    """Collections created through the factories by a creator."""
    rows = _query(get_settings(), lambda q: q.collections_by_creator(creator, chain_id))
    table = Table("chain", "collection", "owner", "version", "block", "tx")
    for row in rows:
        table.add_row(
            str(row.chain_id),
            row.address,
            row.owner,
            str(row.implementation_version),
            str(row.block_number),
            row.tx_hash,
        )
    console().print(table)


@app.command()
@clear_errors
def mints(
    collection: Annotated[str, typer.Argument(help="Collection address.")],
    chain_id: ChainIdOption = None,
    limit: Annotated[int, typer.Option(help="Rows (1..1000).")] = 100,
    offset: Annotated[int, typer.Option(help="Rows to skip.")] = 0,
) -> None:
    """Mint history of a collection, oldest first."""
    rows = _query(get_settings(), lambda q: q.mint_history(collection, chain_id, limit, offset))
    table = Table("chain", "token", "to", "block", "tx")
    for row in rows:
        table.add_row(
            str(row.chain_id), str(row.token_id), row.to_address, str(row.block_number), row.tx_hash
        )
    console().print(table)


@app.command()
@clear_errors
def tokens(
    owner: Annotated[str, typer.Option(help="Owner address.")],
    collection: Annotated[str | None, typer.Option(help="Only this collection.")] = None,
    chain_id: ChainIdOption = None,
) -> None:
    """Tokens an address owns."""
    rows = _query(
        get_settings(), lambda q: q.tokens_owned_by(owner, chain_id, collection=collection)
    )
    table = Table("chain", "collection", "token", "version", "minted at", "metadata updated at")
    for row in rows:
        table.add_row(
            str(row.chain_id),
            row.collection,
            str(row.token_id),
            str(row.version),
            str(row.minted_block),
            "-" if row.metadata_updated_block is None else str(row.metadata_updated_block),
        )
    console().print(table)


@app.command()
@clear_errors
def token(
    collection: Annotated[str, typer.Argument(help="Collection address.")],
    token_id: Annotated[int, typer.Argument(help="Token id.")],
    chain_id: ChainIdOption = None,
) -> None:
    """One token: owner, version, mint, and its transfers."""

    async def ask(q: IndexerQueries) -> tuple[TokenOut, list[TransferOut]]:
        found = await q.token(collection, token_id, chain_id)
        return found, await q.transfers_of(collection, token_id, found.chain_id)

    found, transfers = _query(get_settings(), ask)
    console().print(found)
    table = Table("block", "from", "to", "tx")
    for transfer in transfers:
        table.add_row(
            str(transfer.block_number), transfer.from_address, transfer.to_address, transfer.tx_hash
        )
    console().print(table)


@app.command()
@clear_errors
def replay(chain_id: ChainIdOption = None) -> None:
    """Rebuild the derived tables from the stored raw logs (no RPC)."""
    from emprops.indexer import replay as replay_logs

    settings = get_settings()

    async def main() -> None:
        async with open_sessions(settings) as sessions:
            results = await replay_logs(sessions, chain_id)
        table = Table("chain", "collections", "mints", "transfers", "upgrades", "metadata updates")
        for chain, counts in results.items():
            table.add_row(
                str(chain),
                str(counts.collections),
                str(counts.mints),
                str(counts.transfers),
                str(counts.upgrades),
                str(counts.metadata_updates),
            )
        console().print(table)

    run_command(main)


@app.command()
@clear_errors
def status() -> None:
    """How far each chain is indexed."""
    rows = _query(get_settings(), lambda q: q.checkpoints())
    table = Table("chain", "block", "hash", "factories", "updated")
    for row in rows:
        table.add_row(
            str(row.chain_id),
            str(row.block_number),
            row.block_hash or "-",
            ", ".join(row.factories),
            row.updated_at.isoformat(timespec="seconds"),
        )
    console().print(table)
