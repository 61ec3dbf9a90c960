"""Which blob store to use, as one URL (a setting), with per-backend options in its query string or
in a separate mapping (so secrets can live in their own setting):

- unset: local disk under `<data_dir>/blobs`
- `file:///abs/dir`
- `s3://bucket/prefix?region=...&endpoint=http://127.0.0.1:9000` (S3 and S3-compatible servers)
- `gs://bucket/prefix?bearer_token=...` or `?application_credentials=/path/key.json`
- `az://container/prefix?account_name=...&account_key=...&endpoint=...`

Options not given fall back to the provider's own environment variables and credential chain
(AWS_*, GOOGLE_*, AZURE_*), as obstore reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from obstore import exceptions as obstore_errors
from obstore.store import AzureStore, GCSStore, LocalStore, S3Store
from pydantic import BaseModel, ConfigDict, Field

from emprops.core.errors import InvalidInputError
from emprops.storage.blob_paths import validate_blob_prefix
from emprops.storage.blob_store import BlobStore
from emprops.storage.object_blob_store import LocalBlobStore, ObjectBlobStore, error_summary

if TYPE_CHECKING:
    from obstore.store import AzureConfig, ClientConfig, GCSConfig, S3Config

Backend = Literal["local", "s3", "gcs", "azure"]

_SCHEMES: dict[str, Backend] = {"file": "local", "s3": "s3", "gs": "gcs", "az": "azure"}

# Options each backend accepts (obstore's own config key names), and the HTTP client's.
_CLIENT_OPTIONS = frozenset({"allow_http", "timeout", "connect_timeout"})
_BACKEND_OPTIONS: dict[Backend, frozenset[str]] = {
    "local": frozenset(),
    "s3": frozenset(
        {
            "endpoint",
            "region",
            "access_key_id",
            "secret_access_key",
            "session_token",
            "virtual_hosted_style_request",
            "skip_signature",
        }
    ),
    "gcs": frozenset(
        {
            "bearer_token",
            "service_account",
            "service_account_key",
            "application_credentials",
            "base_url",
            "skip_signature",
        }
    ),
    "azure": frozenset(
        {
            "account_name",
            "account_key",
            "sas_key",
            "token",
            "endpoint",
            "use_emulator",
            "client_id",
            "client_secret",
            "tenant_id",
            "use_azure_cli",
            "skip_signature",
        }
    ),
}
_BOOLEAN_OPTIONS = frozenset(
    {
        "allow_http",
        "virtual_hosted_style_request",
        "skip_signature",
        "use_emulator",
        "use_azure_cli",
    }
)
_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
DEFAULT_TIMEOUT = timedelta(minutes=10)
DEFAULT_CONNECT_TIMEOUT = timedelta(seconds=10)


class BlobStoreConfig(BaseModel):
    """A parsed store URL. `options` may hold credentials: it is left out of repr."""

    model_config = ConfigDict(frozen=True)

    backend: Backend
    root: Path | None = None
    bucket: str | None = None
    prefix: str = ""
    options: dict[str, str] = Field(default_factory=dict, repr=False)

    @property
    def native_url(self) -> str:
        """The store's root as a URL (`s3://bucket/prefix`, `file:///dir`), without options."""
        if self.backend == "local":
            assert self.root is not None
            return self.root.as_uri()
        scheme = next(s for s, b in _SCHEMES.items() if b == self.backend)
        base = f"{scheme}://{self.bucket}"
        return f"{base}/{self.prefix}" if self.prefix else base


def parse_store_url(
    url: str | None, *, data_dir: Path, options: Mapping[str, str] | None = None
) -> BlobStoreConfig:
    """Parse and check a store URL; `options` override the URL's query values."""
    if not url:
        if options:
            raise InvalidInputError("storage options given without a storage URL")
        return BlobStoreConfig(backend="local", root=Path(data_dir).absolute() / "blobs")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise InvalidInputError("storage URL holds whitespace or control characters")
    parts = urlsplit(url)
    if parts.fragment:
        raise InvalidInputError(f"storage URL {parts.scheme}://… must not have a #fragment")
    backend = _SCHEMES.get(parts.scheme.lower())
    if backend is None:
        raise InvalidInputError(
            f"storage URL scheme {parts.scheme or '(none)'!r} is not one of "
            f"{', '.join(s + '://' for s in _SCHEMES)}",
            details={"scheme": parts.scheme},
        )
    merged = dict(parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False))
    merged.update(options or {})
    allowed = _BACKEND_OPTIONS[backend] | (_CLIENT_OPTIONS if backend != "local" else frozenset())
    unknown = sorted(set(merged) - allowed)
    if unknown:
        raise InvalidInputError(
            f"storage option(s) {', '.join(unknown)} not accepted for {parts.scheme}:// "
            f"(accepted: {', '.join(sorted(allowed)) or 'none'})",
            details={"unknown": unknown},
        )
    for key in sorted(merged):
        if not merged[key]:
            raise InvalidInputError(f"storage option {key} is empty", details={"option": key})
    for key in sorted(set(merged) & {"endpoint", "base_url"}):
        endpoint = urlsplit(merged[key])
        if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
            raise InvalidInputError(
                f"storage option {key} must be an http(s) URL", details={"option": key}
            )
    for key in sorted(set(merged) & _BOOLEAN_OPTIONS):
        if merged[key].lower() not in ("true", "false", "1", "0"):
            raise InvalidInputError(
                f"storage option {key} must be true or false", details={"option": key}
            )
    if backend == "local":
        return _parse_file_url(url, parts.netloc, parts.path)
    bucket = parts.netloc
    if not bucket or not set(bucket) <= _BUCKET_CHARS:
        shown = "user info (put credentials in options)" if "@" in bucket else repr(bucket)
        raise InvalidInputError(
            f"storage URL {parts.scheme}:// needs a bucket/container name of letters, digits, "
            f"`.`, `_`, `-`; got {shown}",
        )
    prefix = validate_blob_prefix(parts.path.strip("/"))
    return BlobStoreConfig(backend=backend, bucket=bucket, prefix=prefix, options=merged)


