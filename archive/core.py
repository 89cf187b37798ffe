"""The archive's wiring: settings, database, blob store and keyring, built once per process.

Views, Celery tasks and CLI commands all take an :class:`Archive` and call plain service
functions with it, so the three share one code path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.audit import CHAIN_KEY_SOURCE
from archive.config import Settings
from archive.crypto import Keyring
from archive.crypto.keyring import CHAIN_PURPOSE
from archive.db import WRITE_OPTIONS, make_engine
from archive.groupcommit import GroupCommit
from archive.storage import BlobStore, open_blob_store


class Archive:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url, self.settings.lock_wait_seconds)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions for reading; write through :meth:`transaction` instead."""
        return sessionmaker(self.engine, expire_on_commit=False, info=self._session_info)

    @cached_property
    def _writer(self) -> sessionmaker[Session]:
        return sessionmaker(
            self.engine.execution_options(**WRITE_OPTIONS),
            expire_on_commit=False,
            info=self._session_info,
        )

    @property
    def _session_info(self) -> dict[str, object]:
        """What every session carries: how to get the chain key (read when first needed)."""
        return {CHAIN_KEY_SOURCE: self.chain_key}

    def chain_key(self) -> bytes:
        return self.keyring.secret(CHAIN_PURPOSE)

    @cached_property
    def blobs(self) -> BlobStore:
        return open_blob_store(self.settings.storage_url, self.settings.s3_endpoint_url)

    @cached_property
    def keyring(self) -> Keyring:
        return Keyring.load(self.settings.keyring_path)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: commits on success, rolls back on error."""
        with self._writer() as session, session.begin():
            yield session

    @cached_property
    def log_writes(self) -> GroupCommit:
        """Short appends (a read's access-log line) from this process's threads, committed
        together: readers do not queue behind each other's commits."""
        return GroupCommit(self.transaction)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
