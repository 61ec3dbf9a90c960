"""The one interface every domain uses to keep bytes: outputs, metadata, packages.

Paths are relative, `/`-separated keys (`generations/{user}/{run}/...`, see `blob_paths`); URLs are
what a client or another worker uses to fetch them (file://, s3://, https:// through a CDN).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol

from pydantic import BaseModel

DEFAULT_STREAM_CHUNK = 1024 * 1024


class StoredBlob(BaseModel):
    path: str
    url: str
    size: int
    # Always set by put/head; None in listings (no backend's listing returns it).
    content_type: str | None = None


class BlobStore(Protocol):
    """Every method raises `EmpropsError`s: InvalidInputError for a bad path or range,
    NotFoundError for a missing blob, UnavailableError when the backend fails."""

    async def put(
        self,
        path: str,
        data: bytes | AsyncIterable[bytes],
        *,
        content_type: str | None = None,
    ) -> StoredBlob:
        """Write atomically (readers see the old blob or the whole new one). Large or streamed
        data goes up in parts. No `content_type`: inferred from the path's extension."""
        ...

    async def get(self, path: str) -> bytes: ...

    async def get_range(self, path: str, start: int, end: int) -> bytes:
        """Bytes `[start, end)`; an `end` past the blob's end is cut to it."""
        ...

    def stream(self, path: str, *, chunk_size: int = DEFAULT_STREAM_CHUNK) -> AsyncIterator[bytes]:
        """The blob in chunks of at least `chunk_size` bytes (except the last)."""
        ...

    async def head(self, path: str) -> StoredBlob: ...

    async def exists(self, path: str) -> bool: ...

    async def delete(self, path: str) -> None:
        """Idempotent: deleting a missing blob is not an error."""
        ...

    def list(self, prefix: str | None = None) -> AsyncIterator[StoredBlob]:
        """Blobs under `prefix` (whole segments: `a/b` holds `a/b/c`, not `a/bc`), in no set order."""
        ...

    def url_for(self, path: str) -> str:
        """The CDN URL when one is configured, else the store's own URL for the blob."""
        ...
