"""What can go wrong while indexing, as `EmpropsError`s with a message a person can act on."""

from __future__ import annotations

from emprops.core.errors import ConflictError, InvalidInputError, UnavailableError


class IndexerConfigError(InvalidInputError):
    """The indexer was asked for something inconsistent (a wrong chain id, another factory set)."""


class IndexerRpcError(UnavailableError):
    """The node failed or answered something unusable; the run can be retried later."""


class LogRangeRefusedError(IndexerRpcError):
    """The provider refused an eth_getLogs range (too many blocks or results, or a timeout):
    the caller shrinks the range and asks again."""


class ReorgTooDeepError(ConflictError):
    """No stored block header is still on the chain: the reorg is deeper than the kept window."""
