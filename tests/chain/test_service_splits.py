"""On a public chain the royalty split comes from the canonical 0xSplits v2 factory, called by its
address. Nothing of 0xSplits can run here, so an anvil posing as Base (chain id 8453) holds, at
the canonical address, a stand-in we wrote from the documented interface
(`stubs/SplitsV2FactoryStub.sol`, compiled by the pinned solc); its splits remember what they
were created with, so the test reads back exactly what the service asked for."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from emprops.chain.presets import SPLITS_V2_PUSH_FACTORY
from emprops.chain.splits import ROYALTY_SALT, TOTAL_ALLOCATION, SplitShares, SplitsV2Factory
from tests.chain.harness import CONTRACTS_DIR, ensure_node_modules, running_anvil
from tests.chain.service_world import (
    COLLECTOR,
    CREATOR,
    collection,
    sent_transactions,
    service_for,
    sessions_for,
    settings_for,
    terms,
)

STUB = Path(__file__).parent / "stubs" / "SplitsV2FactoryStub.sol"
COMPILE = """
const solc = require(process.cwd() + "/node_modules/solc");
const source = require("fs").readFileSync(process.argv[1], "utf8");
const input = {language: "Solidity", sources: {"stub.sol": {content: source}}, settings: {
  evmVersion: "cancun", optimizer: {enabled: true, runs: 200},
  outputSelection: {"*": {"*": ["abi", "evm.deployedBytecode.object"]}}}};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length) { console.error(errors.map((e) => e.formattedMessage).join("\\n")); process.exit(1); }
const pick = (name) => ({abi: out.contracts["stub.sol"][name].abi,
  runtime: "0x" + out.contracts["stub.sol"][name].evm.deployedBytecode.object});
process.stdout.write(JSON.stringify({factory: pick("SplitsV2FactoryStub"), wallet: pick("StubSplitWallet")}));
"""


@pytest.fixture(scope="module")
def stub() -> dict[str, Any]:
    ensure_node_modules()
    node = shutil.which("node")
    assert node, "node is needed to compile the 0xSplits stand-in"
    done = subprocess.run(
        [node, "-e", COMPILE, str(STUB)], cwd=CONTRACTS_DIR, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    compiled: dict[str, Any] = json.loads(done.stdout)
    return compiled


@pytest.fixture(scope="module")
def base_lookalike(stub: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(RPC URL, signer key): an anvil with Base's chain id, the stand-in at the canonical
    address, and a signer of our own (the development key is refused on public presets)."""
    with running_anvil("--chain-id", "8453") as url:
        w3 = Web3(Web3.HTTPProvider(url))
        w3.provider.make_request(
            "anvil_setCode", [SPLITS_V2_PUSH_FACTORY, stub["factory"]["runtime"]]
        )  # type: ignore[arg-type]
        signer = Account.create()
        w3.provider.make_request("anvil_setBalance", [signer.address, hex(10**20)])  # type: ignore[arg-type]
        yield url, "0x" + bytes(signer.key).hex()


async def test_public_chains_take_the_royalty_split_from_0xsplits(
    base_lookalike: tuple[str, str], stub: dict[str, Any], tmp_path: Path
) -> None:
    url, key = base_lookalike
    settings = settings_for("base", tmp_path, url, chain_signer_key=key, chain_confirmations=0)
    async with sessions_for(f"sqlite+aiosqlite:///{tmp_path / 'splits.sqlite'}") as sessions:
        service = service_for(sessions, settings)
        platform = await service.ensure_platform()
        assert platform.split_factory == SPLITS_V2_PUSH_FACTORY
        assert await sent_transactions(sessions, "platform:") == 4  # no splitter of our own

        first = await service.deploy_collection(terms(salt_source="one"))
        client = await service.client()
        w3, signer = client.w3, client.address
        shares = SplitShares.of({CREATOR: 800_000, signer: TOTAL_ALLOCATION - 800_000})
        assert first.royalty_split == SplitsV2Factory().predict(w3, shares)
        receiver, _ = collection(w3, first.address).functions.royaltyInfo(0, 10_000).call()
        assert receiver == first.royalty_split

        split = w3.eth.contract(address=receiver, abi=stub["wallet"]["abi"])
        recorded = [
            (split.functions.recipients(i).call(), split.functions.allocations(i).call())
            for i in range(2)
        ]
        assert recorded == list(zip(shares.accounts, shares.allocations, strict=True))
        assert sorted(int(a, 16) for a, _ in recorded) == [int(a, 16) for a, _ in recorded]
        assert split.functions.totalAllocation().call() == TOTAL_ALLOCATION
        assert split.functions.distributionIncentive().call() == 0
        assert split.functions.owner().call() == "0x" + "00" * 20  # immutable: nobody controls it
        factory = w3.eth.contract(address=SPLITS_V2_PUSH_FACTORY, abi=stub["factory"]["abi"])
        (created,) = factory.events.SplitCreated().get_logs(from_block=0)
        assert (created.args.split, created.args.creator, created.args.salt) == (
            receiver,
            signer,
            ROYALTY_SALT,
        )

        second = await service.deploy_collection(terms(salt_source="two"))
        assert second.royalty_split == first.royalty_split  # same creator: the same split, once
        assert await sent_transactions(sessions, "split:") == 1
        minted = await service.mint(second.id, COLLECTOR, 3, request_id="base-drop")
        assert minted.minted == 3


async def test_a_public_chain_without_0xsplits_gets_our_splitter(tmp_path: Path) -> None:
    """Where the canonical factory has no code (a new testnet, say), the platform deploys our
    own splitter instead of failing every collection with royalties."""
    with running_anvil("--chain-id", "84532") as url:
        w3 = Web3(Web3.HTTPProvider(url))
        signer = Account.create()
        w3.provider.make_request("anvil_setBalance", [signer.address, hex(10**20)])  # type: ignore[arg-type]
        key = "0x" + bytes(signer.key).hex()
        settings = settings_for(
            "base-sepolia", tmp_path, url, chain_signer_key=key, chain_confirmations=0
        )
        async with sessions_for(f"sqlite+aiosqlite:///{tmp_path / 'own.sqlite'}") as sessions:
            service = service_for(sessions, settings)
            platform = await service.ensure_platform()
            assert platform.split_factory not in (None, SPLITS_V2_PUSH_FACTORY)
            deployment = await service.deploy_collection(terms(salt_source="own"))
            assert deployment.royalty_split and w3.eth.get_code(deployment.royalty_split)
