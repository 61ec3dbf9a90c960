"""The chain service on the embedded local node and on anvil: the platform once, a collection at
its predicted address with its royalty split, batched idempotent mints, and every kind of bad
input refused clearly with nothing recorded and nothing minted twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from web3 import Web3

from emprops.chain import (
    ChainRpcError,
    TransactionRevertedError,
    UnfundedSignerError,
    WrongChainError,
)
from emprops.chain.contracts import ContractName, abi
from emprops.core.errors import ConflictError, InvalidInputError
from emprops.db.models import ChainTransaction, MintRequest
from tests.chain.service_world import (
    COLLECTOR,
    sent_transactions,
    service_for,
    sessions_for,
    settings_for,
    start_node,
    stop_node,
    terms,
)
from tests.chain.service_world import collection as collection_contract


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data_dir = tmp_path_factory.mktemp("node")
    start_node(data_dir)
    yield data_dir
    stop_node(data_dir)


@pytest.fixture(params=["local", "anvil"])
def chain_settings(request: pytest.FixtureRequest, node_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "anvil":
        return settings_for("anvil", tmp_path, request.getfixturevalue("anvil_url"))
    return settings_for("local", node_dir, None)


async def test_deploys_once_predicts_the_address_and_mints_idempotently(
    chain_settings,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    async with sessions_for(database_url) as sessions:
        service = service_for(sessions, chain_settings)
        platform = await service.ensure_platform()
        assert (await service.ensure_platform()).id == platform.id
        client = await service.client()
        w3 = client.w3
        factory = w3.eth.contract(address=platform.factory, abi=abi(ContractName.FACTORY))
        deployment = await service.deploy_collection(terms())
        salt = bytes.fromhex(deployment.salt.removeprefix("0x"))
        assert (
            factory.functions.predictAddress(client.address, salt, 1).call() == deployment.address
        )
        assert w3.eth.get_code(deployment.address)
        again = await service.deploy_collection(terms())
        assert again.id == deployment.id
        c = collection_contract(w3, deployment.address)
        assert c.functions.name().call() == "Faces"
        assert c.functions.owner().call() == terms().owner
        receiver, amount = c.functions.royaltyInfo(0, 10_000).call()
        assert receiver == deployment.royalty_split and amount == 500

        request = await service.mint(deployment.id, COLLECTOR, 25, request_id="drop-1")
        assert (request.minted, request.first_token_id, request.status) == (25, 0, "minted")
        assert c.functions.totalSupply().call() == 25
        assert c.functions.ownerOf(24).call() == Web3.to_checksum_address(COLLECTOR)
        assert await sent_transactions(sessions, f"mint:{deployment.id}:drop-1:") == 3  # 10+10+5
        same = await service.mint(deployment.id, COLLECTOR, 25, request_id="drop-1")
        assert same.id == request.id and c.functions.totalSupply().call() == 25
        assert await sent_transactions(sessions, f"mint:{deployment.id}:drop-1:") == 3
        with pytest.raises(ConflictError, match="drop-1"):
            await service.mint(deployment.id, COLLECTOR, 24, request_id="drop-1")


async def test_bad_mints_are_refused_before_anything_is_signed(
    chain_settings,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    async with sessions_for(database_url) as sessions:
        service = service_for(sessions, chain_settings)
        deployment = await service.deploy_collection(terms(max_supply=5, salt_source="small"))
        before = await sent_transactions(sessions)
        with pytest.raises(InvalidInputError, match="max supply of 5"):
            await service.mint(deployment.id, COLLECTOR, 6, request_id="too-many")
        with pytest.raises(InvalidInputError, match="not an address"):
            await service.mint(deployment.id, "0x1234", 1, request_id="bad-to")
        with pytest.raises(TransactionRevertedError, match="MintToZeroAddress"):
            await service.mint(deployment.id, "0x" + "00" * 20, 1, request_id="zero")
        assert await sent_transactions(sessions) == before
        async with sessions() as session:
            rows = {
                r.request_id: r.status
                for r in (await session.execute(select(MintRequest))).scalars()
            }
        assert rows == {"zero": "failed"}


async def test_an_unfunded_signer_a_wrong_chain_and_a_dead_rpc_are_clear_errors(
    node_dir: Path, database_url: str, tmp_path: Path
) -> None:
    url = start_node(node_dir)
    async with sessions_for(database_url) as sessions:
        poor = settings_for("local", node_dir, None, chain_signer_key="0x" + "42" * 32)
        with pytest.raises(UnfundedSignerError, match=r"has 0\.000000 ETH"):
            await service_for(sessions, poor).ensure_platform()
        wrong = settings_for("anvil", tmp_path, url)  # anvil's preset, the local node's URL
        with pytest.raises(WrongChainError, match="chain id 1337, not anvil's 31337"):
            await service_for(sessions, wrong).ensure_platform()
        dead = settings_for("anvil", tmp_path, "http://127.0.0.1:1", chain_rpc_timeout_s=2)
        with pytest.raises(ChainRpcError, match="RPC failed"):
            await service_for(sessions, dead).ensure_platform()
        with pytest.raises(InvalidInputError, match="development key"):
            settings = settings_for("base", tmp_path, "http://127.0.0.1:1")
            service_for(sessions, settings)
        assert await sent_transactions(sessions) == 0


async def test_the_local_chain_keeps_its_state_across_restarts(
    node_dir: Path, database_url: str
) -> None:
    async with sessions_for(database_url) as sessions:
        service = service_for(sessions, settings_for("local", node_dir, None))
        factory = (await service.ensure_platform()).factory
        deployment = await service.deploy_collection(terms(salt_source="restart"))
        await service.mint(deployment.id, COLLECTOR, 3, request_id="before")
        w3 = (await service.client()).w3
        head = w3.eth.get_block("latest")
        stop_node(node_dir)
        restarted = service_for(sessions, settings_for("local", node_dir, None))
        w3 = (await restarted.client()).w3
        assert w3.eth.get_block(head["number"])["hash"] == head["hash"]
        assert collection_contract(w3, deployment.address).functions.totalSupply().call() == 3
        assert (await restarted.ensure_platform()).factory == factory


async def test_concurrent_mints_by_one_signer_each_get_their_own_nonce(
    node_dir: Path, database_url: str
) -> None:
    """Three requests at once, each through its own service (as three workers would be), on the
    automining local node: every batch lands, in nonce order, none twice."""
    async with sessions_for(database_url) as sessions:
        settings = settings_for("local", node_dir, None)
        deployment = await service_for(sessions, settings).deploy_collection(
            terms(salt_source="concurrent", max_supply=100)
        )
        requests = await asyncio.gather(
            *(
                service_for(sessions, settings).mint(
                    deployment.id, COLLECTOR, 7, request_id=f"c{i}", batch_size=3
                )
                for i in range(3)
            )
        )
        assert [r.minted for r in requests] == [7, 7, 7]
        w3 = (await service_for(sessions, settings).client()).w3
        assert collection_contract(w3, deployment.address).functions.totalSupply().call() == 21
        async with sessions() as session:
            rows = list((await session.execute(select(ChainTransaction))).scalars())
        nonces = [r.nonce for r in rows]
        assert len(nonces) == len(set(nonces)) and all(r.status == "mined" for r in rows)
