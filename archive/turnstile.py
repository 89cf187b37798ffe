"""SQLite writers take turns at a turnstile, so the lock passes at once to the next one.

SQLite lets one connection write at a time. One that finds the lock taken waits in SQLite's
busy handler, which sleeps 1, 2, 5, 10 … 100 ms between tries whatever the holder does
meanwhile: one process kept winning while another's writers slept, and now and then a
request hung for most of a second (``bench/log_append.py --processes``: max 0.6–1.7 s with
two or four processes; the first load test's search p99 of 3.4 s). Here a writer first takes
an exclusive ``flock`` on a file beside the database; the kernel drops it when the writer
commits, rolls back or dies (a crashed process never leaves it held), and a waiter tries
again within a fifth of a millisecond. The waits are bounded (max about 0.1 s in the same
benchmark) at the price of smaller group commits when every thread only appends. Past the
lock wait a writer fails with SQLite's own "database is locked", which the web answers 503.

Only write transactions (``BEGIN IMMEDIATE``) take a turn; readers never wait here.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import time
from pathlib import Path

log = logging.getLogger(__name__)
_UNOPENABLE: set[Path] = set()

#: The first retry comes after this many seconds, doubling up to :data:`LONGEST_PAUSE`.
FIRST_PAUSE = 0.00002
LONGEST_PAUSE = 0.0002


def turnstile_path(database: str | None) -> Path | None:
    """The lock file of a database file (none for an in-memory or URI-named database)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + "-writer")


def take_turn(path: Path, wait: float) -> int | None:
    """An open descriptor holding the turnstile's lock (closing it lets the next one in);
    ``sqlite3.OperationalError`` "database is locked" if ``wait`` seconds pass first. None if
    this process may not open the file (made by another account, say by root running the
    CLI): it then waits in SQLite's busy handler alone, as before the turnstile. A write that
    SQLite would take never fails here for want of the file."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        if path not in _UNOPENABLE:
            _UNOPENABLE.add(path)
            log.warning("cannot open %s: writers wait in SQLite's busy handler alone", path)
        return None
    deadline, pause = time.monotonic() + wait, FIRST_PAUSE
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return descriptor
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(descriptor)
                raise sqlite3.OperationalError("database is locked") from None
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)
        except BaseException:
            os.close(descriptor)
            raise


class TurnstileConnection(sqlite3.Connection):
    """A connection that holds its turn from ``BEGIN IMMEDIATE`` until commit or rollback."""

    turnstile: Path | None = None
    lock_wait: float = 30.0
    _turn: int | None = None

    def take_turn(self) -> None:
        """Wait for this connection's turn to write (held until commit or rollback)."""
        if self.turnstile is not None and self._turn is None:
            self._turn = take_turn(self.turnstile, self.lock_wait)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.pass_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.pass_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.pass_turn()

    def pass_turn(self) -> None:
        turn, self._turn = self._turn, None
        if turn is not None:
            os.close(turn)
