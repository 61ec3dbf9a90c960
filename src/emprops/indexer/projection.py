"""Derives the indexer's tables from raw logs: the live indexer and the replay run this same code,
which is why a replay with no RPC rebuilds exactly what indexing wrote.

A batch is applied as: discovered collections and event rows (no-ops when present), then one owner
upsert per token (its last transfer in the batch), then version raises and metadata stamps, which
need the token rows to exist. Each write is order-independent (positions, maxima), so applying a
batch twice, or in other batch boundaries, ends in the same rows.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from emprops.db.models import (
    IndexedCollection,
    IndexedMetadataUpdate,
    IndexedMint,
    IndexedTransfer,
    IndexedUpgrade,
)
from emprops.indexer.events import (
    CollectionCreated,
    LogRecord,
    MetadataUpdated,
    TokenUpgraded,
    Transfer,
    decode_collection_event,
    decode_factory_event,
)
from emprops.indexer.repository import IndexerRepository


@dataclass
class ProjectedCounts:
    collections: int = 0
    transfers: int = 0
    mints: int = 0
    upgrades: int = 0
    metadata_updates: int = 0
    new_collections: list[str] = field(default_factory=list)

    def add(self, other: ProjectedCounts) -> None:
        self.collections += other.collections
        self.transfers += other.transfers
        self.mints += other.mints
        self.upgrades += other.upgrades
        self.metadata_updates += other.metadata_updates
        self.new_collections.extend(other.new_collections)


def discover_collections(
    logs: Sequence[LogRecord], factories: Collection[str]
) -> list[CollectionCreated]:
    """`CollectionCreated` events among `logs`, from the configured factories only."""
    found = []
    for log in logs:
        if log.address in factories:
            event = decode_factory_event(log)
            if event is not None:
                found.append(event)
    return found


def _event_key(log: LogRecord) -> dict[str, Any]:
    return {
        "chain_id": log.chain_id,
        "tx_hash": log.tx_hash,
        "log_index": log.log_index,
        "block_number": log.block_number,
        "tx_index": log.tx_index,
        "collection": log.address,
    }


async def project_logs(
    repo: IndexerRepository,
    logs: Sequence[LogRecord],
    factories: Collection[str],
    known_collections: set[str],
) -> ProjectedCounts:
    """Applies `logs` (in chain order) to the derived tables. Logs of collections discovered in
    this batch count from their creation on; `known_collections` grows with them."""
    counts = ProjectedCounts()
    collections: list[dict[str, Any]] = []
    transfers: list[Transfer] = []
    upgrades: list[TokenUpgraded] = []
    metadata: list[MetadataUpdated] = []
    for log in logs:
        if log.address in factories:
            created = decode_factory_event(log)
            if created is None:
                continue
            if created.collection not in known_collections:
                counts.new_collections.append(created.collection)
            known_collections.add(created.collection)
            collections.append(
                {
                    "chain_id": log.chain_id,
                    "address": created.collection,
                    "factory": log.address,
                    "creator": created.creator,
                    "owner": created.owner,
                    "implementation_version": created.implementation_version,
                    "user_salt": created.user_salt,
                    "block_number": log.block_number,
                    "tx_hash": log.tx_hash,
                    "log_index": log.log_index,
                }
            )
        elif log.address in known_collections:
            event = decode_collection_event(log)
            if isinstance(event, Transfer):
                transfers.append(event)
            elif isinstance(event, TokenUpgraded):
                upgrades.append(event)
            elif isinstance(event, MetadataUpdated):
                metadata.append(event)

    await repo.insert_rows(IndexedCollection, collections)
    await repo.insert_rows(
        IndexedTransfer,
        [
            {
                **_event_key(t.log),
                "token_id": t.token_id,
                "from_address": t.from_address,
                "to_address": t.to_address,
            }
            for t in transfers
        ],
    )
    mints = [t for t in transfers if t.is_mint]
    await repo.insert_rows(
        IndexedMint,
        [{**_event_key(t.log), "token_id": t.token_id, "to_address": t.to_address} for t in mints],
    )
    await repo.insert_rows(
        IndexedUpgrade,
        [{**_event_key(u.log), "token_id": u.token_id, "version": u.version} for u in upgrades],
    )
    await repo.insert_rows(
        IndexedMetadataUpdate,
        [
            {**_event_key(m.log), "from_token_id": m.from_token_id, "to_token_id": m.to_token_id}
            for m in metadata
        ],
    )
    await repo.upsert_token_owners(_token_owner_rows(transfers))
    await repo.raise_token_versions(_version_rows(upgrades))
    await repo.mark_metadata_updated(
        [
            {
                "b_chain_id": m.log.chain_id,
                "b_collection": m.log.address,
                "b_from": m.from_token_id,
                "b_to": m.to_token_id,
                "b_block": m.log.block_number,
            }
            for m in metadata
        ]
    )
    counts.collections = len(collections)
    counts.transfers = len(transfers)
    counts.mints = len(mints)
    counts.upgrades = len(upgrades)
    counts.metadata_updates = len(metadata)
    return counts


def _token_owner_rows(transfers: Sequence[Transfer]) -> list[dict[str, Any]]:
    """One row per token: the owner after its last transfer here, and its mint if here."""
    rows: dict[tuple[int, str, int], dict[str, Any]] = {}
    for t in transfers:  # in chain order, so the last one wins
        key = (t.log.chain_id, t.log.address, t.token_id)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "chain_id": t.log.chain_id,
                "collection": t.log.address,
                "token_id": t.token_id,
                "minted_block": None,
                "minted_tx_hash": None,
                "version": 0,
                "metadata_updated_block": None,
            }
        row["owner"] = t.to_address
        row["owner_block"] = t.log.block_number
        row["owner_tx_index"] = t.log.tx_index
        row["owner_log_index"] = t.log.log_index
        if t.is_mint and row["minted_block"] is None:
            row["minted_block"] = t.log.block_number
            row["minted_tx_hash"] = t.log.tx_hash
    return list(rows.values())


def _version_rows(upgrades: Sequence[TokenUpgraded]) -> list[dict[str, Any]]:
    highest: dict[tuple[int, str, int], int] = {}
    for u in upgrades:
        key = (u.log.chain_id, u.log.address, u.token_id)
        highest[key] = max(highest.get(key, 0), u.version)
    return [
        {"b_chain_id": chain, "b_collection": collection, "b_token_id": token, "b_version": version}
        for (chain, collection, token), version in highest.items()
    ]


REPLAY_PAGE = 5_000


async def rebuild_derived(
    repo: IndexerRepository,
    chain_id: int,
    factories: Collection[str],
    collections: Collection[str] | None = None,
) -> ProjectedCounts:
    """Rebuilds derived rows from the stored raw logs alone (no RPC): for the whole chain, or only
    for `collections` (after a reorg: their rows past the ancestor are gone with the raw logs)."""
    subset = None if collections is None else sorted(collections)
    await repo.delete_derived(chain_id, subset)
    if subset is None:
        known: set[str] = set()
    else:
        known = set(subset) & await repo.known_collections(chain_id)
        if not known:
            return ProjectedCounts()
        subset = sorted(known)
    totals = ProjectedCounts()
    after: tuple[int, int, int, str] | None = None
    while True:
        page = await repo.raw_logs_page(chain_id, after, REPLAY_PAGE, subset)
        if not page:
            return totals
        if len(page) == REPLAY_PAGE:  # finish the last block: batches are whole blocks
            last = page[-1]
            key = (last.block_number, last.tx_index, last.log_index, last.block_hash)
            page += await repo.raw_logs_page(
                chain_id, key, None, subset, block_number=last.block_number
            )
        totals.add(await project_logs(repo, page, factories if subset is None else (), known))
        last = page[-1]
        after = (last.block_number, last.tx_index, last.log_index, last.block_hash)
