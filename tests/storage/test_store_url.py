"""Storage URLs → store configuration. GCS is covered only here: no GCS emulator that runs here
accepts obstore's uploads, so no GCS request is ever made (a bearer token is always configured,
so obstore never asks the cloud metadata address for one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emprops.core.errors import InvalidInputError
from emprops.storage import open_blob_store
from emprops.storage.object_blob_store import LocalBlobStore, ObjectBlobStore
from emprops.storage.store_url import build_blob_store, parse_store_url

DATA_DIR = Path("/srv/emprops")


def test_unset_url_is_local_disk_under_data_dir(tmp_path: Path) -> None:
    config = parse_store_url(None, data_dir=tmp_path)
    assert config.backend == "local"
    assert config.root == tmp_path / "blobs"
    store = open_blob_store(None, data_dir=tmp_path, cdn_url=None)
    assert isinstance(store, LocalBlobStore)
    assert (tmp_path / "blobs").is_dir()
    assert store.url_for("a/b.png") == (tmp_path / "blobs" / "a" / "b.png").as_uri()


def test_relative_data_dir_is_made_absolute() -> None:
    config = parse_store_url("", data_dir=Path("rel/data"))
    assert config.root is not None
    assert config.root.is_absolute()
    assert config.root.parts[-3:] == ("rel", "data", "blobs")


async def test_file_url(tmp_path: Path) -> None:
    root = tmp_path / "my blobs"
    store = open_blob_store(root.as_uri(), data_dir=DATA_DIR, cdn_url=None)
    stored = await store.put("x/y.txt", b"hello")
    assert (root / "x" / "y.txt").read_bytes() == b"hello"
    assert stored.url == (root / "x" / "y.txt").as_uri()


@pytest.mark.parametrize(
    "url", ["file://server/share", "file:relative/dir", "file:///a/../b", "file:///a?mode=x"]
)
def test_bad_file_urls(url: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_store_url(url, data_dir=DATA_DIR)


def test_s3_url() -> None:
    config = parse_store_url(
        "s3://my-bucket/some/prefix/?region=eu-west-1&endpoint=http://127.0.0.1:9000",
        data_dir=DATA_DIR,
        options={"access_key_id": "AKIA", "secret_access_key": "s3cret"},
    )
    assert (config.backend, config.bucket, config.prefix) == ("s3", "my-bucket", "some/prefix")
    assert config.options == {
        "region": "eu-west-1",
        "endpoint": "http://127.0.0.1:9000",
        "access_key_id": "AKIA",
        "secret_access_key": "s3cret",
    }
    assert config.native_url == "s3://my-bucket/some/prefix"
    assert "s3cret" not in repr(config)
    store = build_blob_store(config)
    assert isinstance(store, ObjectBlobStore)
    assert store.url_for("g/1.png") == "s3://my-bucket/some/prefix/g/1.png"


def test_options_override_the_query() -> None:
    config = parse_store_url(
        "s3://b?region=us-east-1", data_dir=DATA_DIR, options={"region": "eu-central-1"}
    )
    assert config.options["region"] == "eu-central-1"


def test_gcs_url_with_bearer_token() -> None:
    store = open_blob_store(
        "gs://gcs-bucket/outputs",
        data_dir=DATA_DIR,
        cdn_url=None,
        options={"bearer_token": "ya29.test-token"},
    )
    assert isinstance(store, ObjectBlobStore)
    assert store.url_for("generations/u/r/0/1/w.png") == (
        "gs://gcs-bucket/outputs/generations/u/r/0/1/w.png"
    )
    cdn = open_blob_store(
        "gs://gcs-bucket?bearer_token=t",
        data_dir=DATA_DIR,
        cdn_url="https://storage.example.test/gcs-bucket",
    )
    assert cdn.url_for("a.png") == "https://storage.example.test/gcs-bucket/a.png"


def test_azure_url() -> None:
    config = parse_store_url(
        "az://container/p?account_name=acct&use_emulator=false", data_dir=DATA_DIR
    )
    assert (config.backend, config.bucket, config.prefix) == ("azure", "container", "p")
    assert config.native_url == "az://container/p"
    store = build_blob_store(config)
    assert store.url_for("x.bin") == "az://container/p/x.bin"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/dir", "scheme"),
        ("memory://", "scheme"),
        ("/just/a/path", "scheme"),
        ("s3:///prefix", "bucket"),
        ("s3://bad!bucket/p", "bucket"),
        ("s3://user@bucket/p", "bucket"),
        ("s3://AKIA:s3cret@bucket/p", "user info"),
        ("s3://b/../up", "blob path"),
        ("s3://b/p?secret=1", "secret"),
        ("s3://b/p?bearer_token=1", "bearer_token"),
        ("gs://b/p?region=x", "region"),
        ("az://c/p?skip_signature=maybe", "true or false"),
        ("file:///tmp/x?endpoint=e", "endpoint"),
        ("s3://b/p#frag", "fragment"),
        ("s3://b/p q", "whitespace"),
        ("s3://b/p%2F..%2Fq", "blob path"),
        ("s3://b?region=", "empty"),
        ("s3://b?endpoint=notaurl", "http"),
        ("gs://b?base_url=ftp://x", "http"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as raised:
        parse_store_url(url, data_dir=DATA_DIR)
    assert "s3cret" not in str(raised.value.to_dict())


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://b?timeout=banana", "Duration"),
        ("az://container", "Account"),
        ("gs://b?service_account_key=not-json", "service account"),
    ],
)
def test_configurations_the_backend_refuses(url: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as raised:
        open_blob_store(url, data_dir=DATA_DIR, cdn_url=None)
    assert "cannot configure blob store" in raised.value.message


def test_options_need_a_url() -> None:
    with pytest.raises(InvalidInputError, match="without a storage URL"):
        parse_store_url(None, data_dir=DATA_DIR, options={"region": "x"})


@pytest.mark.parametrize(
    "cdn", ["ftp://cdn/x", "cdn.example.test", "https://cdn.example.test/?sig=1", "https://"]
)
def test_bad_cdn_urls(cdn: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="CDN URL"):
        open_blob_store(None, data_dir=tmp_path, cdn_url=cdn)


def test_cdn_url_joins_with_one_slash(tmp_path: Path) -> None:
    for cdn in ("https://cdn.example.test/root", "https://cdn.example.test/root/"):
        store = open_blob_store(None, data_dir=tmp_path, cdn_url=cdn)
        assert store.url_for("a/b.png") == "https://cdn.example.test/root/a/b.png"


@given(st.text(max_size=30).filter(lambda text: "?" not in text and "#" not in text))
def test_s3_prefix_round_trip(prefix: str) -> None:
    """A prefix is kept as written (less outer slashes) or refused, never altered."""
    try:
        config = parse_store_url(f"s3://bucket/{prefix}", data_dir=DATA_DIR)
    except InvalidInputError:
        return
    assert config.prefix == prefix.strip("/")
