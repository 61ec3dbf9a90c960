"""On-chain: the compiled contracts, chain presets, the embedded local node, and the service that
deploys the platform and collections and mints, idempotently (see `service`).

    from emprops.chain import ChainService, CollectionTerms, resolve_chain

    service = ChainService(sessions, resolve_chain(settings), settings.data_dir)
    platform = await service.ensure_platform()          # once per chain, found afterwards
    deployment = await service.deploy_collection(CollectionTerms(
        name="Faces", symbol="FACE", base_uri="ipfs://<metadata CID>/",
        contract_uri="ipfs://<contract metadata CID>", owner=creator, max_supply=100,
        royalty_bps=500, salt_source="<package root CID>",
    ))
    request = await service.mint(deployment.id, collector, 100, request_id="drop-1")

Names load on first use, so the local node's process (which needs none of the service) and
`emprops --help` stay light.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "ChainClient": "client",
    "ChainRpcError": "client",
    "FeeCapExceededError": "client",
    "TransactionRevertedError": "client",
    "UnfundedSignerError": "client",
    "WrongChainError": "client",
    "describe_revert": "client",
    "PRESETS": "presets",
    "ChainPreset": "presets",
    "ChainTarget": "presets",
    "resolve_chain": "presets",
    "ChainService": "service",
    "CollectionTerms": "service",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'emprops.chain' has no attribute {name!r}")
    return getattr(import_module(f"emprops.chain.{module}"), name)
