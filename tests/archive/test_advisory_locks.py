"""PostgreSQL's advisory locks are the whole database's: the archive names its locks within
its schema, so two archives in one database (each in its schema) never wait for each other's
appends, while writers of one archive still take turns."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from archive.accesslog import ALLOWED, Client, log_access
from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.db import advisory_xact_lock
from tests.conftest import PG_DSN

CLIENT = Client("10.1.2.3", "advisory-test")


@pytest.fixture
def two_schemas(tmp_path: Path) -> Iterator[tuple[Archive, Archive]]:
    made, schemas = [], []
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        for n in range(2):
            schema = f"t_{uuid.uuid4().hex[:12]}"
            admin.execute(f"CREATE SCHEMA {schema}")
            schemas.append(schema)
            base = PG_DSN.replace("postgresql://", "postgresql+psycopg://", 1)
            env = {
                "ARCHIVE_HOME": str(tmp_path / f"home{n}"),
                "ARCHIVE_DATABASE_URL": f"{base}?options=-csearch_path%3D{schema}",
                "ARCHIVE_DB_LOCK_WAIT": "1",
            }
            arc = Archive(load_settings(env))
            initialize(arc, Actor.cli())
            made.append(arc)
        try:
            yield made[0], made[1]
        finally:
            for arc in made:
                arc.close()
            for schema in schemas:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")


def test_an_archive_holding_its_chain_does_not_stop_another_schemas_appends(
    two_schemas: tuple[Archive, Archive],
) -> None:
    first, second = two_schemas
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with first.transaction() as session:
            advisory_xact_lock(session, "chain:access_events")
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(10)
        with second.transaction() as session:  # another schema: no wait at all
            log_access(session, None, CLIENT, "view", ALLOWED, details="other archive")
        with pytest.raises(Exception, match="lock timeout"), first.transaction() as session:
            log_access(session, None, CLIENT, "view", ALLOWED, details="same archive")
    finally:
        release.set()
        thread.join(10)
