"""The on-chain indexer: discovers collections from the factories' events, keeps their raw logs,
and derives collections, tokens (with owners), mints, transfers, upgrades and metadata updates.

    indexer = Indexer(w3, sessions, IndexerConfig(factories=[factory], finality=Finality.head()))
    await indexer.run_once()            # or run_forever(stop_event)
    await replay(sessions)              # rebuild derived tables from raw logs, no RPC
    async with sessions() as session:
        await IndexerQueries(session).tokens_owned_by(address)

Async on the database side (like the rest of the DB layer); the web3 `Web3` given is synchronous
(HTTP or the in-process tester) and is called from a worker thread.
"""

from emprops.indexer.config import Finality, FinalityMode, IndexerConfig, LogRanges
from emprops.indexer.errors import (
    IndexerConfigError,
    IndexerRpcError,
    LogRangeRefusedError,
    ReorgTooDeepError,
)
from emprops.indexer.events import LogPosition
from emprops.indexer.projection import ProjectedCounts
from emprops.indexer.replay import replay
from emprops.indexer.runner import Indexer, IndexerProgress
from emprops.indexer.schemas import (
    CheckpointOut,
    IndexedCollectionOut,
    MintOut,
    TokenOut,
    TransferOut,
)
from emprops.indexer.service import IndexerQueries, TokenNotIndexedError

__all__ = [
    "CheckpointOut",
    "Finality",
    "FinalityMode",
    "IndexedCollectionOut",
    "Indexer",
    "IndexerConfig",
    "IndexerConfigError",
    "IndexerProgress",
    "IndexerQueries",
    "IndexerRpcError",
    "LogPosition",
    "LogRangeRefusedError",
    "LogRanges",
    "MintOut",
    "ProjectedCounts",
    "ReorgTooDeepError",
    "TokenNotIndexedError",
    "TokenOut",
    "TransferOut",
    "replay",
]
