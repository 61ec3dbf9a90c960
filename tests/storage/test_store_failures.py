"""Backend failures surface as our errors, with messages that name the store and leak no secret."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from emprops.core.errors import NotFoundError, UnavailableError
from emprops.storage import open_blob_store
from tests.storage.conftest import AZURITE_ACCOUNT


async def test_missing_bucket_is_unavailable_not_a_missing_blob(
    s3_endpoint: str, tmp_path: Path
) -> None:
    store = open_blob_store(
        f"s3://no-such-bucket/p?region=us-east-1&endpoint={s3_endpoint}",
        data_dir=tmp_path,
        cdn_url=None,
        options={"access_key_id": "testing", "secret_access_key": "testing"},
    )
    with pytest.raises(UnavailableError, match=r"no-such-bucket.*does not exist") as put:
        await store.put("a.txt", b"x")
    assert "NoSuchBucket" in put.value.message
    with pytest.raises(UnavailableError, match=r"no-such-bucket.*NoSuchBucket"):
        _ = [blob async for blob in store.list()]
    with pytest.raises(NotFoundError):
        await store.get("a.txt")


async def test_wrong_credentials_are_refused_without_echoing_them(
    azure_endpoint: str, tmp_path: Path
) -> None:
    wrong_key = base64.b64encode(b"not the azurite key, 32 bytes!!!").decode()
    store = open_blob_store(
        f"az://emprops-test/p?endpoint={azure_endpoint}&account_name={AZURITE_ACCOUNT}",
        data_dir=tmp_path,
        cdn_url=None,
        options={"account_key": wrong_key},
    )
    with pytest.raises(UnavailableError) as raised:
        await store.put("a.txt", b"x")
    assert "az://emprops-test/p" in raised.value.message
    assert wrong_key not in raised.value.message
    assert "a.txt" in raised.value.message
    assert "AuthorizationFailure" in raised.value.message or "403" in raised.value.message
