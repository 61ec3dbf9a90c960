"""Gas table for the contracts: whole-transaction gas from receipts, beside the ERC721A clone baseline
measured in shared/spec/chain.md.

    uv run --frozen python bench/gas/run.py                   # anvil (--hardfork cancun)
    uv run --frozen python bench/gas/run.py --backend py-evm  # the in-process EVM, same numbers

Gas is deterministic, so one run per row is the measurement (no medians: machine noise cannot move it).
"""

from __future__ import annotations

import argparse
import glob
import itertools
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils import keccak
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from emprops.chain.contracts import ContractName, abi, bytecode

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
STRIDES = (8, 20)

# shared/spec/chain.md, "ERC721A clone (measured)"; None where it gives no number.
BASELINE: dict[str, int | None] = {
    "create a collection (clone + initialize)": 313_763,
    "first mint into a new collection (x1)": None,
    "mintTo new holder x1": 81_020,
    "mintTo new holder x5": 88_728,
    "mintTo new holder x10": 98_363,
    "mintTo new holder x20": 117_621,
    "mintTo existing holder x1": 63_920,
    "mintTo existing holder x5": 71_628,
    "mintTo existing holder x10": 81_263,
    "mintTo existing holder x20": 100_533,
    "mintTo new holder x100": None,
    "first transfer, last token of a 20-batch": None,
    "first transfer, last token of a 100-batch": 281_000,  # the spec's "281k", rounded there
    "first transfer, last token of a full chunk": None,
    "first transfer, worst token of a 100-batch": None,
    "split: create 70/30": 166_700,
    "split: distribute ETH (first)": 112_100,
    "split: distribute ETH (again)": None,
    "split: withdraw": None,
}


# ------------------------------------------------------------------ chain


@contextmanager
def anvil() -> Iterator[Web3]:
    modules = CONTRACTS_DIR / "node_modules"
    if not glob.glob(str(modules / "@foundry-rs/anvil-linux-*")):
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm is needed to install contracts/package-lock.json")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=CONTRACTS_DIR,
            check=True,
        )
    (binary,) = glob.glob(str(modules / "@foundry-rs/anvil-linux-*/bin/anvil"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--hardfork", "cancun", "--host", "127.0.0.1", "--port", str(port), "--silent"]
    )
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
    try:
        for _ in range(400):
            try:
                w3.eth.chain_id  # noqa: B018 - readiness probe
                break
            except Exception:
                time.sleep(0.05)
        yield w3
    finally:
        proc.terminate()
        proc.wait(timeout=5)


@contextmanager
def pyevm() -> Iterator[Web3]:
    from eth.vm.forks import CancunVM
    from eth_tester import EthereumTester, PyEVMBackend

    backend = PyEVMBackend(vm_configuration=((0, CancunVM),))
    yield Web3(EthereumTesterProvider(EthereumTester(backend)))


@dataclass
class Bench:
    w3: Web3

    @property
    def accounts(self) -> list[Any]:
        return list(self.w3.eth.accounts)

    def send(self, fn: ContractFunction, sender: str | None = None) -> int:
        tx_hash = fn.transact({"from": sender or self.accounts[0]})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            raise RuntimeError(f"{fn.fn_name} reverted")
        return int(receipt["gasUsed"])

    def deploy(self, name: ContractName, *args: Any) -> Contract:
        tx_hash = (
            self.w3.eth.contract(abi=abi(name), bytecode=bytecode(name))
            .constructor(*args)
            .transact({"from": self.accounts[0]})
        )
        address = self.w3.eth.wait_for_transaction_receipt(tx_hash)["contractAddress"]
        return self.at(name, address)

    def at(self, name: ContractName, address: str) -> Contract:
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi(name))


_fresh_keys = itertools.count(1)


def fresh() -> str:
    """A never-used address, the same on every run: calldata gas depends on the address bytes."""
    return str(Account.from_key(keccak(next(_fresh_keys).to_bytes(32, "big"))).address)


# ------------------------------------------------------------------ scenarios


