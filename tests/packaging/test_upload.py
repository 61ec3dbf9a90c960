"""Uploading a package: only what changed goes up again; a tampered package is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from emprops.ipfs import CID, cid_of_file
from emprops.metadata import CollectionInfo
from emprops.packaging import (
    PackageError,
    PackageOptions,
    package_import_options,
    package_run_sync,
    read_package_report,
    upload_package,
)
from emprops.pinning import ContentChangedError, KuboRpc, UploadCache, Uploader
from tests.pinning.conftest import FAST
from tests.protocol_servers.pinning_servers import KuboServer


def kubo_uploader(url: str, out: Path, events: list[str] | None = None) -> Uploader:
    report = read_package_report(out)
    return Uploader(
        KuboRpc(url, policy=FAST), UploadCache(out / "upload-cache.sqlite"),
        import_options=package_import_options(report),
        on_event=(lambda e: events.append(f"{e.outcome} {e.name}")) if events is not None else None,
    )  # fmt: skip


async def test_changed_description_uploads_only_metadata(
    run_dir: Path, options: PackageOptions, tmp_path: Path, kubo: tuple[KuboServer, str]
) -> None:
    server, url = kubo
    out = tmp_path / "pkg"
    package_run_sync(run_dir, out, options)
    summary = await upload_package(out, kubo_uploader(url, out))
    assert [i.name for i in summary.items] == ["images", "metadata", "collection.json"]
    assert all(CID.parse(i.cid) in server.pins for i in summary.items)
    changed = options.model_copy(
        update={"info": options.info.model_copy(update={"description": "New words."})}
    )
    package_run_sync(run_dir, out, changed)
    events: list[str] = []
    sent = server.added_files
    await upload_package(out, kubo_uploader(url, out, events))
    assert "cached images" in events
    assert server.added_files - sent == 6 + 1  # six metadata files and collection.json
    assert not any(e.startswith("uploaded images/") for e in events)


async def test_tampered_package_is_refused(
    run_dir: Path, options: PackageOptions, tmp_path: Path, kubo: tuple[KuboServer, str]
) -> None:
    server, url = kubo
    out = tmp_path / "pkg"
    package_run_sync(run_dir, out, options)
    (out / "metadata" / "2").write_text('{"name": "edited by hand"}')
    with pytest.raises(ContentChangedError, match="metadata/ now has CID"):
        await upload_package(out, kubo_uploader(url, out))
    tampered = cid_of_file(out / "metadata" / "2")
    assert tampered not in server.pins and tampered not in server.store.blocks


async def test_part_selection(run_dir: Path, tmp_path: Path, kubo: tuple[KuboServer, str]) -> None:
    _, url = kubo
    out = tmp_path / "pkg"
    package_run_sync(run_dir, out, PackageOptions(info=CollectionInfo(name="P")))
    with pytest.raises(PackageError, match="no hidden part"):
        await upload_package(out, kubo_uploader(url, out), part="hidden")
    summary = await upload_package(out, kubo_uploader(url, out), part="all")
    assert summary.parts == ["reveal"]
