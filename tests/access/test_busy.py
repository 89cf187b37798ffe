"""A write that cannot get the database's lock in time is answered 503 with Retry-After, on
the API and the pages, on SQLite and PostgreSQL; reads do not wait for the lock at all."""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, update

from access.http import RETRY_AFTER_SECONDS
from access.reader import Refused, Served, commit_read, prepare
from archive.accesslog import Client
from archive.db import utcnow
from archive.models import AccessEvent, Role, Scope, User
from search.indexer import flush
from tests.access.conftest import World, make_world
from tests.access.test_web import BASE, give_password, login
from tests.conftest import PG_DSN

LOCK_WAIT = "0.3"  # seconds a write waits for the lock before giving up


@pytest.fixture(params=["sqlite", "postgresql"])
def busy_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    database = request.getfixturevalue("pg_url") if request.param == "postgresql" else "sqlite"
    made = make_world(tmp_path, database, ARCHIVE_DB_LOCK_WAIT=LOCK_WAIT)
    yield made
    made.arc.close()


@contextlib.contextmanager
def writer_holding_the_lock(world: World) -> Iterator[None]:
    """Another process's long write: SQLite's single write lock, or on PostgreSQL a lock
    on the access log that stops appends but not reads."""
    url = world.arc.settings.database_url
    if url.startswith("sqlite"):
        other = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.rollback()
            other.close()
        return
    schema = url.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(PG_DSN) as other:
        other.execute(f"SET search_path TO {schema}")
        other.execute("LOCK TABLE access_events IN EXCLUSIVE MODE")
        yield
        other.rollback()


def logged_reads(world: World) -> int:
    with world.arc.sessions() as session:
        return session.scalar(select(func.count()).select_from(AccessEvent)) or 0


def test_a_read_that_cannot_log_is_503_with_retry_after_and_reads_never_wait(
    busy_world: World,
) -> None:
    world = busy_world
    flush(world.arc)
    content = f"/api/v1/versions/{world.versions['CG-internal']}/content?action=view"
    before = logged_reads(world)
    with writer_holding_the_lock(world):
        response = world.call("GET", "wang", content)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "busy" in response.get_json()["error"]
        assert "正文".encode() not in response.data  # nothing served without its log line
        # A search that shows no snippets writes nothing, so the held lock does not stop it.
        search = world.call("GET", "li", "/api/v1/search?q=档案")
        assert search.status_code == 200
        assert search.get_json()["total"] > 0
    assert logged_reads(world) == before
    again = world.call("GET", "wang", content)
    assert again.status_code == 200
    assert "正文 CG-internal".encode() in again.data
    assert logged_reads(world) == before + 1


def test_a_page_whose_write_times_out_says_so_in_chinese(busy_world: World) -> None:
    world = busy_world
    give_password(world, "wang", "correct horse battery")
    browser = world.app.test_client()
    assert login(browser, "wang", "correct horse battery") == 302
    view = f"/versions/{world.versions['CG-internal']}/content"
    with writer_holding_the_lock(world):
        page = browser.get(view, base_url=BASE, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 503
    assert page.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "档案系统正忙" in page.get_data(as_text=True)
    assert "正文 CG-internal" not in page.get_data(as_text=True)
    assert browser.get(view, base_url=BASE).status_code == 200


def test_content_is_prepared_without_the_write_lock_and_decided_again_when_logged(
    busy_world: World,
) -> None:
    """Fetching and stamping happen while another writer holds the lock; the log line is
    written after, on a fresh decision: a head demoted in between is refused, and logged."""
    world = busy_world
    client = Client("127.0.0.1", "test")
    version_id = world.versions["CG-internal"]
    with world.arc.sessions() as read:
        wang = read.scalars(select(User).where(User.username == "wang")).one()
        with writer_holding_the_lock(world):
            prepared = prepare(world.arc, read, wang, client, version_id, Scope.VIEW, utcnow())
        assert isinstance(prepared, Served)
        read.expunge(wang)
    with world.arc.transaction() as session:
        session.execute(update(User).where(User.id == wang.id).values(role=Role.SPECIALIST))
    before = logged_reads(world)
    with world.arc.transaction() as session:
        caller = session.get_one(User, wang.id)
        outcome = commit_read(session, caller, client, version_id, Scope.VIEW, prepared, utcnow())
    assert isinstance(outcome, Refused)
    assert outcome.status == 403
    with world.arc.sessions() as session:
        line = session.scalars(select(AccessEvent).order_by(AccessEvent.seq.desc())).first()
    assert logged_reads(world) == before + 1
    assert line is not None
    assert (line.username, line.outcome) == ("wang", "refused")


def test_the_reader_page_answers_an_unknown_and_a_forbidden_version_alike(
    busy_world: World,
) -> None:
    """Both are looked up and logged, so both wait for the log's lock and leave a line."""
    world = busy_world
    give_password(world, "li", "correct horse battery")
    browser = world.app.test_client()
    assert login(browser, "li", "correct horse battery") == 302  # li is in XS
    forbidden = f"/reader/{world.versions['CG-confidential']}"
    unknown = f"/reader/{uuid.uuid4()}"
    before = logged_reads(world)
    pages = [browser.get(path, base_url=BASE) for path in (forbidden, unknown)]
    assert [page.status_code for page in pages] == [404, 404]
    main = [page.data.split(b"<main", 1)[1] for page in pages]  # past the per-page token
    assert main[0] == main[1]
    assert logged_reads(world) == before + 2
    with writer_holding_the_lock(world):
        busy = [browser.get(path, base_url=BASE).status_code for path in (forbidden, unknown)]
    assert busy == [503, 503]
