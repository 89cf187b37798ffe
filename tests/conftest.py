"""Shared fixtures: real SQLite and PostgreSQL, a real local directory and S3 over HTTP.

PostgreSQL runs at 127.0.0.1:5432 (trust auth, database ``test``); each test gets its own
schema. S3 is moto's server on a loopback port. With ``ARCHIVE_REQUIRE_SERVICES=1`` (CI) a
missing service fails the run instead of skipping the tests that need it.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from moto.server import ThreadedMotoServer

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive

PG_DSN = os.environ.get("ARCHIVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("ARCHIVE_REQUIRE_SERVICES") == "1"
BUCKET = "archive-test"


def run_concurrently(work: Callable[[], object], threads: int) -> list[BaseException]:
    """Run ``work`` in ``threads`` threads released at once; return what they raised."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as exc:  # surfaced by the caller's assertion
            errors.append(exc)

    started = [threading.Thread(target=runner) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return errors


def service_missing(what: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (ARCHIVE_REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{what} not reachable")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_moto(port: int) -> ThreadedMotoServer:
    """moto's S3 on a loopback port; buckets live in this process, across restarts."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = start_moto(port)
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        service_missing(f"PostgreSQL at {PG_DSN}")
    with admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        base = PG_DSN.replace("postgresql://", "postgresql+psycopg://", 1)
        yield f"{base}?options=-csearch_path%3D{schema}"
        admin.execute(f"DROP SCHEMA {schema} CASCADE")


def make_environ(
    home: Path, database: str, storage: str, s3_endpoint: str | None = None
) -> dict[str, str]:
    env = {"ARCHIVE_HOME": str(home), "ARCHIVE_NAME_DATE": "month"}
    if database != "sqlite":
        env["ARCHIVE_DATABASE_URL"] = database
    if storage == "s3":
        assert s3_endpoint
        env["ARCHIVE_STORAGE_URL"] = f"s3://{BUCKET}/{uuid.uuid4().hex[:8]}"
        env["ARCHIVE_S3_ENDPOINT_URL"] = s3_endpoint
    return env


@pytest.fixture(params=["sqlite-local", "sqlite-s3", "postgresql-local", "postgresql-s3"])
def archive_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """ARCHIVE_* settings for each database × storage combination, ready to initialise."""
    database, storage = request.param.split("-")
    db = request.getfixturevalue("pg_url") if database == "postgresql" else "sqlite"
    endpoint = request.getfixturevalue("s3_endpoint") if storage == "s3" else None
    return make_environ(tmp_path / "home", db, storage, endpoint)


@pytest.fixture
def arc(archive_env: dict[str, str]) -> Iterator[Archive]:
    """An initialised archive on every database × storage combination."""
    archive = Archive(load_settings(archive_env))
    initialize(archive, Actor.cli())
    yield archive
    archive.close()


@pytest.fixture
def sqlite_arc(tmp_path: Path) -> Iterator[Archive]:
    """An initialised embedded-default archive, for tests that need just one backend."""
    archive = Archive(load_settings(make_environ(tmp_path / "home", "sqlite", "local")))
    initialize(archive, Actor.cli())
    yield archive
    archive.close()
