"""Test harness for the contracts: one small API over two EVMs (py-evm in process, anvil over RPC),
so every contract test runs against both and proves they agree."""

from __future__ import annotations

import ast
import glob
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eth.vm.forks import CancunVM
from eth_account import Account
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_typing import ChecksumAddress
from eth_utils import keccak
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.logs import DISCARD
from web3.types import TxReceipt

from emprops.chain.contracts import ContractName, abi, bytecode
from tests.strict import need

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
NODE_REASON = "anvil tests need Node.js and npm (apt-get install nodejs npm)"


# ------------------------------------------------------------------ node tooling


def ensure_node_modules() -> Path:
    """Installs the pinned npm packages (solc, libraries, anvil) once; returns node_modules.

    Without Node.js and npm on PATH the calling test skips (fails under EMPROPS_TEST_STRICT=1)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    need(node and npm, NODE_REASON)
    assert npm
    modules = CONTRACTS_DIR / "node_modules"
    if not (modules / "solc").is_dir() or not glob.glob(str(modules / "@foundry-rs/anvil-linux-*")):
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=CONTRACTS_DIR,
            check=True,
            capture_output=True,
        )
    return modules


def anvil_binary() -> Path:
    """The static binary inside the platform package: killing it kills anvil (the Node wrapper would
    leave anvil running)."""
    found = sorted(glob.glob(str(ensure_node_modules() / "@foundry-rs/anvil-linux-*/bin/anvil")))
    assert found, "no @foundry-rs/anvil-linux-* package under contracts/node_modules"
    return Path(found[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_anvil(*extra_args: str) -> Iterator[str]:
    """A fresh anvil on a free loopback port; `extra_args` e.g. ("--chain-id", "8453")."""
    port = free_port()
    args = [str(anvil_binary()), "--hardfork", "cancun", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [*args, *extra_args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                Web3(Web3.HTTPProvider(url)).eth.chain_id  # noqa: B018 - readiness probe
                break
            except Exception:
                assert proc.poll() is None, f"anvil exited with {proc.returncode}"
                assert time.monotonic() < deadline, "anvil did not answer within 20 s"
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------ chains


def error_selector(name: str) -> bytes:
    """4-byte selector of the custom error `name`, looked up in every artifact's ABI."""
    for contract in ContractName:
        for entry in abi(contract):
            if entry["type"] == "error" and entry["name"] == name:
                types = ",".join(arg["type"] for arg in entry["inputs"])
                return keccak(text=f"{name}({types})")[:4]
    raise KeyError(f"no custom error {name} in the artifacts")


def _revert_data(exc: Exception) -> bytes:
    if isinstance(exc, (ContractCustomError, ContractLogicError)) and isinstance(exc.data, str):
        return bytes.fromhex(exc.data.removeprefix("0x"))
    if isinstance(exc, TransactionFailed):
        # eth-tester formats the revert data as "execution reverted: b'...'".
        message = str(exc.args[0])
        literal = message.split(": ", 1)[1] if ": " in message else message
        value = ast.literal_eval(literal)
        return value if isinstance(value, bytes) else value.encode()
    raise AssertionError(f"not a revert: {exc!r}") from exc


@dataclass
class Chain:
    """A funded EVM with sequential, awaited sends (concurrent automined sends can wedge anvil)."""

    name: str
    w3: Web3
    accounts: list[ChecksumAddress] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.accounts = list(self.w3.eth.accounts)

    def send(
        self, fn: ContractFunction, sender: ChecksumAddress | None = None, value: int = 0
    ) -> TxReceipt:
        tx_hash = fn.transact({"from": sender or self.accounts[0], "value": value})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, f"{fn.fn_name} failed on {self.name}"
        return receipt

    def send_eth(self, to: str, value: int, sender: ChecksumAddress | None = None) -> TxReceipt:
        tx_hash = self.w3.eth.send_transaction(
            {"from": sender or self.accounts[0], "to": Web3.to_checksum_address(to), "value": value}
        )
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt["status"] == 1
        return receipt

    def deploy(self, name: ContractName, *args: Any) -> tuple[Contract, TxReceipt]:
        factory = self.w3.eth.contract(abi=abi(name), bytecode=bytecode(name))
        receipt = self.send(factory.constructor(*args))
        return self.at(name, receipt["contractAddress"]), receipt

    def at(self, name: ContractName, address: str) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi(name))

    def advance_time(self, seconds: int) -> None:
        if self.name == "anvil":
            self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        else:
            tester: EthereumTester = self.w3.provider.ethereum_tester  # type: ignore[attr-defined]
            tester.time_travel(self.w3.eth.get_block("latest")["timestamp"] + seconds)

    def storage_word(self, address: str, slot: int) -> int:
        raw = self.w3.eth.get_storage_at(Web3.to_checksum_address(address), slot)
        return int.from_bytes(raw, "big")

    @contextmanager
    def reverts(self, error: str) -> Iterator[None]:
        """Expects the block to revert with the custom error `error`."""
        try:
            yield
        except (ContractCustomError, ContractLogicError, TransactionFailed) as exc:
            data = _revert_data(exc)
            assert data[:4] == error_selector(error), f"reverted with {data.hex()}, not {error}"
        else:
            raise AssertionError(f"expected a revert with {error}")