def collection_rows(bench: Bench, factory: Contract, stride: int, salt: int) -> dict[str, int]:
    owner, minter, royalty, holder, seller = bench.accounts[1:6]
    params = (
        "EmProps Genesis",
        "EMPG",
        f"ipfs://{CID}/",
        f"ipfs://{CID}/collection.json",
        owner,
        minter,
        royalty,
        500,
        100_000,
        100,
        10_000,
        3_600,
        stride,
    )
    rows: dict[str, int] = {}
    create = factory.functions.createCollection(1, salt.to_bytes(32, "big"), params)
    rows["create a collection (clone + initialize)"] = bench.send(create)
    address = factory.functions.predictAddress(
        bench.accounts[0], salt.to_bytes(32, "big"), 1
    ).call()
    mint = bench.at(ContractName.COLLECTION, address).functions
    collection = bench.at(ContractName.COLLECTION, address)

    rows["first mint into a new collection (x1)"] = bench.send(mint.mintTo(holder, 1), minter)
    for quantity in (1, 5, 10, 20):
        rows[f"mintTo new holder x{quantity}"] = bench.send(mint.mintTo(fresh(), quantity), minter)
    for quantity in (1, 5, 10, 20):
        rows[f"mintTo existing holder x{quantity}"] = bench.send(
            mint.mintTo(holder, quantity), minter
        )

    # First transfers go to fresh addresses, right after the batch (nothing minted after it).
    for batch in (20, 100):
        first = collection.functions.totalSupply().call()
        gas = bench.send(mint.mintTo(seller, batch), minter)
        if batch == 100:
            rows["mintTo new holder x100"] = gas
        last = first + batch - 1
        rows[f"first transfer, last token of a {batch}-batch"] = bench.send(
            collection.functions.transferFrom(seller, fresh(), last), seller
        )
        if batch == 100:
            # The bound for a token whose next slot is already written: stride-1 empty slots scanned.
            chunk_end = first + 2 * stride + (stride - 1)
            rows["first transfer, last token of a full chunk"] = bench.send(
                collection.functions.transferFrom(seller, fresh(), chunk_end), seller
            )
            # The most expensive token: stride-2 empty slots scanned, and ERC721A writes the next
            # token's ownership slot (22,100 gas) because that token keeps the old owner.
            worst = first + stride + (stride - 2)
            rows["first transfer, worst token of a 100-batch"] = bench.send(
                collection.functions.transferFrom(seller, fresh(), worst), seller
            )
    return rows


def split_rows(bench: Bench) -> dict[str, int]:
    split_factory = bench.deploy(ContractName.SPLIT_FACTORY)
    accounts = sorted([fresh(), fresh()], key=lambda a: int(a, 16))
    allocations = [700_000, 300_000]
    rows = {
        "split: create 70/30": bench.send(
            split_factory.functions.createSplit(accounts, allocations)
        )
    }
    split = bench.at(
        ContractName.SPLIT,
        split_factory.functions.predictSplitAddress(accounts, allocations).call(),
    )
    for label in ("first", "again"):
        tx_hash = bench.w3.eth.send_transaction(
            {"from": bench.accounts[0], "to": split.address, "value": 10**18}
        )
        bench.w3.eth.wait_for_transaction_receipt(tx_hash)
        rows[f"split: distribute ETH ({label})"] = bench.send(split.functions.distributeETH())
    rows["split: withdraw"] = bench.send(split.functions.withdraw(accounts[0]))
    return rows


def measure(w3: Web3) -> dict[int, dict[str, int]]:
    bench = Bench(w3)
    owner = bench.accounts[0]
    implementation = bench.deploy(ContractName.FACTORY)
    proxy = bench.deploy(
        ContractName.PROXY, implementation.address, implementation.encode_abi("initialize", [owner])
    )
    factory = bench.at(ContractName.FACTORY, proxy.address)
    bench.send(
        factory.functions.registerImplementation(bench.deploy(ContractName.COLLECTION).address)
    )
    splits = split_rows(bench)
    return {
        stride: collection_rows(bench, factory, stride, salt=stride) | splits for stride in STRIDES
    }


def table(results: dict[int, dict[str, int]]) -> str:
    header = (
        "| operation | ERC721A clone baseline | "
        + " | ".join(f"ours, stride {s}" for s in STRIDES)
        + " |"
    )
    lines = [header, "|---|---:|" + "---:|" * len(STRIDES)]
    for row, baseline in BASELINE.items():
        cells = []
        for stride in STRIDES:
            gas = results[stride][row]
            ratio = f" ({gas / baseline:.2f}×)" if baseline else ""
            cells.append(f"{gas:,}{ratio}")
        base = f"{baseline:,}" if baseline else "–"
        lines.append(f"| {row} | {base} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["anvil", "py-evm"], default="anvil")
    args = parser.parse_args()
    chain = anvil() if args.backend == "anvil" else pyevm()
    with chain as w3:
        results = measure(w3)
    print(
        f"gas per transaction (receipt gasUsed), {args.backend}, cancun, solc 0.8.28 optimizer 200"
    )
    print(table(results))


if __name__ == "__main__":
    main()
