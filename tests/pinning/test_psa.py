"""The IPFS Pinning Service API: pin by CID, poll to pinned, failures, resume of a pending
request without asking twice, and the content coming from a Kubo node first."""

from __future__ import annotations

from pathlib import Path

import pytest

from emprops.ipfs import CID, ImportOptions, cid_of_directory, cid_of_file
from emprops.pinning import (
    CacheState,
    CidMismatchError,
    KuboRpc,
    PinFailedError,
    PinningServiceApi,
    PinningUnavailable,
    PinState,
    UploadCache,
    Uploader,
)
from tests.pinning.conftest import FAST
from tests.protocol_servers.pinning_servers import KuboServer, PsaServer


def uploader(url: str, tmp_path: Path, **kwargs: object) -> Uploader:
    service = PinningServiceApi(url, "psa-secret", origins=["/ip4/127.0.0.1/tcp/4001"], policy=FAST)
    cache = UploadCache(tmp_path / "cache.sqlite")
    kwargs.setdefault("poll_s", 0.01)
    return Uploader(service, cache, import_options=ImportOptions(), **kwargs)  # type: ignore[arg-type]


async def test_folder_pin_goes_queued_pinning_pinned(
    psa: tuple[PsaServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = psa
    events: list[str] = []
    cid = await uploader(url, tmp_path, on_event=lambda e: events.append(e.outcome)).folder(
        folder, "images"
    )
    assert cid == cid_of_directory(folder)
    (pin,) = server.pins.values()
    assert pin["status"] == "pinned" and pin["pin"]["cid"] == str(cid)
    assert pin["pin"]["name"] == "images" and pin["pin"]["origins"] == ["/ip4/127.0.0.1/tcp/4001"]
    assert events == ["pinned"]
    assert UploadCache(tmp_path / "cache.sqlite").is_pinned(f"psa {url}", str(cid))


async def test_failed_pin_is_an_error_and_not_cached(
    psa: tuple[PsaServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = psa
    cid = cid_of_file(folder / "1.png")
    server.fail_cids.add(str(cid))
    with pytest.raises(PinFailedError, match=r"pin collection.json .*failed.*could not fetch"):
        await uploader(url, tmp_path).file(folder / "1.png", "collection.json")
    assert UploadCache(tmp_path / "cache.sqlite").entries() == []


async def test_slow_pin_times_out_then_resumes_without_asking_again(
    psa: tuple[PsaServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = psa
    server.fetchable = lambda cid: False  # the provider cannot find the content yet
    with pytest.raises(PinningUnavailable, match=r"still pinning.*run the upload again"):
        await uploader(url, tmp_path, pin_timeout_s=0.05).folder(folder, "images")
    (entry,) = UploadCache(tmp_path / "cache.sqlite").entries()
    assert entry.state == CacheState.REQUESTED and entry.request_id in server.pins
    server.fetchable = lambda cid: True
    cid = await uploader(url, tmp_path).folder(folder, "images")
    assert server.post_count == 1
    assert server.pins[entry.request_id]["status"] == "pinned"
    assert UploadCache(tmp_path / "cache.sqlite").is_pinned(f"psa {url}", str(cid))


async def test_vanished_request_is_asked_again(
    psa: tuple[PsaServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = psa
    server.fetchable = lambda cid: False
    with pytest.raises(PinningUnavailable):
        await uploader(url, tmp_path, pin_timeout_s=0.0).folder(folder, "images")
    server.pins.clear()  # the provider dropped the request
    server.fetchable = lambda cid: True
    await uploader(url, tmp_path).folder(folder, "images")
    assert server.post_count == 2


async def test_existing_pin_is_reused(
    psa: tuple[PsaServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = psa
    await uploader(url, tmp_path / "a").file(folder / "1.png", "x")
    await uploader(url, tmp_path / "b").file(folder / "1.png", "x")  # another cache, same service
    assert server.post_count == 1


async def test_wrong_cid_in_answer(
    psa: tuple[PsaServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = psa
    server.inject("wrong_cid", route="POST")
    with pytest.raises(CidMismatchError, match="pin images"):
        await uploader(url, tmp_path).folder(folder, "images")


async def test_kubo_then_provider(
    psa: tuple[PsaServer, str], kubo: tuple[KuboServer, str], folder: Path, tmp_path: Path
) -> None:
    """The usual way to use a PSA provider: content on our node, the provider pins it from
    there. The provider here can fetch only what the node holds."""
    psa_server, psa_url = psa
    kubo_server, kubo_url = kubo
    psa_server.fetchable = lambda cid: kubo_server.store.missing(CID.parse(cid)) is None
    service = PinningServiceApi(psa_url, "psa-secret", policy=FAST)
    status = await service.pin_status(cid_of_directory(folder))
    assert status.state == PinState.NOT_PINNED
    node = Uploader(KuboRpc(kubo_url, policy=FAST), UploadCache(tmp_path / "k.sqlite"),
                    import_options=ImportOptions())  # fmt: skip
    cid = await node.folder(folder, "images")
    await uploader(url=psa_url, tmp_path=tmp_path).folder(folder, "images")
    assert (await service.pin_status(cid)).state == PinState.PINNED
    await service.aclose()
