"""One suite, run against local disk, a local S3 server and Azurite (see conftest.py)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from emprops.core.errors import InvalidInputError, NotFoundError
from emprops.storage import BlobStore, StoredBlob, generation_output_path
from tests.storage.conftest import StoreTarget

MIB = 1024 * 1024


def native_url(target: StoreTarget, data_dir: Path, path: str) -> str:
    if target.url is None:
        return (data_dir / "blobs" / path).as_uri()
    return f"{target.url.split('?', 1)[0]}/{path}"


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


async def chunked(data: bytes, chunk: int) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), chunk):
        await asyncio.sleep(0)
        yield data[offset : offset + chunk]


async def listed(store: BlobStore, prefix: str | None = None) -> dict[str, StoredBlob]:
    return {blob.path: blob async for blob in store.list(prefix)}


async def test_put_get_round_trip(store: BlobStore, target: StoreTarget, tmp_path: Path) -> None:
    path = generation_output_path(
        user_id="u1", run_id="r1", generation_index=3, step_id=101, workflow_name="img", ext="png"
    )
    data = payload(70_000, seed=1)

    stored = await store.put(path, data)

    assert stored.path == path
    assert stored.size == len(data)
    assert stored.content_type == "image/png"
    assert stored.url == native_url(target, tmp_path, path)
    assert await store.get(path) == data
    assert await store.head(path) == stored


async def test_put_overwrites(store: BlobStore) -> None:
    await store.put("a/x.txt", b"first version")
    await store.put("a/x.txt", b"second")
    assert await store.get("a/x.txt") == b"second"
    assert (await store.head("a/x.txt")).size == 6


async def test_empty_blob(store: BlobStore) -> None:
    stored = await store.put("empty.bin", b"")
    assert stored.size == 0
    assert await store.get("empty.bin") == b""
    assert await store.get_range("empty.bin", 0, 0) == b""


async def test_streamed_multi_megabyte_put_and_get(store: BlobStore) -> None:
    # 12 MiB in 256 KiB chunks: more than one 8 MiB part, so a multipart upload on S3/Azure.
    data = payload(12 * MIB + 12_345, seed=2)

    stored = await store.put("big/video.mp4", chunked(data, 256 * 1024))

    assert stored.size == len(data)
    assert stored.content_type == "video/mp4"
    chunks = [chunk async for chunk in store.stream("big/video.mp4", chunk_size=MIB)]
    assert b"".join(chunks) == data
    assert len(chunks) > 1
    assert all(len(chunk) >= MIB for chunk in chunks[:-1])
    assert (await store.head("big/video.mp4")).size == len(data)


async def test_big_bytes_put(store: BlobStore) -> None:
    data = payload(9 * MIB, seed=3)
    stored = await store.put("big/one.bin", data)
    assert stored.size == len(data)
    assert await store.get("big/one.bin") == data


async def test_failed_stream_leaves_no_blob(store: BlobStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (9 * MIB)
        raise RuntimeError("source went away")

    with pytest.raises(RuntimeError, match="source went away"):
        await store.put("half/written.bin", broken())
    assert not await store.exists("half/written.bin")
    assert await listed(store, "half") == {}


async def test_range_reads(store: BlobStore) -> None:
    data = payload(100_000, seed=4)
    await store.put("r/data.bin", data)

    for start, end in [(0, 1), (0, 100_000), (10, 20), (65_536, 99_999), (99_999, 100_000)]:
        assert await store.get_range("r/data.bin", start, end) == data[start:end]
    assert await store.get_range("r/data.bin", 99_990, 200_000) == data[99_990:]
    assert await store.get_range("r/data.bin", 500, 500) == b""


async def test_bad_ranges_refused(store: BlobStore) -> None:
    await store.put("r/small.bin", b"0123456789")
    with pytest.raises(InvalidInputError, match="past the end"):
        await store.get_range("r/small.bin", 10, 20)
    with pytest.raises(InvalidInputError, match="not a range"):
        await store.get_range("r/small.bin", -1, 5)
    with pytest.raises(InvalidInputError, match="not a range"):
        await store.get_range("r/small.bin", 5, 4)
    with pytest.raises(NotFoundError):
        await store.get_range("r/missing.bin", 0, 5)


async def test_content_types(store: BlobStore) -> None:
    named = await store.put("c/raw.bin", b"\x89PNG", content_type="image/png")
    assert named.content_type == "image/png"
    assert (await store.head("c/raw.bin")).content_type == "image/png"

    assert (await store.put("c/meta.json", b"{}")).content_type == "application/json"
    assert (await store.head("c/meta.json")).content_type == "application/json"
    assert (await store.put("c/noext", b"?")).content_type == "application/octet-stream"

    # Rewriting without a type goes back to the extension's type.
    await store.put("c/raw.bin", b"plain")
    assert (await store.head("c/raw.bin")).content_type == "application/octet-stream"

    with_charset = await store.put("c/page.txt", b"hi", content_type="text/plain; charset=utf-8")
    assert with_charset.content_type == "text/plain; charset=utf-8"
    assert (await store.head("c/page.txt")).content_type == "text/plain; charset=utf-8"

    for bad in ["not a type", "text/plain;\r\nX-Evil: 1", "text/", "tëxt/plain", "a/b\n"]:
        with pytest.raises(InvalidInputError, match="content type"):
            await store.put("c/bad.bin", b"x", content_type=bad)
    assert not await store.exists("c/bad.bin")


async def test_exists_and_delete(store: BlobStore) -> None:
    assert not await store.exists("d/x.txt")
    await store.put("d/x.txt", b"x", content_type="text/x-custom")
    assert await store.exists("d/x.txt")

    await store.delete("d/x.txt")

    assert not await store.exists("d/x.txt")
    await store.delete("d/x.txt")  # idempotent
    with pytest.raises(NotFoundError, match=r"d/x\.txt"):
        await store.get("d/x.txt")
    with pytest.raises(NotFoundError):
        await store.head("d/x.txt")
    with pytest.raises(NotFoundError):
        _ = [chunk async for chunk in store.stream("d/x.txt")]
    # A new blob at the same path does not inherit the old content type.
    await store.put("d/x.txt", b"y")
    assert (await store.head("d/x.txt")).content_type == "text/plain"


async def test_listing(store: BlobStore) -> None:
    sizes = {"a/b/1.txt": 1, "a/b/2.png": 2, "a/b/c/3.txt": 3, "a/bc/4.txt": 4, "z.txt": 5}
    for path, size in sizes.items():
        await store.put(path, b"x" * size, content_type="text/x-listed")

    under_ab = await listed(store, "a/b")
    assert set(under_ab) == {"a/b/1.txt", "a/b/2.png", "a/b/c/3.txt"}
    assert await listed(store, "a/b/") == under_ab
    everything = await listed(store)
    assert {path: blob.size for path, blob in everything.items()} == sizes
    assert all(blob.url == store.url_for(path) for path, blob in everything.items())
    assert await listed(store, "nothing/here") == {}


async def test_cdn_urls(target: StoreTarget, tmp_path: Path) -> None:
    store = target.open(tmp_path, cdn_url="https://cdn.example.test/assets/")
    path = "generations/u/r/0/7/img.png"

    stored = await store.put(path, b"png")

    assert stored.url == f"https://cdn.example.test/assets/{path}"
    assert store.url_for(path) == stored.url
    assert (await store.head(path)).url == stored.url
    assert [blob.url async for blob in store.list("generations")] == [stored.url]


BAD_PATHS = [
    "",
    "/etc/passwd",
    "../escape.txt",
    "a/../../b.txt",
    "a/./b.txt",
    "a//b.txt",
    "a/b/",
    ".hidden",
    "a/.content-types/x",
    "a\\b.txt",
    "a b.txt",
    "a/b?c=1",
    "ü.txt",
    "a/" + "x" * 256,
]


@pytest.mark.parametrize("path", BAD_PATHS)
async def test_bad_paths_refused(store: BlobStore, path: str) -> None:
    with pytest.raises(InvalidInputError, match="blob path"):
        await store.put(path, b"x")
    with pytest.raises(InvalidInputError):
        await store.get(path)
    with pytest.raises(InvalidInputError):
        await store.get_range(path, 0, 1)
    with pytest.raises(InvalidInputError):
        await store.head(path)
    with pytest.raises(InvalidInputError):
        await store.exists(path)
    with pytest.raises(InvalidInputError):
        await store.delete(path)
    with pytest.raises(InvalidInputError):
        store.url_for(path)
    with pytest.raises(InvalidInputError):
        _ = [chunk async for chunk in store.stream(path)]
    if path not in ("", "a/b/"):  # both fine as listing prefixes
        with pytest.raises(InvalidInputError):
            _ = [blob async for blob in store.list(path)]


async def test_concurrent_puts(store: BlobStore) -> None:
    blobs = {f"p/{i:02d}.bin": payload(50_000 + i, seed=i) for i in range(16)}

    stored = await asyncio.gather(*(store.put(path, data) for path, data in blobs.items()))

    assert [blob.size for blob in stored] == [len(data) for data in blobs.values()]
    assert {path: blob.size for path, blob in (await listed(store, "p")).items()} == {
        path: len(data) for path, data in blobs.items()
    }
    read = await asyncio.gather(*(store.get(path) for path in blobs))
    assert read == list(blobs.values())

    # Racing writers of one path: the survivor is one writer's bytes, whole.
    versions = [payload(200_000, seed=100 + i) for i in range(8)]
    await asyncio.gather(*(store.put("p/same.bin", data) for data in versions))
    assert await store.get("p/same.bin") in versions
