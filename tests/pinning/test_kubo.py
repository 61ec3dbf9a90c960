"""Uploading to a Kubo node's RPC: file by file with a directory CAR, in one request, as a CAR;
CID checks, resume from the cache, and the errors a user sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from emprops.ipfs import CID, ImportOptions, cid_of_directory, cid_of_file, write_car
from emprops.pinning import (
    CidMismatchError,
    ContentChangedError,
    KuboRpc,
    PinningRejected,
    PinningUnavailable,
    UploadCache,
    Uploader,
    write_directory_car,
)
from tests.pinning.conftest import FAST, make_folder
from tests.protocol_servers.live_server import free_port
from tests.protocol_servers.pinning_servers import KuboServer

V0 = ImportOptions()


def uploader(url: str, tmp_path: Path, **kwargs: object) -> Uploader:
    service = KuboRpc(url, policy=FAST, timeout_s=kwargs.pop("timeout_s", 30))  # type: ignore[arg-type]
    cache = UploadCache(tmp_path / "cache.sqlite")
    return Uploader(service, cache, import_options=kwargs.pop("options", V0), **kwargs)  # type: ignore[arg-type]


async def test_folder_file_by_file_is_pinned_with_our_cid(
    kubo: tuple[KuboServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = kubo
    up = uploader(url, tmp_path)
    cid = await up.folder(folder, "images")
    assert cid == cid_of_directory(folder)
    assert cid in server.pins
    assert server.store.missing(cid) is None
    assert server.added_files == 8
    # Only single files went through /add; the folder came as a CAR of directory nodes.
    assert server.requests.count("POST /api/v0/add") == 8
    assert "POST /api/v0/dag/import" in server.requests


async def test_directory_car_holds_only_directory_nodes(folder: Path, tmp_path: Path) -> None:
    # A low HAMT threshold makes the folder a sharded directory: several directory blocks.
    options = ImportOptions(hamt_threshold=200)
    blocks = write_directory_car(folder, tmp_path / "d.car", options)
    assert blocks.root == cid_of_directory(folder, options)
    assert blocks.directory_blocks > 1
    assert set(blocks.files) == {f"{i}.png" for i in range(8)}
    assert blocks.files["3.png"] == cid_of_file(folder / "3.png", options)
    full = write_car(folder, tmp_path / "full.car", options)
    assert full == blocks.root
    assert (tmp_path / "d.car").stat().st_size < 3000 < (tmp_path / "full.car").stat().st_size


async def test_sharded_folder_pins_on_kubo(
    kubo: tuple[KuboServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = kubo
    options = ImportOptions(hamt_threshold=200)
    up = uploader(url, tmp_path, options=options)
    cid = await up.folder(folder, "images")
    assert cid == cid_of_directory(folder, options) and cid in server.pins


async def test_rerun_uploads_nothing_and_changed_file_only(
    kubo: tuple[KuboServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = kubo
    await uploader(url, tmp_path).folder(folder, "images")
    before = server.added_files
    await uploader(url, tmp_path).folder(folder, "images")
    assert server.added_files == before
    (folder / "5.png").write_bytes(b"changed image bytes")
    events: list[str] = []
    up = uploader(url, tmp_path, on_event=lambda e: events.append(f"{e.outcome} {e.name}"))
    cid = await up.folder(folder, "images")
    assert server.added_files == before + 1
    assert "uploaded images/5.png" in events
    assert cid in server.pins and cid == cid_of_directory(folder)


async def test_interrupted_upload_resumes_at_the_next_file(
    kubo: tuple[KuboServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = kubo
    # After three confirmed files, /add fails on every retry: the upload stops, three are cached.
    first = uploader(url, tmp_path, concurrency=1)
    added = 0

    def count(event: object) -> None:
        nonlocal added
        added += 1
        if added == 3:
            server.inject(*["503"] * FAST.attempts, route="/api/v0/add")

    first.on_event = count  # type: ignore[assignment]
    with pytest.raises(PinningUnavailable, match="HTTP 503") as failure:
        await first.folder(folder, "images")
    assert "images/" in failure.value.message
    cache = UploadCache(tmp_path / "cache.sqlite")
    assert len(cache.entries()) == 3
    uploaded_before = server.added_files
    second = uploader(url, tmp_path)
    cid = await second.folder(folder, "images")
    assert server.added_files == uploaded_before + 5
    assert cid in server.pins


async def test_wrong_cid_names_the_file_and_is_not_cached(
    kubo: tuple[KuboServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = kubo
    server.inject("wrong_cid", route="/api/v0/add")
    up = uploader(url, tmp_path, concurrency=1)
    with pytest.raises(CidMismatchError) as failure:
        await up.folder(folder, "images")
    message = failure.value.message
    assert "upload images/0.png" in message and str(cid_of_file(folder / "0.png")) in message
    cache = UploadCache(tmp_path / "cache.sqlite")
    assert str(cid_of_file(folder / "0.png")) not in {e.cid for e in cache.entries()}


async def test_one_request_mode_checks_every_file(
    kubo: tuple[KuboServer, str], tmp_path: Path
) -> None:
    server, url = kubo
    nested = make_folder(tmp_path / "meta")
    make_folder(nested / "sub", 2, salt="x")
    up = uploader(url, tmp_path, folder_mode="one_request")
    cid = await up.folder(nested, "metadata")
    assert cid == cid_of_directory(nested) and cid in server.pins
    assert server.requests.count("POST /api/v0/add") == 1


async def test_car_import_pins_the_root(
    kubo: tuple[KuboServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = kubo
    root = write_car(folder, tmp_path / "f.car")
    up = uploader(url, tmp_path)
    assert await up.car(tmp_path / "f.car", "f.car", root) == root
    assert root in server.pins
    server.requests.clear()
    await uploader(url, tmp_path).car(tmp_path / "f.car", "f.car", root)
    assert server.requests == []  # cached


async def test_car_with_wrong_root_answer_fails(
    kubo: tuple[KuboServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = kubo
    root = write_car(folder, tmp_path / "f.car")
    server.inject("wrong_cid", route="/api/v0/dag/import")
    with pytest.raises(CidMismatchError, match=r"f\.car"):
        await uploader(url, tmp_path).car(tmp_path / "f.car", "f.car", root)


async def test_pin_of_incomplete_dag_is_a_clear_error(
    kubo: tuple[KuboServer, str], folder: Path, tmp_path: Path
) -> None:
    _, url = kubo
    service = KuboRpc(url, policy=FAST)
    with pytest.raises(PinningRejected, match="not found locally"):
        await service.pin_cid(cid_of_directory(folder), name="images")
    await service.aclose()


async def test_changed_content_is_refused_before_upload(
    kubo: tuple[KuboServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = kubo
    expected = CID.parse(str(cid_of_directory(folder)))
    (folder / "1.png").write_bytes(b"tampered")
    with pytest.raises(ContentChangedError, match="images/"):
        await uploader(url, tmp_path).folder(folder, "images", expected)
    assert server.added_files == 0


async def test_unreachable_node(folder: Path, tmp_path: Path) -> None:
    up = uploader(f"http://127.0.0.1:{free_port()}", tmp_path)
    with pytest.raises(PinningUnavailable, match=r"ConnectError|failed after 4 attempts"):
        await up.file(folder / "1.png", "images/1.png")
    assert UploadCache(tmp_path / "cache.sqlite").entries() == []


async def test_timeout_is_retried(
    kubo: tuple[KuboServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = kubo
    server.hang_s = 2.0
    server.inject("hang", route="/api/v0/add")
    up = uploader(url, tmp_path, timeout_s=0.5)
    cid = await up.file(folder / "1.png", "images/1.png")
    assert cid == cid_of_file(folder / "1.png") and cid in server.pins
