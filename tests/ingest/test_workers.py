"""Reliability with real processes: Redis as the broker, PostgreSQL, S3 over HTTP.

Workers are killed with SIGKILL at random moments while 200 documents ingest; S3 goes away
in the middle of ingesting. Whatever happens to messages, every document must end stored
exactly once, and nothing may be left in staging.
"""

from __future__ import annotations

import io
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.db import utcnow
from archive.models import IngestJob, IngestStatus, Version
from ingest.jobs import receive, sweep
from tests.conftest import free_port, make_environ, service_missing, start_moto

pytestmark = pytest.mark.slow
REDIS = "redis://127.0.0.1:6379"
ACTOR = Actor.cli()


@pytest.fixture
def redis_url() -> str:
    import redis

    db = random.randint(1, 15)  # noqa: S311
    client = redis.Redis.from_url(f"{REDIS}/{db}", socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        service_missing(f"Redis at {REDIS}")
    return f"{REDIS}/{db}"


def worker_env(home: Path, pg_url: str, endpoint: str, redis_url: str) -> dict[str, str]:
    return {
        **make_environ(home, pg_url, "s3", endpoint),
        "ARCHIVE_BROKER_URL": redis_url,
        "ARCHIVE_INGEST_LEASE_SECONDS": "20",
        "ARCHIVE_INGEST_QUEUE_DEADLINE": "8",
        "ARCHIVE_INGEST_SWEEP_SECONDS": "2",
        "ARCHIVE_CLAMAV": "off",
    }


class Processes:
    """Worker and beat processes, each in its own process group so kill -9 takes it all."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = {**os.environ, **env}
        self.log = log.open("ab")
        self.worker: subprocess.Popen[bytes] | None = None
        self.beat = self._start("beat")

    def _start(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "access", *args],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_worker(self) -> None:
        self.worker = self._start("worker", "--concurrency", "2")

    def kill_worker(self) -> None:
        if self.worker is not None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait()
            self.worker = None

    def stop(self) -> None:
        for proc in (self.worker, self.beat):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.log.close()


def enqueue_all(env: dict[str, str], job_ids: list[uuid.UUID]) -> None:
    from access.app import archive_of, create_app
    from ingest.tasks import enqueue

    app = create_app(env)
    try:
        for job_id in job_ids:
            assert enqueue(job_id)
    finally:
        archive_of(app).close()


def statuses(arc: Archive) -> dict[IngestStatus, int]:
    with arc.sessions() as session:
        rows = session.execute(
            select(IngestJob.status, func.count()).group_by(IngestJob.status)
        ).all()
    return {status: count for status, count in rows}


def wait_until_finished(arc: Archive, total: int, timeout: float) -> dict[IngestStatus, int]:
    deadline = time.monotonic() + timeout
    counts: dict[IngestStatus, int] = {}
    while time.monotonic() < deadline:
        counts = statuses(arc)
        if sum(n for s, n in counts.items() if s.finished) == total:
            return counts
        time.sleep(1)
    raise AssertionError(f"not finished after {timeout} s: {counts}")


def wait_for_processing(arc: Archive, since: datetime, timeout: float) -> None:
    """Until some job was claimed after ``since`` and is still being processed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with arc.sessions() as session:
            claimed = session.scalar(
                select(func.count())
                .select_from(IngestJob)
                .where(IngestJob.status == IngestStatus.PROCESSING, IngestJob.updated_at >= since)
            )
        if claimed:
            return
        time.sleep(0.05)
    raise AssertionError(f"no job was claimed within {timeout} s")


def receive_documents(arc: Archive, count: int) -> list[uuid.UUID]:
    ids = []
    for number in range(count):
        text = f"第{number}号文件 会议纪要 document {number} " + "内容" * random.randint(1, 500)  # noqa: S311
        ids.append(
            receive(
                arc,
                io.BytesIO(text.encode()),
                filename=f"doc-{number}.txt",
                source_kind="bulk",
                actor=ACTOR,
                params={"project": f"可靠性{number % 7}"},
            )
        )
    return ids


@pytest.fixture
def scale_arc(
    tmp_path: Path, pg_url: str, s3_endpoint: str, redis_url: str
) -> Iterator[tuple[Archive, dict[str, str]]]:
    env = worker_env(tmp_path / "home", pg_url, s3_endpoint, redis_url)
    arc = Archive(load_settings(env))
    initialize(arc, ACTOR)
    yield arc, env
    arc.close()


def test_kill_9_workers_while_200_documents_ingest(
    scale_arc: tuple[Archive, dict[str, str]], tmp_path: Path
) -> None:
    arc, env = scale_arc
    job_ids = receive_documents(arc, 200)
    procs = Processes(env, tmp_path / "workers.log")
    kills = 0
    try:
        started = utcnow()
        procs.start_worker()
        enqueue_all(env, job_ids)
        rng = random.Random(7)  # noqa: S311
        while kills < 6:
            # Kill while a job is being processed, not while the worker is still booting.
            wait_for_processing(arc, since=started, timeout=60)
            time.sleep(rng.uniform(0.0, 0.5))
            procs.kill_worker()
            kills += 1
            time.sleep(rng.uniform(0.0, 1.0))
            started = utcnow()
            procs.start_worker()
        counts = wait_until_finished(arc, 200, timeout=240)
    finally:
        procs.stop()
    log = (tmp_path / "workers.log").read_text(errors="replace")
    assert counts == {IngestStatus.STORED: 200}, log[-3000:]
    with arc.sessions() as session:
        versions = session.scalars(select(Version)).all()
        jobs = session.scalars(select(IngestJob)).all()
    assert len(versions) == 200  # exactly once: no document twice, none lost
    assert {v.id for v in versions} == {j.version_id for j in jobs}
    assert {v.sha256 for v in versions} == {j.sha256 for j in jobs}
    assert max(j.attempts for j in jobs) >= 2, "no job was ever interrupted: kill earlier"
    report = sweep(arc)
    assert report.requeued == []
    with arc.sessions() as session:
        staged = session.scalar(
            select(func.count()).select_from(IngestJob).where(IngestJob.staging_key.is_not(None))
        )
    assert staged == 0
    work = arc.settings.home / "work"
    assert not work.exists() or list(work.iterdir()) == []
    # ...and each document is indexed exactly once.
    from search.indexer import check, flush_all, open_index

    flush_all(arc)
    assert open_index(arc).doc_count() == 200
    assert check(arc).ok


def test_jobs_wait_out_an_s3_outage_and_complete(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    port = free_port()
    server = start_moto(port)
    env = worker_env(tmp_path / "home", pg_url, f"http://127.0.0.1:{port}", redis_url)
    arc = Archive(load_settings(env))
    initialize(arc, ACTOR)
    job_ids = receive_documents(arc, 20)
    procs = Processes(env, tmp_path / "workers.log")
    try:
        server.stop()  # S3 goes away before any worker has fetched a staged file
        procs.start_worker()
        enqueue_all(env, job_ids)
        time.sleep(12)
        counts = statuses(arc)
        assert counts.get(IngestStatus.STORED, 0) == 0
        assert counts.get(IngestStatus.QUARANTINED, 0) == 0  # an outage is not the file's fault
        with arc.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Version)) == 0
            reasons = session.scalars(select(IngestJob.reason)).all()
        assert any(r and "retrying after" in r for r in reasons), reasons
        server = start_moto(port)  # same process, same in-memory buckets: S3 is back
        counts = wait_until_finished(arc, 20, timeout=180)
        assert counts == {IngestStatus.STORED: 20}
    finally:
        procs.stop()
        server.stop()
        arc.close()
