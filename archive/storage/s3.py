"""Blob store on S3-compatible object storage (AWS S3, MinIO, Ceph) through boto3.

Uploads stream through boto3's transfer manager: objects above the threshold go up as
multipart uploads of bounded part size, so memory stays flat whatever the object size.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, BinaryIO, cast

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from archive.storage.base import (
    BlobNotFound,
    BlobRange,
    StorageError,
    StoredBlob,
    check_key,
    is_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PART_SIZE = 8 * 1024 * 1024
_MISSING = {"NoSuchKey", "404", "NotFound"}


class _ChunkReader(io.RawIOBase):
    """A read-only, non-seekable file over an iterator of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.consumed += size
        return size


class S3BlobStore:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        client: S3Client | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"
        self._client: S3Client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
            ),
        )
        self._transfer = TransferConfig(
            multipart_threshold=PART_SIZE,
            multipart_chunksize=PART_SIZE,
            max_concurrency=4,
        )

    def _key(self, key: str) -> str:
        check_key(key)
        sharded = f"{key[:2]}/{key}"
        return f"{self.prefix}/{sharded}" if self.prefix else sharded

    def prepare(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _MISSING:
                raise StorageError(f"cannot reach bucket {self.bucket}: {exc}") from None
            self._client.create_bucket(Bucket=self.bucket)

    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"bucket {self.bucket} is not reachable: {exc}") from None

    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        reader = _ChunkReader(chunks)
        try:
            self._client.upload_fileobj(
                cast(BinaryIO, reader), self.bucket, self._key(key), Config=self._transfer
            )
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"upload of {key} to {self.url} failed: {exc}") from None
        return reader.consumed

    def open(self, key: str) -> BinaryIO:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._failure(exc, key, "download") from None
        return cast(BinaryIO, response["Body"])

    def read_range(self, key: str, start: int, length: int) -> BlobRange:
        """One ranged GET; the object's size comes back in its ``Content-Range``."""
        if start < 0 or length < 0:
            raise ValueError("a range starts at 0 or later and has a length of 0 or more")
        if length == 0:
            return BlobRange(b"", self._size(key))
        try:
            response = self._client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{start + length - 1}"
            )
            body = response["Body"]
            try:
                data = body.read()
            finally:
                body.close()
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and _code(exc) == "InvalidRange":
                return BlobRange(b"", self._size(key))  # from at or past the end
            raise self._failure(exc, key, "ranged read") from None
        content_range = response.get("ContentRange") or ""
        total = content_range.rpartition("/")[2]
        if not total.isdigit():  # a store that ignored the range sent the whole object
            return BlobRange(data[start : start + length], len(data))
        return BlobRange(data, int(total))

    def _size(self, key: str) -> int:
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._failure(exc, key, "lookup") from None
        return int(head["ContentLength"])

    def _failure(self, exc: ClientError | BotoCoreError, key: str, doing: str) -> StorageError:
        """A missing object as :class:`BlobNotFound`; anything else as a storage error."""
        if isinstance(exc, ClientError) and _code(exc) in _MISSING:
            return BlobNotFound(f"no object {key} in {self.url}")
        return StorageError(f"{doing} of {key} in {self.url} failed: {exc}")

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"delete of {key} from {self.url} failed: {exc}") from None

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and _code(exc) in _MISSING:
                return False
            raise StorageError(f"lookup of {key} in {self.url} failed: {exc}") from None
        return True

    def listing(self) -> Iterator[StoredBlob]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"].rsplit("/", 1)[-1]
                    if is_key(name) and item["Key"] == self._key(name):
                        yield StoredBlob(name, item["LastModified"], item["Size"])
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(f"listing {self.url} failed: {exc}") from None


def _code(exc: ClientError) -> str | None:
    code = exc.response.get("Error", {}).get("Code")
    return str(code) if code is not None else None
