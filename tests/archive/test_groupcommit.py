"""Group commit: concurrent appends share transactions, and one job's error stays its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.accesslog import ALLOWED, Client, log_access, verify_access_log
from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.groupcommit import GroupCommit
from archive.models import AccessEvent
from tests.conftest import make_environ

CLIENT = Client("10.9.8.7", "group-commit-test")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_arc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Archive]:
    database = request.getfixturevalue("pg_url") if request.param == "postgresql" else "sqlite"
    archive = Archive(load_settings(make_environ(tmp_path / "home", database, "local")))
    initialize(archive, Actor.cli())
    yield archive
    archive.close()


def append_line(n: int):  # type: ignore[no-untyped-def]
    def job(session: Session) -> int:
        event = log_access(session, None, CLIENT, "view", ALLOWED, details=f"n={n}")
        return event.seq

    return job


def wait_until(condition, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def logged(arc: Archive) -> list[str]:
    with arc.sessions() as session:
        return list(session.scalars(select(AccessEvent.details).order_by(AccessEvent.seq)))


def test_waiting_appends_are_committed_together_and_each_caller_gets_its_own_line(
    db_arc: Archive,
) -> None:
    group = GroupCommit(db_arc.transaction)
    hold = threading.Event()
    results: dict[int, int] = {}

    def first(session: Session) -> int:
        hold.wait(20)  # keeps the first batch open while the others queue behind it
        return append_line(0)(session)

    def call(n: int) -> None:
        results[n] = group.run(first if n == 0 else append_line(n))

    threads = [threading.Thread(target=call, args=(0,))]
    threads[0].start()
    wait_until(lambda: group.batches == 1)
    threads += [threading.Thread(target=call, args=(n,)) for n in range(1, 16)]
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: group.queued == 15)
    hold.set()
    for thread in threads:
        thread.join(30)

    assert (group.batches, group.jobs) == (2, 16)  # 16 lines, 2 commits
    assert sorted(results.values()) == list(range(1, 17))  # each its own line, none twice
    assert sorted(logged(db_arc)) == sorted(f"n={n}" for n in range(16))
    with db_arc.sessions() as session:
        assert verify_access_log(session).ok


def test_a_failing_job_fails_alone(db_arc: Archive) -> None:
    group = GroupCommit(db_arc.transaction)
    hold = threading.Event()
    outcomes: dict[int, object] = {}

    def first(session: Session) -> int:
        hold.wait(20)
        return append_line(0)(session)

    def broken(session: Session) -> int:
        append_line(99)(session)  # its line goes with the failure
        raise ValueError("this job's own fault")

    def call(n: int) -> None:
        job = {0: first, 3: broken}.get(n, append_line(n))
        try:
            outcomes[n] = group.run(job)
        except ValueError as exc:
            outcomes[n] = exc

    threads = [threading.Thread(target=call, args=(n,)) for n in range(6)]
    threads[0].start()
    wait_until(lambda: group.batches == 1)
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: group.queued == 5)
    hold.set()
    for thread in threads:
        thread.join(30)

    assert isinstance(outcomes.pop(3), ValueError)
    assert all(isinstance(seq, int) for seq in outcomes.values())
    assert sorted(logged(db_arc)) == ["n=0", "n=1", "n=2", "n=4", "n=5"]  # not n=99
    with db_arc.sessions() as session:
        assert verify_access_log(session).ok
        assert session.scalar(select(func.count()).select_from(AccessEvent)) == 5


def test_a_lone_caller_is_not_kept_waiting(db_arc: Archive) -> None:
    group = GroupCommit(db_arc.transaction)
    assert [group.run(append_line(n)) for n in range(3)] == [1, 2, 3]
    assert (group.batches, group.jobs, group.queued) == (3, 3, 0)