def pyevm_chain() -> Chain:
    """In-process EVM pinned to Cancun, the fork the contracts are compiled for."""
    backend = PyEVMBackend(vm_configuration=((0, CancunVM),))
    return Chain("py-evm", Web3(EthereumTesterProvider(EthereumTester(backend))))


def anvil_chain(url: str) -> Chain:
    return Chain("anvil", Web3(Web3.HTTPProvider(url)))


def fresh_address() -> ChecksumAddress:
    return Web3.to_checksum_address(Account.create().address)


# ------------------------------------------------------------------ platform

CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"


@dataclass(frozen=True)
class CollectionParams:
    """EmpropsCollection.InitParams, in ABI order."""

    owner: str
    minter: str
    royalty_receiver: str
    name: str = "EmProps Genesis"
    symbol: str = "EMPG"
    base_uri: str = f"ipfs://{CID}/"
    contract_uri: str = f"ipfs://{CID}/collection.json"
    royalty_bps: int = 500
    max_supply: int = 10_000
    max_per_tx: int = 100
    window_limit: int = 1_000
    window_seconds: int = 3_600
    ownership_stride: int = 8

    def with_(self, **changes: Any) -> CollectionParams:
        return replace(self, **changes)

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.name,
            self.symbol,
            self.base_uri,
            self.contract_uri,
            self.owner,
            self.minter,
            self.royalty_receiver,
            self.royalty_bps,
            self.max_supply,
            self.max_per_tx,
            self.window_limit,
            self.window_seconds,
            self.ownership_stride,
        )


@dataclass
class Platform:
    chain: Chain
    factory: Contract  # the ERC1967 proxy, with the factory ABI
    factory_implementation: Contract
    collection_implementation: Contract
    split_factory: Contract
    owner: ChecksumAddress

    def create_collection(
        self,
        params: CollectionParams,
        salt: bytes,
        creator: ChecksumAddress | None = None,
        version: int = 1,
    ) -> tuple[Contract, TxReceipt]:
        sender = creator or self.chain.accounts[0]
        receipt = self.chain.send(
            self.factory.functions.createCollection(version, salt, params.as_tuple()), sender
        )
        (event,) = self.factory.events.CollectionCreated().process_receipt(receipt, errors=DISCARD)
        return self.chain.at(ContractName.COLLECTION, event["args"]["collection"]), receipt

    def create_split(self, accounts: list[str], allocations: list[int]) -> Contract:
        self.chain.send(self.split_factory.functions.createSplit(accounts, allocations))
        address = self.split_factory.functions.predictSplitAddress(accounts, allocations).call()
        return self.chain.at(ContractName.SPLIT, address)


def deploy_platform(chain: Chain) -> Platform:
    owner = chain.accounts[0]
    factory_implementation, _ = chain.deploy(ContractName.FACTORY)
    init = factory_implementation.encode_abi("initialize", [owner])
    proxy, _ = chain.deploy(ContractName.PROXY, factory_implementation.address, init)
    factory = chain.at(ContractName.FACTORY, proxy.address)
    collection_implementation, _ = chain.deploy(ContractName.COLLECTION)
    chain.send(factory.functions.registerImplementation(collection_implementation.address), owner)
    split_factory, _ = chain.deploy(ContractName.SPLIT_FACTORY)
    return Platform(
        chain, factory, factory_implementation, collection_implementation, split_factory, owner
    )


def sorted_addresses(addresses: list[str]) -> list[ChecksumAddress]:
    return sorted((Web3.to_checksum_address(a) for a in addresses), key=lambda a: int(a, 16))