def _parse_file_url(url: str, netloc: str, path: str) -> BlobStoreConfig:
    if netloc not in ("", "localhost"):
        raise InvalidInputError(
            f"file storage URL must name a local directory (file:///abs/dir), got host {netloc!r}"
        )
    root = Path(unquote(path))
    if not root.is_absolute() or ".." in root.parts:
        raise InvalidInputError(
            f"file storage URL must hold an absolute path without `..`: {url!r}",
            details={"url": url},
        )
    return BlobStoreConfig(backend="local", root=root)


def _is_true(value: str) -> bool:
    return value.lower() in ("true", "1")


def _client_options(options: Mapping[str, str], endpoint: str | None) -> ClientConfig:
    client: dict[str, Any] = {
        "timeout": options.get("timeout", DEFAULT_TIMEOUT),
        "connect_timeout": options.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT),
    }
    if "allow_http" in options:
        client["allow_http"] = _is_true(options["allow_http"])
    elif endpoint is not None and endpoint.startswith("http://"):
        client["allow_http"] = True
    return cast("ClientConfig", client)


def _backend_config(options: Mapping[str, str]) -> dict[str, Any]:
    return {
        key: _is_true(value) if key in _BOOLEAN_OPTIONS else value
        for key, value in options.items()
        if key not in _CLIENT_OPTIONS
    }


def build_blob_store(config: BlobStoreConfig, *, cdn_url: str | None = None) -> BlobStore:
    """Make the store a config describes; nothing is contacted until the first call."""
    try:
        return _build(config, cdn_url)
    except obstore_errors.BaseError as error:
        raise InvalidInputError(
            f"cannot configure blob store {config.native_url}: {error_summary(error)}",
            details={"store": config.native_url},
        ) from error


def _build(config: BlobStoreConfig, cdn_url: str | None) -> BlobStore:
    native_url = config.native_url
    if config.backend == "local":
        assert config.root is not None
        local = LocalStore(config.root, mkdir=True, automatic_cleanup=True)
        return LocalBlobStore(local, native_url=native_url, cdn_url=cdn_url)
    options = config.options
    backend_config = _backend_config(options)
    client = _client_options(options, options.get("endpoint") or options.get("base_url"))
    prefix = config.prefix or None
    if config.backend == "s3":
        s3 = S3Store(
            config.bucket,
            prefix=prefix,
            config=cast("S3Config", backend_config),
            client_options=client,
        )
        return ObjectBlobStore(s3, native_url=native_url, cdn_url=cdn_url)
    if config.backend == "gcs":
        gcs = GCSStore(
            config.bucket,
            prefix=prefix,
            config=cast("GCSConfig", backend_config),
            client_options=client,
        )
        return ObjectBlobStore(gcs, native_url=native_url, cdn_url=cdn_url)
    azure = AzureStore(
        config.bucket,
        prefix=prefix,
        config=cast("AzureConfig", backend_config),
        client_options=client,
    )
    return ObjectBlobStore(azure, native_url=native_url, cdn_url=cdn_url)


def open_blob_store(
    url: str | None,
    *,
    data_dir: Path,
    cdn_url: str | None,
    options: Mapping[str, str] | None = None,
) -> BlobStore:
    """The blob store for a storage URL (unset: local disk under `<data_dir>/blobs`)."""
    if cdn_url is not None:
        cdn = urlsplit(cdn_url)
        if cdn.scheme not in ("http", "https") or not cdn.netloc or cdn.query or cdn.fragment:
            raise InvalidInputError(
                f"CDN URL must be an http(s) URL prefix without query or fragment, got {cdn_url!r}",
                details={"cdn_url": cdn_url},
            )
    return build_blob_store(
        parse_store_url(url, data_dir=data_dir, options=options), cdn_url=cdn_url
    )
