"""Pinning: one async interface over the IPFS Pinning Service API, Pinata's upload API and a
Kubo node's RPC, with bounded retries, CID checks and a resumable upload cache."""

from emprops.pinning.directory_car import FolderBlocks, write_directory_car
from emprops.pinning.errors import (
    CidMismatchError,
    ContentChangedError,
    PinFailedError,
    PinningAuthError,
    PinningRateLimited,
    PinningRejected,
    PinningUnavailable,
    UnsupportedUploadError,
)
from emprops.pinning.http_retry import RetryPolicy, retry_after_seconds, send_with_retry
from emprops.pinning.http_service import HttpPinningService, same_content
from emprops.pinning.kubo import KuboRpc
from emprops.pinning.open_service import SERVICE_KINDS, ServiceKind, open_pinning_service
from emprops.pinning.pinata import PinataService
from emprops.pinning.psa import PinningServiceApi
from emprops.pinning.service import Capability, PinningService, PinState, PinStatus
from emprops.pinning.upload_cache import CACHE_NAME, CacheEntry, CacheState, UploadCache
from emprops.pinning.uploader import FolderMode, Uploader, UploadEvent

__all__ = [
    "CACHE_NAME",
    "SERVICE_KINDS",
    "CacheEntry",
    "CacheState",
    "Capability",
    "CidMismatchError",
    "ContentChangedError",
    "FolderBlocks",
    "FolderMode",
    "HttpPinningService",
    "KuboRpc",
    "PinFailedError",
    "PinState",
    "PinStatus",
    "PinataService",
    "PinningAuthError",
    "PinningRateLimited",
    "PinningRejected",
    "PinningService",
    "PinningServiceApi",
    "PinningUnavailable",
    "RetryPolicy",
    "ServiceKind",
    "UnsupportedUploadError",
    "UploadCache",
    "UploadEvent",
    "Uploader",
    "open_pinning_service",
    "retry_after_seconds",
    "same_content",
    "send_with_retry",
    "write_directory_car",
]
