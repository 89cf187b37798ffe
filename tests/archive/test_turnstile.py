"""SQLite writers take turns at the turnstile: the next one goes in as soon as the holder
commits, a holder that dies lets the others in, one kept waiting too long gets the same
"database is locked" as SQLite's own time-out, and readers never wait there."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
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


def _held_outside_the_turnstile(arc: Archive) -> sqlite3.Connection:
    """The write lock taken as another program (or the CLI as another account) would: a
    plain connection's ``BEGIN IMMEDIATE``, no turn."""
    outsider = sqlite3.connect(arc.settings.home / "archive.db", isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    return outsider


def test_readers_queued_behind_a_busy_database_wait_one_lock_wait_not_one_each(
    arc: Archive,
) -> None:
    """A security review held the lock from outside and saw 503s after 20, 40 and 60 s:
    the group commit's next batches each waited the whole lock wait (0.5 s here) again."""
    outsider = _held_outside_the_turnstile(arc)
    waited: list[float] = []
    failures: list[BaseException] = []

    def reader(n: int) -> None:
        started = time.monotonic()
        try:
            arc.log_writes.run(
                lambda session: log_access(session, None, CLIENT, "view", ALLOWED, details=f"{n}")
            )
        except OperationalError as exc:
            failures.append(exc)
        waited.append(time.monotonic() - started)

    try:
        threads = [threading.Thread(target=reader, args=(n,)) for n in range(6)]
        for number, thread in enumerate(threads):
            thread.start()
            if number == 0:
                time.sleep(0.1)  # the first batch is waiting when the others queue
        for thread in threads:
            thread.join(20)
    finally:
        outsider.rollback()
        outsider.close()
    assert len(failures) == 6
    assert all(lock_contention(exc) for exc in failures)
    assert max(waited) < 0.5 * 1.5, waited  # before: ~0.9 s for the ones queued (two waits)
    append(arc, "after")
    assert lines(arc) == ["after"]


def test_a_turn_that_came_late_leaves_only_the_rest_of_the_lock_wait(arc: Archive) -> None:
    """Waiting for the turn and then in SQLite's busy handler is one lock wait, not two."""
    path = turnstile_path(str(arc.settings.home / "archive.db"))
    assert path is not None
    turn = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)
    fcntl.flock(turn, fcntl.LOCK_EX)  # the turn, held 0.4 s of the 0.5 s wait
    threading.Timer(0.4, os.close, args=(turn,)).start()
    outsider = _held_outside_the_turnstile(arc)  # and the database's lock, all along
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError) as failed:
            append(arc, "too late")
        waited = time.monotonic() - started
    finally:
        outsider.rollback()
        outsider.close()
    assert lock_contention(failed.value)
    assert 0.4 <= waited < 0.5 * 1.5, waited  # before: 0.4 s for the turn, then 0.5 s more
    append(arc, "after")  # the busy time-out is the whole wait again
    assert lines(arc) == ["after"]
