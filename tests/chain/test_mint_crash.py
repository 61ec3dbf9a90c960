"""A mint process killed (SIGKILL) at the worst moments — right after a signed transaction is
recorded, and right after it is broadcast but before its receipt is stored — then resumed with
the same request id: exactly the requested quantity is minted, each batch sent once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from emprops.db.models import ChainTransaction
from tests.chain.service_world import (
    COLLECTOR,
    collection,
    service_for,
    sessions_for,
    settings_for,
    start_node,
    stop_node,
    terms,
)

ROOT = Path(__file__).resolve().parents[2]
CRASHING_MINT = """
import asyncio, os, signal, sys, uuid
from emprops.chain import service as chain_service
from tests.chain.service_world import COLLECTOR, service_for, sessions_for, settings_for

hook, database_url, node_dir, deployment_id = sys.argv[1:5]

def die(purpose: str) -> None:
    if purpose.endswith(":1"):  # the second batch
        os.kill(os.getpid(), signal.SIGKILL)

setattr(chain_service, hook, die)

async def main() -> None:
    async with sessions_for(database_url) as sessions:
        service = service_for(sessions, settings_for("local", __import__("pathlib").Path(node_dir), None))
        await service.mint(uuid.UUID(deployment_id), COLLECTOR, 30, request_id="crash", batch_size=10)

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("crash-node")
    start_node(data_dir)
    yield data_dir
    stop_node(data_dir)


# each moment once, on one database each (both databases commit the record the same way; a
# killed mint costs a whole interpreter start, so the four pairs would double this test's time)
@pytest.mark.parametrize(
    ("hook", "database_url"),
    [("AFTER_RECORD", "postgresql"), ("AFTER_BROADCAST", "sqlite")],
    indirect=["database_url"],
)
async def test_a_killed_mint_resumes_without_minting_twice(
    hook: str, node_dir: Path, database_url: str
) -> None:
    async with sessions_for(database_url) as sessions:
        service = service_for(sessions, settings_for("local", node_dir, None))
        deployment = await service.deploy_collection(terms(max_supply=100, salt_source=hook))
        killed = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", CRASHING_MINT, hook, database_url, str(node_dir), str(deployment.id)],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert killed.returncode == -9, killed.stderr[-2000:]
        w3 = (await service.client()).w3
        minted_before = collection(w3, deployment.address).functions.totalSupply().call()
        assert minted_before == (20 if hook == "AFTER_BROADCAST" else 10)

        request = await service.mint(
            deployment.id, COLLECTOR, 30, request_id="crash", batch_size=10
        )
        assert (request.status, request.minted) == ("minted", 30)
        assert collection(w3, deployment.address).functions.totalSupply().call() == 30
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(ChainTransaction).where(
                        ChainTransaction.purpose.startswith(f"mint:{deployment.id}:")
                    )
                )
            ).scalars()
            sent = sorted((r.purpose, r.status) for r in rows)
        assert sent == [(f"mint:{deployment.id}:crash:{i}", "mined") for i in range(3)]
