"""The pieces under the indexer: event signatures agree with the compiled ABIs, decoding refuses
what our contracts cannot emit, the adaptive range, and which provider errors mean "ask for less"."""

from __future__ import annotations

import pytest
import requests
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from web3.exceptions import Web3RPCError

from emprops.chain.contracts import ContractName, abi
from emprops.indexer import IndexerConfig, LogRanges
from emprops.indexer.events import (
    BATCH_METADATA_UPDATE,
    COLLECTION_CREATED,
    MAX_STORED_INT,
    METADATA_UPDATE,
    TOKEN_UPGRADED,
    TRANSFER,
    LogRecord,
    MetadataUpdated,
    TokenUpgraded,
    Transfer,
    decode_collection_event,
    decode_factory_event,
)
from emprops.indexer.ranges import AdaptiveRange
from emprops.indexer.rpc import is_range_refusal

ALICE = "0x" + "11" * 20
BOB = "0x" + "22" * 20


def topic_of(contract: ContractName, name: str) -> str:
    (entry,) = [e for e in abi(contract) if e["type"] == "event" and e["name"] == name]
    types = ",".join(arg["type"] for arg in entry["inputs"])
    return "0x" + keccak(text=f"{name}({types})").hex()


def test_signatures_match_the_compiled_contracts() -> None:
    assert topic_of(ContractName.FACTORY, "CollectionCreated") == COLLECTION_CREATED
    assert topic_of(ContractName.COLLECTION, "Transfer") == TRANSFER
    assert topic_of(ContractName.COLLECTION, "TokenUpgraded") == TOKEN_UPGRADED
    assert topic_of(ContractName.COLLECTION, "MetadataUpdate") == METADATA_UPDATE
    assert topic_of(ContractName.COLLECTION, "BatchMetadataUpdate") == BATCH_METADATA_UPDATE


def word(value: int) -> str:
    return value.to_bytes(32, "big").hex()


def log(topics: list[str], data: str = "0x") -> LogRecord:
    return LogRecord(1, 10, "0x" + "ab" * 32, "0x" + "cd" * 32, 0, 0, ALICE, tuple(topics), data)


def address_topic(address: str) -> str:
    return "0x" + word(int(address, 16))


def test_decodes_each_event() -> None:
    transfer = decode_collection_event(
        log([TRANSFER, address_topic("0x" + "00" * 20), address_topic(BOB), "0x" + word(7)])
    )
    assert isinstance(transfer, Transfer) and transfer.is_mint and transfer.token_id == 7
    assert transfer.to_address == "0x2222222222222222222222222222222222222222"
    upgraded = decode_collection_event(log([TOKEN_UPGRADED, "0x" + word(3)], "0x" + word(2)))
    assert upgraded == TokenUpgraded(upgraded.log, 3, 2)  # type: ignore[union-attr]
    single = decode_collection_event(log([METADATA_UPDATE], "0x" + word(5)))
    assert isinstance(single, MetadataUpdated)
    assert (single.from_token_id, single.to_token_id) == (5, 5)
    everything = decode_collection_event(
        log([BATCH_METADATA_UPDATE], "0x" + word(0) + word(2**256 - 1))
    )
    assert isinstance(everything, MetadataUpdated)
    assert (everything.from_token_id, everything.to_token_id) == (0, MAX_STORED_INT)
    created = decode_factory_event(
        log(
            [COLLECTION_CREATED, address_topic(BOB), address_topic(ALICE), "0x" + word(2)],
            "0x" + word(int(ALICE, 16)) + "ee" * 32,
        )
    )
    assert created is not None
    assert (created.implementation_version, created.user_salt) == (2, "0x" + "ee" * 32)


def test_refuses_shapes_our_contracts_do_not_emit() -> None:
    erc20_transfer = log([TRANSFER, address_topic(ALICE), address_topic(BOB)], "0x" + word(5))
    assert decode_collection_event(erc20_transfer) is None
    huge_id = log([TRANSFER, address_topic(ALICE), address_topic(BOB), "0x" + word(2**63)])
    assert decode_collection_event(huge_id) is None
    assert decode_collection_event(log([METADATA_UPDATE], "0x" + word(1)[:-2])) is None
    assert decode_collection_event(log(["0x" + "99" * 32])) is None
    assert decode_collection_event(log([])) is None
    assert decode_factory_event(log([COLLECTION_CREATED], "0x")) is None


@given(st.binary(max_size=200), st.lists(st.binary(min_size=32, max_size=32), max_size=5))
def test_decoding_never_raises_on_arbitrary_logs(data: bytes, topics: list[bytes]) -> None:
    for topic0 in (TRANSFER, TOKEN_UPGRADED, METADATA_UPDATE, BATCH_METADATA_UPDATE):
        entry = log([topic0, *("0x" + t.hex() for t in topics)], "0x" + data.hex())
        decode_collection_event(entry)
    decode_factory_event(
        log([COLLECTION_CREATED, *("0x" + t.hex() for t in topics)], "0x" + data.hex())
    )


def test_adaptive_range_halves_then_grows_back() -> None:
    ranges = AdaptiveRange(LogRanges(initial=8, maximum=16, grow_after=2))
    assert ranges.span(100, 1_000) == 107 and ranges.span(100, 103) == 103
    assert ranges.shrink() and ranges.size == 4
    ranges.succeeded()
    assert ranges.size == 4
    ranges.succeeded()
    assert ranges.size == 8
    for _ in range(6):
        ranges.succeeded()
    assert ranges.size == 16  # capped at the maximum
    while ranges.size > 1:
        assert ranges.shrink()
    assert not ranges.shrink()  # nothing smaller than one block


def rpc_error(code: int, message: str) -> Web3RPCError:
    return Web3RPCError(
        message,
        rpc_response={"jsonrpc": "2.0", "id": 1, "error": {"code": code, "message": message}},
    )  # type: ignore[typeddict-item]


@pytest.mark.parametrize(
    "exc",
    [
        rpc_error(-32005, "query returned more than 10000 results"),
        rpc_error(-32602, "Log response size exceeded."),
        rpc_error(-32000, "exceed maximum block range: 5000"),
        rpc_error(-32600, "eth_getLogs is limited to a 10,000 range"),
        rpc_error(-32000, "block range is too wide"),
        rpc_error(-32000, "query timeout exceeded"),
        requests.Timeout("read timed out"),
    ],
)
def test_provider_refusals_shrink_the_range(exc: Exception) -> None:
    assert is_range_refusal(exc)


@pytest.mark.parametrize(
    "exc",
    [
        rpc_error(-32601, "the method eth_getLogs does not exist/is not available"),
        rpc_error(-32000, "header not found"),
        requests.ConnectionError("connection refused"),
        ValueError("something else"),
    ],
)
def test_other_errors_do_not(exc: Exception) -> None:
    assert not is_range_refusal(exc)


def test_config_is_checked_at_the_boundary() -> None:
    config = IndexerConfig(factories=[BOB, ALICE.upper().replace("0X", "0x"), BOB])
    assert config.factories == (
        "0x1111111111111111111111111111111111111111",
        "0x2222222222222222222222222222222222222222",
    )
    with pytest.raises(ValidationError, match="not an EVM address"):
        IndexerConfig(factories=["0x1234"])
    with pytest.raises(ValidationError, match="at least 1"):
        IndexerConfig(factories=[])
    with pytest.raises(ValidationError, match="exceeds the maximum"):
        LogRanges(initial=10, maximum=5)
