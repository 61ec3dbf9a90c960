"""The indexer's only view of a node: block headers, the target block for a finality mode, and
eth_getLogs, all over a (synchronous) web3 `Web3` run in a worker thread so the event loop and the
async database stay free. Provider refusals of a log range become `LogRangeRefusedError`, which the
indexer answers by asking for a smaller range.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from web3 import Web3
from web3.exceptions import BlockNotFound, RequestTimedOut, Web3RPCError

from emprops.indexer.config import Finality, FinalityMode
from emprops.indexer.errors import IndexerRpcError, LogRangeRefusedError
from emprops.indexer.events import LogRecord

T = TypeVar("T")

# How providers say "ask for less": Infura's -32005 "query returned more than 10000 results",
# Alchemy's "Log response size exceeded", "block range is too wide", "exceed maximum block range:
# 5000", "eth_getLogs is limited to a 10,000 range", "query timeout exceeded", ...
_REFUSAL = re.compile(
    r"block range|range (is )?too (large|wide|big)|too many (results|logs|blocks)"
    r"|(limit|size) exceeded|exceed(s|ed)? (the )?(max|limit)|more than \d+ (results|logs)"
    r"|limited to|timeout|timed out|response size",
    re.IGNORECASE,
)
_REFUSAL_CODES = {-32005}
_REFUSAL_HTTP_STATUSES = {408, 413, 504}


@dataclass(frozen=True, slots=True)
class BlockHeader:
    number: int
    hash: str
    parent_hash: str


def _hex(value: Any) -> str:
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


def is_range_refusal(exc: BaseException) -> bool:
    """True for errors that mean "too much at once" rather than "the node is broken"."""
    if isinstance(exc, (requests.Timeout, RequestTimedOut, TimeoutError)):
        return True
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code in _REFUSAL_HTTP_STATUSES
    if isinstance(exc, Web3RPCError):
        error = (exc.rpc_response or {}).get("error")
        if isinstance(error, Mapping):
            if error.get("code") in _REFUSAL_CODES:
                return True
            return bool(_REFUSAL.search(str(error.get("message", ""))))
        return bool(_REFUSAL.search(str(exc)))
    return False


class ChainReader:
    def __init__(self, w3: Web3) -> None:
        self.w3 = w3

    async def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(fn)
        except LogRangeRefusedError:
            raise
        except Exception as exc:
            raise IndexerRpcError(
                f"the node failed on {what}: {exc}", details={"call": what}
            ) from exc

    async def chain_id(self) -> int:
        return await self._call("eth_chainId", lambda: int(self.w3.eth.chain_id))

    async def header(self, block: int | str) -> BlockHeader | None:
        """The header of a block number or tag; None when the chain has no such block (yet)."""

        def fetch() -> BlockHeader | None:
            try:
                data = self.w3.eth.get_block(block)  # type: ignore[arg-type]
            except BlockNotFound:
                return None
            if data is None or data.get("hash") is None:
                return None
            return BlockHeader(int(data["number"]), _hex(data["hash"]), _hex(data["parentHash"]))

        return await self._call(f"eth_getBlockByNumber({block})", fetch)

    async def target_block(self, finality: Finality) -> int:
        """The last block this finality mode allows indexing; -1 while there is none."""
        if finality.mode in (FinalityMode.FINALIZED, FinalityMode.SAFE):
            tag = str(finality.mode)
            header = await self.header(tag)
            if header is None:
                raise IndexerRpcError(
                    f"the node has no '{tag}' block; choose the 'confirmations' finality mode",
                    details={"finality": tag},
                )
            return header.number
        latest = await self._call("eth_blockNumber", lambda: int(self.w3.eth.block_number))
        if finality.mode is FinalityMode.CONFIRMATIONS:
            return latest - finality.confirmations
        return latest

    async def logs(
        self, chain_id: int, addresses: Sequence[str], from_block: int, to_block: int
    ) -> list[LogRecord]:
        """Every log of `addresses` in [from_block, to_block], sorted by position."""
        what = f"eth_getLogs({from_block}..{to_block})"

        def fetch() -> list[LogRecord]:
            try:
                entries = self.w3.eth.get_logs(
                    {"fromBlock": from_block, "toBlock": to_block, "address": list(addresses)}  # type: ignore[typeddict-item]
                )
            except Exception as exc:
                if is_range_refusal(exc):
                    raise LogRangeRefusedError(
                        f"the provider refused {what}: {exc}",
                        details={"from_block": from_block, "to_block": to_block},
                    ) from exc
                raise
            return sorted(_records(chain_id, entries), key=lambda log: log.position)

        return await self._call(what, fetch)


def _records(chain_id: int, entries: Iterable[Mapping[str, Any]]) -> list[LogRecord]:
    records = []
    for entry in entries:
        if entry.get("blockHash") is None or entry.get("removed"):
            raise IndexerRpcError("the node returned a pending or removed log to eth_getLogs")
        records.append(
            LogRecord(
                chain_id=chain_id,
                block_number=int(entry["blockNumber"]),
                block_hash=_hex(entry["blockHash"]),
                tx_hash=_hex(entry["transactionHash"]),
                tx_index=int(entry["transactionIndex"]),
                log_index=int(entry["logIndex"]),
                address=Web3.to_checksum_address(entry["address"]),
                topics=tuple(_hex(topic) for topic in entry["topics"]),
                data=_hex(entry["data"]),
            )
        )
    return records
