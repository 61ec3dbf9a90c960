"""BlobStore over obstore: one class for S3, GCS and Azure, and a local-disk variant that keeps
content types beside the files (obstore's local store cannot store object attributes)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING
from urllib.parse import quote

import obstore
from obstore import exceptions as obstore_errors

from emprops.core.errors import InvalidInputError, NotFoundError, UnavailableError
from emprops.storage.blob_paths import validate_blob_path, validate_blob_prefix
from emprops.storage.blob_store import DEFAULT_STREAM_CHUNK, StoredBlob
from emprops.storage.content_types import guess_content_type

if TYPE_CHECKING:
    from obstore.store import ObjectStore

# S3 needs parts of at least 5 MiB; 8 MiB with 4 in flight bounds an upload to ~32 MiB of memory.
DEFAULT_PART_SIZE = 8 * 1024 * 1024
DEFAULT_PART_CONCURRENCY = 4
# `type/subtype`, optional parameters; printable ASCII only (no CR/LF: it becomes a header).
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+([ \t]*;[\x20-\x7e]*)?")
_SERVICE_CODE = re.compile(r"<Code>([A-Za-z0-9.]{1,64})</Code>")
_URL_QUERY = re.compile(r"(\w+://[^\s?\"']+)\?[^\s\"']*")


def error_summary(error: BaseException) -> str:
    """The error's first line plus the service's error code, with URL query strings dropped
    (an Azure SAS token lives there)."""
    text = str(error).strip()
    summary = text.splitlines()[0] if text else type(error).__name__
    code = _SERVICE_CODE.search(text)
    if code and code.group(1) not in summary:
        summary = f"{summary.removesuffix(':').rstrip()} [{code.group(1)}]"
    return _URL_QUERY.sub(r"\1?…", summary)[:500]


def _check_content_type(content_type: str) -> str:
    if len(content_type) > 255 or not _CONTENT_TYPE.fullmatch(content_type):
        raise InvalidInputError(
            f"content type {content_type[:80]!r} is not a `type/subtype` media type",
            details={"content_type": content_type[:80]},
        )
    return content_type


class _CountedChunks:
    """Passes chunks through while counting their bytes (a streamed put learns its size)."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = chunks
        self.size = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            self.size += len(chunk)
            yield chunk


