"""Blob storage: local disk by default; S3, GCS and Azure by configuration."""

from emprops.storage.blob_paths import generation_output_path, validate_blob_path
from emprops.storage.blob_store import BlobStore, StoredBlob
from emprops.storage.store_url import open_blob_store

__all__ = [
    "BlobStore",
    "StoredBlob",
    "generation_output_path",
    "open_blob_store",
    "validate_blob_path",
]
