"""One signer on one chain over web3.py (synchronous; services call it from a thread): builds
EIP-1559 transactions under a fee cap, signs them, broadcasts, waits for receipts, and turns
every failure into an `EmpropsError` that says what happened (a decoded custom error for a
revert, the balance short for an unfunded signer, the RPC for an RPC that fails)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils.crypto import keccak
from web3 import Web3
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TransactionNotFound,
    Web3RPCError,
)

from emprops.chain.contracts import ContractName, abi
from emprops.chain.presets import ChainTarget
from emprops.core.errors import ConflictError, EmpropsError, InvalidInputError, UnavailableError


class ChainRpcError(UnavailableError):
    """The node did not answer, or answered with an error that is not about our transaction."""


class WrongChainError(InvalidInputError):
    pass


class UnfundedSignerError(InvalidInputError):
    pass


class FeeCapExceededError(UnavailableError):
    """The chain is more expensive than the cap right now: later may be cheaper."""


class TransactionRevertedError(ConflictError):
    """The contract refused the transaction; `error` names its custom error when it has one."""


@dataclass(frozen=True)
class SignedTransaction:
    raw: str  # 0x-hex, what eth_sendRawTransaction takes
    tx_hash: str
    nonce: int
    max_cost_wei: int


@cache
def _custom_errors() -> dict[bytes, tuple[str, list[str]]]:
    found: dict[bytes, tuple[str, list[str]]] = {}
    for contract in ContractName:
        for entry in abi(contract):
            if entry["type"] == "error":
                types = [arg["type"] for arg in entry["inputs"]]
                selector = keccak(text=f"{entry['name']}({','.join(types)})")[:4]
                found[selector] = (entry["name"], types)
    return found


def describe_revert(data: str | bytes | None) -> str:
    """`MaxSupplyExceeded(100, 101)` from revert data, or the reason string, or 'no reason'."""
    if data is None:
        return "no reason given"
    raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else data
    if len(raw) < 4:
        return "no reason given"
    if raw[:4] == bytes.fromhex("08c379a0"):  # Error(string)
        from eth_abi.abi import decode

        return str(decode(["string"], raw[4:])[0])
    known = _custom_errors().get(raw[:4])
    if known is None:
        return f"unknown error 0x{raw[:4].hex()}"
    name, types = known
    try:
        from eth_abi.abi import decode

        values = decode(types, raw[4:]) if types else ()
    except Exception:
        values = ()
    return f"{name}({', '.join(str(v) for v in values)})"


def _revert_data(exc: Exception) -> str | None:
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return data
    if isinstance(data, dict):
        inner = data.get("data")
        return inner if isinstance(inner, str) else None
    return None


class ChainClient:
    def __init__(self, target: ChainTarget, rpc_url: str) -> None:
        self.target = target
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": target.rpc_timeout_s}))
        self.account: LocalAccount = Account.from_key(target.signer_key)

    @property
    def address(self) -> str:
        return str(self.account.address)

    def _rpc(self, what: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except (ContractCustomError, ContractLogicError) as exc:
            raise TransactionRevertedError(
                f"{what} would revert: {describe_revert(_revert_data(exc))}",
                details={"revert": describe_revert(_revert_data(exc))},
            ) from None
        except EmpropsError:
            raise
        except Web3RPCError as exc:
            message = str(exc)
            if "revert" in message.lower():
                raise TransactionRevertedError(
                    f"{what} would revert: {describe_revert(_revert_data(exc)) if _revert_data(exc) else message}"
                ) from None
            if "insufficient funds" in message or "cannot afford" in message:
                raise UnfundedSignerError(
                    f"the signer {self.account.address} cannot pay for this on {self.target.name}: "
                    "fund it, or set EMPROPS_CHAIN_SIGNER_KEY to a funded key",
                    details={"signer": self.account.address},
                ) from None
            raise ChainRpcError(f"{what}: the node refused: {message[:300]}") from None
        except Exception as exc:
            raise ChainRpcError(
                f"{what}: the chain's RPC failed ({type(exc).__name__}: {str(exc)[:200]})",
                details={"chain": self.target.name},
            ) from None

    def check_chain(self) -> None:
        actual = self._rpc("eth_chainId", lambda: self.w3.eth.chain_id)
        if actual != self.target.chain_id:
            raise WrongChainError(
                f"the RPC URL serves chain id {actual}, not {self.target.name}'s {self.target.chain_id}",
                details={"expected": self.target.chain_id, "actual": actual},
            )

    def genesis_hash(self) -> str:
        block = self._rpc("eth_getBlockByNumber", self.w3.eth.get_block, 0)
        return "0x" + bytes(block["hash"]).hex()

    def pending_nonce(self) -> int:
        return int(
            self._rpc(
                "eth_getTransactionCount",
                self.w3.eth.get_transaction_count,
                self.account.address,
                "pending",
            )
        )

    def fees(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas): twice the base fee plus the tip, under the cap."""
        latest = self._rpc("eth_getBlockByNumber", self.w3.eth.get_block, "latest")
        base = int(latest.get("baseFeePerGas") or 0)
        try:
            tip = int(self.w3.eth.max_priority_fee)
        except Exception:
            tip = 10**9
        cap = self.target.max_fee_wei
        if base + tip > cap:
            raise FeeCapExceededError(
                f"{self.target.name}'s base fee {base / 1e9:.3f} gwei plus tip is over the cap of "
                f"{cap / 1e9:.3f} gwei (EMPROPS_CHAIN_MAX_FEE_GWEI)",
                details={"base_fee_wei": base, "cap_wei": cap},
            )
        return min(2 * base + tip, cap), min(tip, cap)

    def sign(self, tx: dict[str, Any], nonce: int) -> SignedTransaction:
        """Estimate gas (a revert shows here, before anything is signed), price it, check the
        balance covers it, sign."""
        tx = {**tx, "from": self.account.address, "chainId": self.target.chain_id, "nonce": nonce}
        if int(self._rpc("eth_getBalance", self.w3.eth.get_balance, self.account.address)) == 0:
            raise UnfundedSignerError(
                f"the signer {self.account.address} has 0.000000 ETH on {self.target.name}",
                details={"signer": self.account.address, "balance_wei": 0},
            )
        # estimated without the nonce: ours may be ahead of the chain's (an earlier transaction
        # recorded, not yet sent), and some nodes refuse to estimate a future nonce
        estimate = {key: value for key, value in tx.items() if key != "nonce"}
        gas = int(self._rpc("eth_estimateGas", self.w3.eth.estimate_gas, estimate)) * 12 // 10
        gas += 10_000
        max_fee, tip = self.fees()
        tx.update(gas=gas, maxFeePerGas=max_fee, maxPriorityFeePerGas=tip, type=2)
        tx.pop("from")
        cost = gas * max_fee + int(tx.get("value", 0))
        balance = int(self._rpc("eth_getBalance", self.w3.eth.get_balance, self.account.address))
        if balance < cost:
            raise UnfundedSignerError(
                f"the signer {self.account.address} has {balance / 1e18:.6f} ETH on "
                f"{self.target.name}; this transaction may cost up to {cost / 1e18:.6f}",
                details={"signer": self.account.address, "balance_wei": balance, "cost_wei": cost},
            )
        signed = self.account.sign_transaction(tx)
        return SignedTransaction(
            raw="0x" + bytes(signed.raw_transaction).hex(),
            tx_hash="0x" + bytes(signed.hash).hex(),
            nonce=nonce,
            max_cost_wei=cost,
        )

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        try:
            return dict(self.w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
        except TransactionNotFound:
            return None
        except Exception as exc:
            raise ChainRpcError(
                f"eth_getTransactionReceipt: {type(exc).__name__}: {str(exc)[:200]}"
            ) from None

    def known(self, tx_hash: str) -> bool:
        try:
            self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            return True
        except TransactionNotFound:
            return False
        except Exception as exc:
            raise ChainRpcError(
                f"eth_getTransactionByHash: {type(exc).__name__}: {str(exc)[:200]}"
            ) from None

    def broadcast(self, signed_raw: str, tx_hash: str) -> None:
        """Send; 'already known' and a nonce already used by this very transaction are fine."""
        try:
            self.w3.eth.send_raw_transaction(HexStr(signed_raw))
        except Exception as exc:
            if self.known(tx_hash):
                return
            message = str(exc)
            if "nonce" in message.lower() and self.receipt(tx_hash) is not None:
                return
            raise ChainRpcError(f"eth_sendRawTransaction: {message[:300]}") from None

    def wait(self, tx_hash: str, what: str) -> dict[str, Any]:
        """The receipt, once mined and confirmed; a revert raises with its decoded reason."""
        deadline = time.monotonic() + self.target.receipt_timeout_s
        while True:
            receipt = self.receipt(tx_hash)
            if receipt is not None:
                break
            if time.monotonic() > deadline:
                raise ChainRpcError(
                    f"{what}: no receipt for {tx_hash} within {self.target.receipt_timeout_s:.0f} s "
                    "(it may still be mined; running the same request again picks it up)"
                )
            time.sleep(0.2)
        if receipt["status"] != 1:
            raise TransactionRevertedError(
                f"{what} reverted on chain (tx {tx_hash}): {self._replayed_reason(tx_hash, receipt)}",
                details={"tx_hash": tx_hash},
            )
        if self.target.confirmations:
            wanted = int(receipt["blockNumber"]) + self.target.confirmations
            while int(self._rpc("eth_blockNumber", lambda: self.w3.eth.block_number)) < wanted:
                if time.monotonic() > deadline:
                    raise ChainRpcError(f"{what}: {tx_hash} not confirmed in time")
                time.sleep(1.0)
        return receipt

    def _replayed_reason(self, tx_hash: str, receipt: dict[str, Any]) -> str:
        try:
            tx = self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "value": tx["value"]}
            self.w3.eth.call(call, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
        except (ContractCustomError, ContractLogicError, Web3RPCError) as exc:
            return describe_revert(_revert_data(exc)) if _revert_data(exc) else str(exc)[:200]
        except Exception:
            pass
        return "no reason given"
