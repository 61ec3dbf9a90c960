"""Blob storage: local disk by default; S3, GCS and Azure by configuration."""

from emprops.storage.blob_store import BlobStore, StoredBlob

__all__ = ["BlobStore", "StoredBlob"]
