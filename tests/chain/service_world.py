"""What the chain service tests share: a local node (the embedded default, in its own process)
and a database of their own per test, on either chain."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from web3 import Web3

from emprops.chain import ChainService, CollectionTerms, resolve_chain
from emprops.chain.contracts import ContractName, abi
from emprops.chain.local_node import local_node_url
from emprops.core.settings import Settings
from emprops.db import create_engine, session_factory, upgrade_to_head_async
from emprops.db.models import ChainTransaction

CREATOR = "0x" + "c0" * 20
COLLECTOR = "0x" + "ab" * 20


@contextmanager
def silent_server() -> Iterator[str]:
    """An HTTP URL whose server accepts connections and never answers: an RPC that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def start_node(data_dir: Path) -> str:
    return local_node_url(data_dir)


def stop_node(data_dir: Path) -> None:
    info = data_dir / "chain" / "node.json"
    if info.is_file():
        pid = int(json.loads(info.read_text())["pid"])
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            with suppress(ChildProcessError):  # our own child: reap it, or it stays a zombie
                os.waitpid(pid, os.WNOHANG)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        info.unlink(missing_ok=True)


@asynccontextmanager
async def sessions_for(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await upgrade_to_head_async(database_url)
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def settings_for(chain: str, data_dir: Path, rpc_url: str | None, **changes: object) -> Settings:
    values: dict[str, object] = {"data_dir": data_dir, "chain": chain, "chain_rpc_url": rpc_url}
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


def service_for(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> ChainService:
    return ChainService(sessions, resolve_chain(settings), settings.data_dir)


def terms(**changes: object) -> CollectionTerms:
    values: dict[str, object] = {
        "name": "Faces", "symbol": "FACE", "base_uri": "ipfs://bafybase/",
        "contract_uri": "ipfs://bafycontract", "owner": Web3.to_checksum_address(CREATOR),
        "max_supply": 40, "royalty_bps": 500, "max_per_tx": 10, "salt_source": "test",
    }  # fmt: skip
    values.update(changes)
    return CollectionTerms.model_validate(values)


def collection(w3: Web3, address: str):  # type: ignore[no-untyped-def]
    return w3.eth.contract(
        address=Web3.to_checksum_address(address), abi=abi(ContractName.COLLECTION)
    )


async def sent_transactions(sessions: async_sessionmaker[AsyncSession], prefix: str = "") -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ChainTransaction)
            .where(ChainTransaction.purpose.startswith(prefix))
        )
    return int(count or 0)
