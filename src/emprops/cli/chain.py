"""`emprops chain ...` and `emprops collection deploy|mint`: the chain service from the command
line (the embedded local chain by default, any preset with EMPROPS_CHAIN_RPC_URL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from emprops.cli.collection import app as collection_app
from emprops.cli.context import clear_errors, run_command
from emprops.core.settings import get_settings

if TYPE_CHECKING:
    from emprops.chain import ChainService

app = typer.Typer(no_args_is_help=True, help="The chain: the local node, the platform contracts.")
T = TypeVar("T")
ChainOption = Annotated[
    str | None, typer.Option("--chain", help="Chain preset (default: EMPROPS_CHAIN, local).")
]


@asynccontextmanager
async def chain_service(chain: str | None) -> AsyncIterator[ChainService]:
    from emprops.chain import ChainService, resolve_chain
    from emprops.db import create_engine, database_url, session_factory, upgrade_to_head_async

    settings = get_settings()
    target = resolve_chain(settings, chain)
    url = database_url(settings)
    await upgrade_to_head_async(url)
    engine = create_engine(url)
    try:
        yield ChainService(session_factory(engine), target, settings.data_dir)
    finally:
        await engine.dispose()


def _run(chain: str | None, work: Callable[[ChainService], Awaitable[T]]) -> T:
    async def main() -> T:
        async with chain_service(chain) as service:
            return await work(service)

    return run_command(main)


@app.command("node")
def run_node(
    state_dir: Annotated[
        Path | None, typer.Option(help="Where the chain's state lives (default: <data_dir>/chain).")
    ] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="0: a free port.")] = 0,
    idle_exit: Annotated[float, typer.Option(help="Stop after this many idle seconds.")] = 300.0,
) -> None:
    """Run the embedded local chain (py-evm, chain id 1337) in the foreground."""
    from emprops.chain.local_node import serve

    serve(
        (state_dir or get_settings().data_dir / "chain").resolve(), port=port, idle_exit_s=idle_exit
    )


@app.command("deploy-factory")
@clear_errors
def deploy_factory(chain: ChainOption = None) -> None:
    """Deploy the platform (factory proxy + implementation, collection implementation, split
    factory) once on the chain; prints what is there if it already is."""

    async def work(service: ChainService) -> None:
        platform = await service.ensure_platform()
        console = Console()
        console.print(f"chain {service.target.name} ({service.target.chain_id})", highlight=False)
        console.print(
            f"factory {platform.factory} (implementation {platform.factory_implementation})"
        )
        console.print(f"collection implementation v1 {platform.collection_implementation}")
        console.print(
            f"split factory {platform.split_factory} ({_split_kind(platform.split_factory)}); "
            f"block {platform.block_number}"
        )

    _run(chain, work)


def _split_kind(address: str | None) -> str:
    from emprops.chain.splits import SplitsV2Factory, split_factory_at

    if address is None:
        return "none"
    return "0xSplits v2" if isinstance(split_factory_at(address), SplitsV2Factory) else "ours"


@app.command("status")
@clear_errors
def status(chain: ChainOption = None) -> None:
    """The chain's id, head block, the signer and its balance, the platform if deployed."""

    async def work(service: ChainService) -> None:
        import asyncio

        client = await service.client()
        head = await asyncio.to_thread(lambda: client.w3.eth.block_number)
        balance = await asyncio.to_thread(client.w3.eth.get_balance, client.account.address)
        platform = await service.platform()
        console = Console()
        console.print(f"chain {service.target.name} ({service.target.chain_id}), head block {head}")
        console.print(f"signer {client.address}: {balance / 1e18:.6f} ETH")
        console.print(
            f"factory {platform.factory if platform else 'not deployed (emprops chain deploy-factory)'}"
        )

    _run(chain, work)


@collection_app.command("deploy")
@clear_errors
def deploy_collection(
    package_dir: Annotated[
        Path, typer.Argument(help="A folder made by `emprops collection package`.")
    ],
    chain: ChainOption = None,
    owner: Annotated[
        str | None, typer.Option(help="The creator's address (default: the signer).")
    ] = None,
    max_supply: Annotated[
        int | None, typer.Option(min=1, help="Default: the package's tokens.")
    ] = None,
) -> None:
    """Deploy a packaged collection through the factory (address predicted, then verified)."""
    from emprops.chain import CollectionTerms
    from emprops.packaging import read_package_report

    report = read_package_report(package_dir)
    info = _collection_info(package_dir)

    async def work(service: ChainService) -> None:
        client = await service.client()
        terms = CollectionTerms(
            name=str(info.get("name") or package_dir.name), symbol=str(info.get("symbol") or "EMP"),
            base_uri=report.reveal.base_uri, contract_uri=report.reveal.contract_uri,
            owner=owner or client.address, max_supply=max_supply or report.tokens,
            royalty_bps=int(str(info.get("seller_fee_basis_points") or 0)), salt_source=report.reveal.root_cid,
        )  # fmt: skip
        deployment = await service.deploy_collection(terms)
        console = Console()
        console.print(f"collection {deployment.address} on {service.target.name}", highlight=False)
        console.print(
            f"deployment {deployment.id}; tx {deployment.tx_hash}; gas {deployment.gas_used:,}"
        )
        if deployment.royalty_split:
            console.print(f"royalty split {deployment.royalty_split}")

    _run(chain, work)


def _collection_info(package_dir: Path) -> dict[str, object]:
    import json

    for candidate in (package_dir / "collection.json", *package_dir.glob("*/collection.json")):
        if candidate.is_file():
            data: dict[str, object] = json.loads(candidate.read_text())
            return data
    return {}


@collection_app.command("mint")
@clear_errors
def mint(
    collection: Annotated[str, typer.Argument(help="Contract address or deployment id.")],
    to: Annotated[str, typer.Option(help="The receiving address.")],
    quantity: Annotated[int, typer.Option(min=1)],
    request_id: Annotated[
        str | None, typer.Option(help="Idempotency key: the same id again is the same mint.")
    ] = None,
    batch: Annotated[int | None, typer.Option(min=1, help="Tokens per transaction.")] = None,
    chain: ChainOption = None,
) -> None:
    """Mint tokens in batches, idempotently; shows a progress bar."""
    request = request_id or f"cli-{uuid.uuid4().hex[:12]}"

    async def work(service: ChainService) -> None:
        deployment = await service.deployment(collection)
        console = Console()
        columns = (TextColumn("minting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("mint", total=quantity)

            async def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            done = await service.mint(deployment.id, to, quantity, request_id=request,
                                      batch_size=batch, progress=progress)  # fmt: skip
        console.print(
            f"request {done.request_id}: {done.minted} minted to {done.to_address} "
            f"(first token {done.first_token_id}), gas {done.gas_used:,}",
            highlight=False,
        )

    _run(chain, work)
