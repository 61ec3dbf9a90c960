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
    FeeCapExceededError,
    TransactionRevertedError,
    UnfundedSignerError,
    WrongChainError,
)
from emprops.chain import service as chain_service
from emprops.chain.contracts import ContractName, abi
from emprops.core.errors import ConflictError, InvalidInputError
from emprops.db.models import ChainTransaction, MintRequest
from tests.chain.service_world import (
    COLLECTOR,
    sent_transactions,
    service_for,
    sessions_for,
    settings_for,
    silent_server,
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
        wanted = terms(max_supply=120, max_per_tx=25)
        deployment = await service.deploy_collection(wanted)
        salt = bytes.fromhex(deployment.salt.removeprefix("0x"))
        assert (
            factory.functions.predictAddress(client.address, salt, 1).call() == deployment.address
        )
        assert w3.eth.get_code(deployment.address)
        again = await service.deploy_collection(wanted)
        assert again.id == deployment.id
        c = collection_contract(w3, deployment.address)
        assert c.functions.name().call() == "Faces"
        assert c.functions.owner().call() == terms().owner
        receiver, amount = c.functions.royaltyInfo(0, 10_000).call()
        assert receiver == deployment.royalty_split and amount == 500

        request = await service.mint(deployment.id, COLLECTOR, 100, request_id="drop-1")
        assert (request.minted, request.first_token_id, request.status) == (100, 0, "minted")
        collector = Web3.to_checksum_address(COLLECTOR)
        assert c.functions.totalSupply().call() == 100
        assert c.functions.balanceOf(collector).call() == 100
        assert {c.functions.ownerOf(t).call() for t in (0, 24, 25, 99)} == {collector}
        assert await sent_transactions(sessions, f"mint:{deployment.id}:drop-1:") == 4  # 4 x 25
        same = await service.mint(deployment.id, COLLECTOR, 100, request_id="drop-1")
        assert same.id == request.id and c.functions.totalSupply().call() == 100
        assert await sent_transactions(sessions, f"mint:{deployment.id}:drop-1:") == 4
        with pytest.raises(ConflictError, match="drop-1"):
            await service.mint(deployment.id, COLLECTOR, 99, request_id="drop-1")


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
        with pytest.raises(TransactionRevertedError, match=r"MintToZeroAddress\(\)"):
            await service.mint(deployment.id, "0x" + "00" * 20, 1, request_id="zero")
        # the contract's own refusal, by name, had our check not caught it first
        client = await service.client()
        over = collection_contract(client.w3, deployment.address).encode_abi(
            "mintTo", args=[Web3.to_checksum_address(COLLECTOR), 6]
        )
        with pytest.raises(TransactionRevertedError, match=r"MaxSupplyExceeded\(6, 5\)"):
            client.sign({"to": deployment.address, "data": over}, client.pending_nonce())
        assert await sent_transactions(sessions) == before
        async with sessions() as session:
            rows = {
                r.request_id: r.status
                for r in (await session.execute(select(MintRequest))).scalars()
            }
        assert rows == {"zero": "failed"}


async def test_a_mint_refused_halfway_keeps_what_was_minted_and_says_why(
    chain_settings,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    """A window limit of 5: the first batch of 4 lands, the second would pass it and is refused
    before it is signed; the request is failed with its 4 counted, and stays so."""
    async with sessions_for(database_url) as sessions:
        service = service_for(sessions, chain_settings)
        limited = terms(salt_source="window", max_per_tx=4, window_limit=5, window_seconds=3600)
        deployment = await service.deploy_collection(limited)
        for _ in range(2):  # asking again changes nothing
            with pytest.raises(TransactionRevertedError, match=r"WindowLimitExceeded\(8, 5\)"):
                await service.mint(deployment.id, COLLECTOR, 8, request_id="w", batch_size=4)
            async with sessions() as session:
                request = (await session.execute(select(MintRequest))).scalar_one()
            assert (request.status, request.minted) == ("failed", 4)
            assert "WindowLimitExceeded" in (request.error or "")
            assert await sent_transactions(sessions, f"mint:{deployment.id}:w:") == 1
        w3 = (await service.client()).w3
        assert collection_contract(w3, deployment.address).functions.totalSupply().call() == 4


async def test_a_transaction_recorded_but_never_sent_does_not_block_the_next(
    chain_settings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """A process dies between recording a signed mint and sending it: its nonce is taken. The
    signer's next transaction sends it first (a node mines nonce N+1 only after N), and the dead
    request, resumed, finds its batch mined instead of sending it again."""

    class Died(Exception):
        pass

    def die(purpose: str) -> None:
        raise Died(purpose)

    settings = chain_settings.model_copy(update={"chain_receipt_timeout_s": 20.0})
    async with sessions_for(database_url) as sessions:
        service = service_for(sessions, settings)
        deployment = await service.deploy_collection(terms(salt_source="gap"))
        monkeypatch.setattr(chain_service, "AFTER_RECORD", die)
        with pytest.raises(Died):
            await service.mint(deployment.id, COLLECTOR, 3, request_id="died")
        monkeypatch.setattr(chain_service, "AFTER_RECORD", None)
        other = await service_for(sessions, settings).mint(
            deployment.id, COLLECTOR, 2, request_id="next"
        )
        assert other.minted == 2
        resumed = await service_for(sessions, settings).mint(
            deployment.id, COLLECTOR, 3, request_id="died"
        )
        assert (resumed.status, resumed.minted) == ("minted", 3)
        w3 = (await service.client()).w3
        assert collection_contract(w3, deployment.address).functions.totalSupply().call() == 5
        async with sessions() as session:
            mints = [
                r
                for r in (await session.execute(select(ChainTransaction))).scalars()
                if r.purpose.startswith(f"mint:{deployment.id}:")
            ]
        assert sorted(r.purpose.rsplit(":", 2)[1] for r in mints) == ["died", "next"]
        assert all(r.status == "mined" for r in mints)
        assert len({r.nonce for r in mints}) == 2


async def test_an_unfunded_signer_a_wrong_chain_and_a_dead_rpc_are_clear_errors(
    node_dir: Path, tmp_path: Path
) -> None:
    """Each is refused before anything is signed or written (one database is enough here)."""
    url = start_node(node_dir)
    async with sessions_for(f"sqlite+aiosqlite:///{tmp_path / 'refused.sqlite'}") as sessions:
        poor = settings_for("local", node_dir, None, chain_signer_key="0x" + "42" * 32)
        with pytest.raises(UnfundedSignerError, match=r"has 0\.000000 ETH"):
            await service_for(sessions, poor).ensure_platform()
        capped = settings_for("local", node_dir, None, chain_max_fee_gwei=0.000001)
        with pytest.raises(FeeCapExceededError, match=r"over the cap of 0\.000 gwei"):
            await service_for(sessions, capped).ensure_platform()
        wrong = settings_for("anvil", tmp_path, url)  # anvil's preset, the local node's URL
        with pytest.raises(WrongChainError, match="chain id 1337, not anvil's 31337"):
            await service_for(sessions, wrong).ensure_platform()
        dead = settings_for("anvil", tmp_path, "http://127.0.0.1:1", chain_rpc_timeout_s=2)
        with pytest.raises(ChainRpcError, match="RPC failed"):
            await service_for(sessions, dead).ensure_platform()
        with silent_server() as silent:
            slow = settings_for("anvil", tmp_path, silent, chain_rpc_timeout_s=0.5)
            with pytest.raises(ChainRpcError, match=r"RPC failed .*Timeout"):
                await service_for(sessions, slow).ensure_platform()
        with pytest.raises(InvalidInputError, match="development key"):
            settings = settings_for("base", tmp_path, "http://127.0.0.1:1")
            service_for(sessions, settings)
        assert await sent_transactions(sessions) == 0


async def test_the_local_chain_keeps_its_state_across_restarts(
    node_dir: Path, tmp_path: Path
) -> None:
    async with sessions_for(f"sqlite+aiosqlite:///{tmp_path / 'restart.sqlite'}") as sessions:
        service = service_for(sessions, settings_for("local", node_dir, None))
        factory = (await service.ensure_platform()).factory
        deployment = await service.deploy_collection(terms(salt_source="restart"))
        await service.mint(deployment.id, COLLECTOR, 3, request_id="before")
        client = await service.client()
        w3 = client.w3
        head = w3.eth.get_block("latest")
        balance = w3.eth.get_balance(client.address)
        stop_node(node_dir)
        restarted = service_for(sessions, settings_for("local", node_dir, None))
        w3 = (await restarted.client()).w3
        assert w3.eth.get_block("latest")["hash"] == head["hash"]
        assert w3.eth.get_balance(client.address) == balance
        assert collection_contract(w3, deployment.address).functions.totalSupply().call() == 3
        assert (await restarted.ensure_platform()).factory == factory


async def test_concurrent_mints_by_one_signer_each_get_their_own_nonce(
    node_dir: Path, database_url: str
) -> None:
    """Eight requests at once, each through its own service (as workers would be), on the
    automining local node: every batch lands, in nonce order, none twice. Eight is more than the
    default thread pool of a 2-core machine: waiting for the signer's lock must not hold one."""
    async with sessions_for(database_url) as sessions:
        settings = settings_for("local", node_dir, None)
        deployment = await service_for(sessions, settings).deploy_collection(
            terms(salt_source="concurrent", max_supply=100)
        )
        requests = await asyncio.wait_for(
            asyncio.gather(
                *(
                    service_for(sessions, settings).mint(
                        deployment.id, COLLECTOR, 1, request_id=f"c{i}"
                    )
                    for i in range(8)
                )
            ),
            timeout=60,
        )
        assert [r.minted for r in requests] == [1] * 8
        w3 = (await service_for(sessions, settings).client()).w3
        assert collection_contract(w3, deployment.address).functions.totalSupply().call() == 8
        async with sessions() as session:
            rows = list((await session.execute(select(ChainTransaction))).scalars())
        nonces = [r.nonce for r in rows]
        assert len(nonces) == len(set(nonces)) and all(r.status == "mined" for r in rows)
