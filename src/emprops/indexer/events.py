"""The events the indexer understands, decoded from raw logs with no RPC and no ABI machinery: a
pure function of a stored log, so replaying the raw logs always derives the same rows.

Logs that match no signature, or whose shape differs (a Transfer with three topics is an ERC-20
transfer, not ours), decode to None and stay only in the raw log table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
# Token ids and versions are stored as BIGINT; the open end of ERC-4906 ranges maps to this.
MAX_STORED_INT = 2**63 - 1


def event_topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


COLLECTION_CREATED = event_topic("CollectionCreated(address,address,uint256,address,bytes32)")
TRANSFER = event_topic("Transfer(address,address,uint256)")
TOKEN_UPGRADED = event_topic("TokenUpgraded(uint256,uint256)")
METADATA_UPDATE = event_topic("MetadataUpdate(uint256)")
BATCH_METADATA_UPDATE = event_topic("BatchMetadataUpdate(uint256,uint256)")


@dataclass(frozen=True, slots=True, order=True)
class LogPosition:
    """Sortable position of a log in its chain."""

    block_number: int
    tx_index: int
    log_index: int


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log as the node returned it (hex strings, checksummed address)."""

    chain_id: int
    block_number: int
    block_hash: str
    tx_hash: str
    tx_index: int
    log_index: int
    address: str
    topics: tuple[str, ...]
    data: str

    @property
    def position(self) -> LogPosition:
        return LogPosition(self.block_number, self.tx_index, self.log_index)


@dataclass(frozen=True, slots=True)
class CollectionCreated:
    log: LogRecord
    collection: str
    creator: str
    implementation_version: int
    owner: str
    user_salt: str


@dataclass(frozen=True, slots=True)
class Transfer:
    log: LogRecord
    from_address: str
    to_address: str
    token_id: int

    @property
    def is_mint(self) -> bool:
        return self.from_address == ZERO_ADDRESS


@dataclass(frozen=True, slots=True)
class TokenUpgraded:
    log: LogRecord
    token_id: int
    version: int


@dataclass(frozen=True, slots=True)
class MetadataUpdated:
    """MetadataUpdate (one token) and BatchMetadataUpdate (a range) alike."""

    log: LogRecord
    from_token_id: int
    to_token_id: int


CollectionEvent: TypeAlias = Transfer | TokenUpgraded | MetadataUpdated


def _words(data: str) -> list[int] | None:
    raw = bytes.fromhex(data.removeprefix("0x"))
    if len(raw) % 32:
        return None
    return [int.from_bytes(raw[i : i + 32], "big") for i in range(0, len(raw), 32)]


def _address(word: int) -> str | None:
    if word >> 160:
        return None
    return str(to_checksum_address(word.to_bytes(20, "big")))


def _topic_int(topic: str) -> int:
    return int(topic, 16)


def decode_factory_event(log: LogRecord) -> CollectionCreated | None:
    if len(log.topics) != 4 or log.topics[0] != COLLECTION_CREATED:
        return None
    words = _words(log.data)
    if words is None or len(words) != 2:
        return None
    collection = _address(_topic_int(log.topics[1]))
    creator = _address(_topic_int(log.topics[2]))
    owner = _address(words[0])
    version = _topic_int(log.topics[3])
    if collection is None or creator is None or owner is None or version > MAX_STORED_INT:
        return None
    return CollectionCreated(
        log=log,
        collection=collection,
        creator=creator,
        implementation_version=version,
        owner=owner,
        user_salt="0x" + words[1].to_bytes(32, "big").hex(),
    )


def decode_collection_event(log: LogRecord) -> CollectionEvent | None:
    """Our collections' token ids are below their uint32 max supply; an event carrying an id (or
    a version) that does not fit a BIGINT cannot come from them and is not derived."""
    if not log.topics:
        return None
    topic0 = log.topics[0]
    words = _words(log.data)
    if words is None:
        return None
    if topic0 == TRANSFER and len(log.topics) == 4 and not words:
        sender = _address(_topic_int(log.topics[1]))
        receiver = _address(_topic_int(log.topics[2]))
        token_id = _topic_int(log.topics[3])
        if sender is None or receiver is None or token_id > MAX_STORED_INT:
            return None
        return Transfer(log, sender, receiver, token_id)
    if topic0 == TOKEN_UPGRADED and len(log.topics) == 2 and len(words) == 1:
        token_id, version = _topic_int(log.topics[1]), words[0]
        if token_id > MAX_STORED_INT or version > MAX_STORED_INT:
            return None
        return TokenUpgraded(log, token_id, version)
    if topic0 == METADATA_UPDATE and len(log.topics) == 1 and len(words) == 1:
        if words[0] > MAX_STORED_INT:
            return None
        return MetadataUpdated(log, words[0], words[0])
    if topic0 == BATCH_METADATA_UPDATE and len(log.topics) == 1 and len(words) == 2:
        first, last = words[0], min(words[1], MAX_STORED_INT)
        if first > MAX_STORED_INT or first > last:
            return None
        return MetadataUpdated(log, first, last)
    return None
