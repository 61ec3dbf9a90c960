"""Uploading to Pinata's pinFileToIPFS: a folder in one multipart request, CID checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from emprops.ipfs import ImportOptions, cid_of_directory, cid_of_file
from emprops.pinning import (
    CidMismatchError,
    PinataService,
    PinningAuthError,
    PinningRateLimited,
    PinState,
    UnsupportedUploadError,
    UploadCache,
    Uploader,
)
from emprops.pinning.http_retry import RetryPolicy
from tests.pinning.conftest import FAST
from tests.protocol_servers.pinning_servers import PinataServer


def uploader(url: str, tmp_path: Path, token: str = "pinata-jwt", **kwargs: object) -> Uploader:
    policy = kwargs.pop("policy", FAST)
    service = PinataService(url, token, policy=policy)  # type: ignore[arg-type]
    options = kwargs.pop("options", ImportOptions())
    cache = UploadCache(tmp_path / "cache.sqlite")
    return Uploader(service, cache, import_options=options, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("cid_version", [0, 1])
async def test_folder_in_one_request(
    pinata: tuple[PinataServer, str], folder: Path, tmp_path: Path, cid_version: int
) -> None:
    server, url = pinata
    options = ImportOptions(cid_version=cid_version)  # type: ignore[arg-type]
    sent: list[int] = []
    up = uploader(url, tmp_path, options=options, on_bytes=sent.append)
    cid = await up.folder(folder, "images")
    assert cid == cid_of_directory(folder, options)
    assert str(cid) in server.pins and server.uploads == 1
    assert sum(sent) == sum(len(p.read_bytes()) for p in sorted(folder.iterdir()))  # noqa: ASYNC240
    status = await up.service.pin_status(cid)
    assert status.state == PinState.PINNED


async def test_single_file_and_cache(
    pinata: tuple[PinataServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = pinata
    cid = await uploader(url, tmp_path).file(folder / "2.png", "collection.json")
    assert cid == cid_of_file(folder / "2.png") and str(cid) in server.pins
    await uploader(url, tmp_path).file(folder / "2.png", "collection.json")
    assert server.uploads == 1


async def test_rate_limit_is_honoured_then_succeeds(
    pinata: tuple[PinataServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = pinata
    server.inject("429", "429", route="/pinning/pinFileToIPFS")
    cid = await uploader(url, tmp_path).folder(folder, "images")
    assert server.requests.count("POST /pinning/pinFileToIPFS") == 3
    assert str(cid) in server.pins and server.uploads == 1


async def test_rate_limit_forever_fails_with_advice(
    pinata: tuple[PinataServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = pinata
    server.inject(*["429"] * FAST.attempts)
    with pytest.raises(PinningRateLimited, match="still rate limited"):
        await uploader(url, tmp_path).folder(folder, "images")
    server.faults.clear()
    server.retry_after = "3600"
    server.inject("429")
    with pytest.raises(PinningRateLimited, match="Retry-After asks for 3600"):
        await uploader(url, tmp_path).folder(folder, "images")
    assert UploadCache(tmp_path / "cache.sqlite").entries() == []


async def test_lost_response_is_retried_idempotently(
    pinata: tuple[PinataServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = pinata
    server.inject("lost", route="/pinning/pinFileToIPFS")
    cid = await uploader(url, tmp_path).folder(folder, "images")
    assert server.uploads == 2 and list(server.pins) == [str(cid)]


async def test_wrong_cid_names_the_folder(
    pinata: tuple[PinataServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = pinata
    server.inject("wrong_cid")
    with pytest.raises(CidMismatchError, match=r"upload images/ \(8 files\)") as failure:
        await uploader(url, tmp_path).folder(folder, "images")
    assert failure.value.details["expected"] == str(cid_of_directory(folder))
    assert UploadCache(tmp_path / "cache.sqlite").entries() == []


async def test_bad_token(pinata: tuple[PinataServer, str], folder: Path, tmp_path: Path) -> None:
    _, url = pinata
    with pytest.raises(PinningAuthError, match=r"HTTP 401.*check the token"):
        await uploader(url, tmp_path, token="wrong").folder(folder, "images")


async def test_car_is_not_offered(
    pinata: tuple[PinataServer, str], folder: Path, tmp_path: Path
) -> None:
    _, url = pinata
    with pytest.raises(UnsupportedUploadError, match="without --car"):
        await uploader(url, tmp_path).car(folder / "1.png", "x.car", cid_of_file(folder / "1.png"))


async def test_5xx_exhausted(
    pinata: tuple[PinataServer, str], folder: Path, tmp_path: Path
) -> None:
    server, url = pinata
    server.inject(*["500"] * 2)
    policy = RetryPolicy(attempts=2, base_s=0.0)
    with pytest.raises(Exception, match=r"failed after 2 attempts: HTTP 500"):
        await uploader(url, tmp_path, policy=policy).folder(folder, "images")
