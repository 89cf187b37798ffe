"""Blob stores: the local directory (embedded default) and S3-compatible object storage."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from archive.storage.base import (
    BlobNotFound,
    BlobStore,
    StorageError,
    StoredBlob,
    new_object_key,
)
from archive.storage.local import LocalBlobStore


def open_blob_store(url: str, s3_endpoint_url: str | None = None) -> BlobStore:
    """The store a validated ``ARCHIVE_STORAGE_URL`` names."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalBlobStore(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        from archive.storage.s3 import S3BlobStore  # boto3 costs ~0.2 s to import: only if used

        return S3BlobStore(parts.netloc, parts.path, endpoint_url=s3_endpoint_url)
    raise ValueError(f"unsupported storage URL {url!r}")


__all__ = [
    "BlobNotFound",
    "BlobStore",
    "LocalBlobStore",
    "StorageError",
    "StoredBlob",
    "new_object_key",
    "open_blob_store",
]
