"""The one interface every domain uses to keep bytes: outputs, metadata, packages.

Paths are relative, `/`-separated keys (`generations/{user}/{run}/...`); URLs are what a client or
another worker uses to fetch them (file://, s3://, https:// through a CDN).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from pydantic import BaseModel


class StoredBlob(BaseModel):
    path: str
    url: str
    size: int
    content_type: str | None = None


class BlobStore(Protocol):
    async def put(
        self, path: str, data: bytes | AsyncIterator[bytes], *, content_type: str | None = None
    ) -> StoredBlob: ...

    async def get(self, path: str) -> bytes: ...

    async def get_range(self, path: str, start: int, end: int) -> bytes: ...

    def stream(self, path: str) -> AsyncIterator[bytes]: ...

    async def exists(self, path: str) -> bool: ...

    async def delete(self, path: str) -> None: ...

    def url_for(self, path: str) -> str: ...
