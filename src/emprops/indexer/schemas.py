"""What the indexer's queries return (the CLI prints them, the API serves them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True, frozen=True)


class IndexedCollectionOut(_Out):
    chain_id: int
    address: str
    factory: str
    creator: str
    owner: str
    implementation_version: int
    user_salt: str
    block_number: int
    tx_hash: str


class MintOut(_Out):
    chain_id: int
    collection: str
    token_id: int
    to_address: str
    block_number: int
    tx_hash: str
    log_index: int


class TransferOut(_Out):
    chain_id: int
    collection: str
    token_id: int
    from_address: str
    to_address: str
    block_number: int
    tx_hash: str
    log_index: int


class TokenOut(_Out):
    chain_id: int
    collection: str
    token_id: int
    owner: str
    version: int
    minted_block: int | None
    minted_tx_hash: str | None
    metadata_updated_block: int | None


class CheckpointOut(_Out):
    chain_id: int
    block_number: int
    block_hash: str | None
    factories: list[str]
    updated_at: datetime
