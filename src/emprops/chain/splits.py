"""Royalty splits: which split factory a chain uses and how to call it.

Development chains (local, anvil) use our own immutable splitter (`EmpropsSplitFactory`, deployed
with the platform). Public chains use the canonical 0xSplits v2 push-split factory, called by its
address through the few functions below, which we wrote from its documented interface (none of
its code is used or copied). Both make an immutable split whose address is known before it is
created, so creating a collection's split is idempotent: same recipients, same split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from eth_utils.crypto import keccak
from web3 import Web3

from emprops.chain.contracts import ContractName, abi
from emprops.chain.presets import SPLITS_V2_PUSH_FACTORY

TOTAL_ALLOCATION = 1_000_000  # both factories count shares in millionths

# One salt for every royalty split we create: the address then depends only on the recipients
# and their shares (owner zero: nobody controls the split), so it is found again, never doubled.
ROYALTY_SALT = keccak(text="emprops:royalty-split:v1")

_SPLIT_PARAMS: dict[str, Any] = {
    "name": "params",
    "type": "tuple",
    "components": [
        {"name": "recipients", "type": "address[]"},
        {"name": "allocations", "type": "uint256[]"},
        {"name": "totalAllocation", "type": "uint256"},
        {"name": "distributionIncentive", "type": "uint16"},
    ],
}
SPLITS_V2_FACTORY_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "createSplitDeterministic",
        "stateMutability": "nonpayable",
        "inputs": [
            _SPLIT_PARAMS,
            {"name": "owner", "type": "address"},
            {"name": "creator", "type": "address"},
            {"name": "salt", "type": "bytes32"},
        ],
        "outputs": [{"name": "split", "type": "address"}],
    },
    {
        "type": "function",
        "name": "predictDeterministicAddress",
        "stateMutability": "view",
        "inputs": [
            _SPLIT_PARAMS,
            {"name": "owner", "type": "address"},
            {"name": "salt", "type": "bytes32"},
        ],
        "outputs": [{"name": "", "type": "address"}],
    },
]
ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class SplitShares:
    """Recipients sorted by address with their shares in millionths (summing to 1e6)."""

    accounts: tuple[str, ...]
    allocations: tuple[int, ...]

    @classmethod
    def of(cls, shares: dict[str, int]) -> SplitShares:
        if sum(shares.values()) != TOTAL_ALLOCATION:
            raise ValueError(f"split shares sum to {sum(shares.values())}, not {TOTAL_ALLOCATION}")
        ordered = sorted(shares.items(), key=lambda item: int(item[0], 16))
        return cls(
            accounts=tuple(Web3.to_checksum_address(a) for a, _ in ordered),
            allocations=tuple(share for _, share in ordered),
        )


class SplitFactory(Protocol):
    @property
    def address(self) -> str: ...

    def predict(self, w3: Web3, shares: SplitShares) -> str:
        """The split's address, deployed or not (a blocking call)."""
        ...

    def create_calldata(self, w3: Web3, shares: SplitShares, creator: str) -> str:
        """Calldata of the transaction that creates it."""
        ...


@dataclass(frozen=True)
class OwnSplitFactory:
    """Our `EmpropsSplitFactory` (development chains, or where 0xSplits is not deployed)."""

    address: str

    def _contract(self, w3: Web3) -> Any:
        return w3.eth.contract(
            address=Web3.to_checksum_address(self.address), abi=abi(ContractName.SPLIT_FACTORY)
        )

    def predict(self, w3: Web3, shares: SplitShares) -> str:
        accounts, allocations = list(shares.accounts), list(shares.allocations)
        return str(self._contract(w3).functions.predictSplitAddress(accounts, allocations).call())

    def create_calldata(self, w3: Web3, shares: SplitShares, creator: str) -> str:
        args = [list(shares.accounts), list(shares.allocations)]
        return str(self._contract(w3).encode_abi("createSplit", args=args))


@dataclass(frozen=True)
class SplitsV2Factory:
    """The canonical 0xSplits v2 push-split factory (push: recipients are paid directly on
    distribution, nobody has to claim from a warehouse): an immutable split (owner zero), no
    distribution incentive, our fixed salt."""

    address: str = SPLITS_V2_PUSH_FACTORY

    def _contract(self, w3: Web3) -> Any:
        return w3.eth.contract(
            address=Web3.to_checksum_address(self.address), abi=SPLITS_V2_FACTORY_ABI
        )

    @staticmethod
    def _params(shares: SplitShares) -> tuple[list[str], list[int], int, int]:
        return (list(shares.accounts), list(shares.allocations), TOTAL_ALLOCATION, 0)

    def predict(self, w3: Web3, shares: SplitShares) -> str:
        call = self._contract(w3).functions.predictDeterministicAddress(
            self._params(shares), ZERO_ADDRESS, ROYALTY_SALT
        )
        return str(call.call())

    def create_calldata(self, w3: Web3, shares: SplitShares, creator: str) -> str:
        args = [self._params(shares), ZERO_ADDRESS, creator, ROYALTY_SALT]
        return str(self._contract(w3).encode_abi("createSplitDeterministic", args=args))


def split_factory_at(address: str) -> SplitFactory:
    """The right caller for a platform's recorded split factory."""
    if address.lower() == SPLITS_V2_PUSH_FACTORY.lower():
        return SplitsV2Factory(Web3.to_checksum_address(address))
    return OwnSplitFactory(address)