class ObjectBlobStore:
    """A BlobStore over any obstore store that keeps Content-Type as an object attribute."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        native_url: str,
        cdn_url: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        part_concurrency: int = DEFAULT_PART_CONCURRENCY,
    ) -> None:
        self._store = store
        self._native_url = native_url.rstrip("/")
        self._cdn_url = cdn_url.rstrip("/") if cdn_url else None
        self._part_size = part_size
        self._part_concurrency = part_concurrency

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._native_url!r})"

    @contextmanager
    def _translated(self, action: str, path: str, *, blob_read: bool = True) -> Iterator[None]:
        """obstore's errors (and the builtin FileNotFoundError it raises) → our error family.
        A "not found" on a write or a listing means the bucket/container itself is missing."""
        try:
            yield
        except (FileNotFoundError, obstore_errors.NotFoundError) as error:
            if not blob_read:
                raise UnavailableError(
                    f"{self._native_url} could not {action} {path!r}: its bucket or container "
                    f"does not exist ({error_summary(error)})",
                    details={"path": path, "store": self._native_url},
                ) from error
            raise NotFoundError(
                f"no blob at {path!r} in {self._native_url}",
                details={"path": path, "store": self._native_url},
            ) from error
        except (obstore_errors.PermissionDeniedError, obstore_errors.UnauthenticatedError) as error:
            raise UnavailableError(
                f"{self._native_url} refused to {action} {path!r} (check credentials): "
                f"{error_summary(error)}",
                details={"path": path, "store": self._native_url},
            ) from error
        except obstore_errors.BaseError as error:
            raise UnavailableError(
                f"{self._native_url} failed to {action} {path!r}: {error_summary(error)}",
                details={"path": path, "store": self._native_url},
            ) from error

    def _blob_url(self, path: str) -> str:
        return f"{self._cdn_url or self._native_url}/{quote(path, safe='/')}"

    def url_for(self, path: str) -> str:
        return self._blob_url(validate_blob_path(path))

    # Content types: kept as the Content-Type attribute here; the local store overrides these.
    def _put_attributes(self, content_type: str) -> dict[str, str] | None:
        return {"Content-Type": content_type}

    async def _after_put(self, path: str, content_type: str) -> None:
        return None

    async def _stored_content_type(self, path: str, attributes: dict[str, str]) -> str:
        return attributes.get("Content-Type") or guess_content_type(path)

    async def _after_delete(self, path: str) -> None:
        return None

    async def put(
        self,
        path: str,
        data: bytes | AsyncIterable[bytes],
        *,
        content_type: str | None = None,
    ) -> StoredBlob:
        validate_blob_path(path)
        kind = _check_content_type(content_type) if content_type else guess_content_type(path)
        attributes = self._put_attributes(kind)
        if isinstance(data, bytes | bytearray | memoryview):
            size = len(data)
            with self._translated("write", path, blob_read=False):
                await obstore.put_async(
                    self._store,
                    path,
                    bytes(data) if isinstance(data, memoryview) else data,
                    attributes=attributes,
                    chunk_size=self._part_size,
                    max_concurrency=self._part_concurrency,
                )
        else:
            counted = _CountedChunks(data)
            with self._translated("write", path, blob_read=False):
                await obstore.put_async(
                    self._store,
                    path,
                    counted,
                    attributes=attributes,
                    chunk_size=self._part_size,
                    max_concurrency=self._part_concurrency,
                )
            size = counted.size
        await self._after_put(path, kind)
        return StoredBlob(path=path, url=self._blob_url(path), size=size, content_type=kind)

    async def get(self, path: str) -> bytes:
        validate_blob_path(path)
        with self._translated("read", path):
            result = await obstore.get_async(self._store, path)
            return bytes(await result.bytes_async())

    async def get_range(self, path: str, start: int, end: int) -> bytes:
        validate_blob_path(path)
        if start < 0 or end < start:
            raise InvalidInputError(
                f"byte range [{start}, {end}) of {path!r} is not a range (need 0 <= start <= end)",
                details={"path": path, "start": start, "end": end},
            )
        if end == start:
            await self.head(path)  # still a NotFoundError for a missing blob
            return b""
        try:
            with self._translated("read a range of", path):
                return bytes(await obstore.get_range_async(self._store, path, start=start, end=end))
        except UnavailableError:
            size = (await self.head(path)).size
            if start >= size:
                raise InvalidInputError(
                    f"byte range [{start}, {end}) starts past the end of {path!r} ({size} bytes)",
                    details={"path": path, "start": start, "end": end, "size": size},
                ) from None
            raise

    async def stream(
        self, path: str, *, chunk_size: int = DEFAULT_STREAM_CHUNK
    ) -> AsyncIterator[bytes]:
        validate_blob_path(path)
        with self._translated("read", path):
            result = await obstore.get_async(self._store, path)
            async for chunk in result.stream(min_chunk_size=chunk_size):
                yield chunk

    async def head(self, path: str) -> StoredBlob:
        validate_blob_path(path)
        with self._translated("look up", path):
            result = await obstore.get_async(self._store, path, options={"head": True})
            size = result.meta["size"]
            attributes = dict(result.attributes)
        return StoredBlob(
            path=path,
            url=self._blob_url(path),
            size=size,
            content_type=await self._stored_content_type(path, attributes),
        )

    async def exists(self, path: str) -> bool:
        try:
            await self.head(path)
        except NotFoundError:
            return False
        return True

    async def delete(self, path: str) -> None:
        validate_blob_path(path)
        with suppress(NotFoundError), self._translated("delete", path):
            await obstore.delete_async(self._store, path)
        await self._after_delete(path)

    def _listed(self, path: str) -> bool:
        return True

    async def list(self, prefix: str | None = None) -> AsyncIterator[StoredBlob]:
        checked = validate_blob_prefix(prefix)
        with self._translated("list", checked or "(root)", blob_read=False):
            async for batch in obstore.list(self._store, checked or None, chunk_size=500):
                for meta in batch:
                    if self._listed(meta["path"]):
                        yield StoredBlob(
                            path=meta["path"], url=self._blob_url(meta["path"]), size=meta["size"]
                        )


# The local store's bookkeeping: `<root>/.content-types/<path>` holds a blob's content type when it
# differs from the one its extension gives. Blob paths never start with `.`, so no blob collides.
CONTENT_TYPE_DIR = ".content-types"


class LocalBlobStore(ObjectBlobStore):
    """Local disk. obstore cannot store attributes for local files, so a content type is inferred
    from the extension, and one that differs is written to a small sidecar file."""

    def _put_attributes(self, content_type: str) -> dict[str, str] | None:
        return None

    async def _after_put(self, path: str, content_type: str) -> None:
        sidecar = f"{CONTENT_TYPE_DIR}/{path}"
        with self._translated("record the content type of", path, blob_read=False):
            if content_type != guess_content_type(path):
                await obstore.put_async(self._store, sidecar, content_type.encode())
            else:
                await self._delete_sidecar(path)

    async def _delete_sidecar(self, path: str) -> None:
        with suppress(FileNotFoundError, obstore_errors.NotFoundError):
            await obstore.delete_async(self._store, f"{CONTENT_TYPE_DIR}/{path}")

    async def _stored_content_type(self, path: str, attributes: dict[str, str]) -> str:
        with self._translated("look up the content type of", path, blob_read=False):
            try:
                result = await obstore.get_async(self._store, f"{CONTENT_TYPE_DIR}/{path}")
            except (FileNotFoundError, obstore_errors.NotFoundError):
                return guess_content_type(path)
            return bytes(await result.bytes_async()).decode()

    async def _after_delete(self, path: str) -> None:
        with self._translated("delete the content type of", path):
            await self._delete_sidecar(path)

    def _listed(self, path: str) -> bool:
        return not path.startswith(CONTENT_TYPE_DIR + "/")
