"""On-chain: the compiled contracts, chain presets, the embedded local node, and the service that
deploys the platform and collections and mints, idempotently (see `service`)."""

from emprops.chain.client import (
    ChainClient,
    ChainRpcError,
    FeeCapExceededError,
    TransactionRevertedError,
    UnfundedSignerError,
    WrongChainError,
    describe_revert,
)
from emprops.chain.presets import PRESETS, ChainPreset, ChainTarget, resolve_chain
from emprops.chain.service import ChainService, CollectionTerms

__all__ = [
    "PRESETS",
    "ChainClient",
    "ChainPreset",
    "ChainRpcError",
    "ChainService",
    "ChainTarget",
    "CollectionTerms",
    "FeeCapExceededError",
    "TransactionRevertedError",
    "UnfundedSignerError",
    "WrongChainError",
    "describe_revert",
    "resolve_chain",
]
