"""SQLite writers take turns at the turnstile: the next one goes in as soon as the holder
commits, a holder that dies lets the others in, one kept waiting too long gets the same
"database is locked" as SQLite's own time-out, and readers never wait there."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from archive.accesslog import ALLOWED, Client, log_access
from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.db import lock_contention
from archive.models import AccessEvent
from archive.turnstile import turnstile_path
from tests.conftest import make_environ

CLIENT = Client("10.9.8.6", "turnstile-test")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return make_environ(tmp_path / "home", "sqlite", "local") | {"ARCHIVE_DB_LOCK_WAIT": "0.5"}


@pytest.fixture
def arc(env: dict[str, str]) -> Iterator[Archive]:
    archive = Archive(load_settings(env))
    initialize(archive, Actor.cli())
    yield archive
    archive.close()


def append(arc: Archive, details: str) -> None:
    with arc.transaction() as session:
        log_access(session, None, CLIENT, "view", ALLOWED, details=details)


def lines(arc: Archive) -> list[str]:
    with arc.sessions() as session:
        return list(session.scalars(select(AccessEvent.details).order_by(AccessEvent.seq)))


def test_a_writer_waits_for_the_holder_and_goes_in_when_it_commits(arc: Archive) -> None:
    entered, release = threading.Event(), threading.Event()
    order: list[str] = []

    def holder() -> None:
        with arc.transaction() as session:
            log_access(session, None, CLIENT, "view", ALLOWED, details="first")
            entered.set()
            release.wait(10)
            order.append("first commits")

    thread = threading.Thread(target=holder)
    thread.start()
    assert entered.wait(10)

    def second() -> None:
        append(arc, "second")
        order.append("second committed")

    waiting = threading.Thread(target=second)
    waiting.start()
    waiting.join(0.2)
    assert waiting.is_alive(), "the second writer went in while the first held its turn"
    release.set()
    thread.join(10)
    waiting.join(10)
    assert order == ["first commits", "second committed"]
    assert lines(arc)[-2:] == ["first", "second"]


def test_a_writer_kept_waiting_too_long_fails_as_a_busy_database(arc: Archive) -> None:
    entered, release = threading.Event(), threading.Event()

    def holder() -> None:
        with arc.transaction() as session:
            session.connection()  # begun: the turn is taken
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert entered.wait(10)
    try:
        with pytest.raises(OperationalError) as failed:
            append(arc, "too late")
        assert lock_contention(failed.value)  # what the web answers 503 with Retry-After
        with arc.sessions() as session:  # readers do not wait at the turnstile
            assert session.scalar(select(func.count()).select_from(AccessEvent)) is not None
    finally:
        release.set()
        thread.join(10)
    append(arc, "after")  # the turn was passed on: nothing is left held
    assert "too late" not in lines(arc)
    assert lines(arc)[-1] == "after"


def test_a_holder_that_dies_lets_the_next_writer_in(arc: Archive, env: dict[str, str]) -> None:
    child = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from archive.config import load_settings
        from archive.core import Archive
        arc = Archive(load_settings({env!r}))
        with arc.transaction() as session:
            session.connection()
            print("holding", flush=True)
            time.sleep(60)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "holding"
            process.kill()
            process.wait(10)
            append(arc, "after the holder died")
        finally:
            process.kill()
    assert lines(arc)[-1] == "after the holder died"


def test_only_database_files_have_a_turnstile() -> None:
    assert turnstile_path("/var/archive/archive.db") == Path("/var/archive/archive.db-writer")
    assert turnstile_path(":memory:") is None
    assert turnstile_path(None) is None


def test_a_turnstile_that_cannot_be_opened_leaves_writes_to_sqlite(
    arc: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    """Say made by root running the CLI, so the web's account may not open it (here, as the
    tests run as root, something in its place that no one can open as a file): writes still
    go through, waiting in SQLite's busy handler alone, and the log says why, once."""
    path = turnstile_path(arc.settings.database_url.removeprefix("sqlite:///"))
    assert path is not None
    path.unlink()  # made by the set-up
    path.mkdir()
    append(arc, "without a turn")
    append(arc, "again")
    assert lines(arc)[-2:] == ["without a turn", "again"]
    assert caplog.text.count("busy handler alone") == 1
