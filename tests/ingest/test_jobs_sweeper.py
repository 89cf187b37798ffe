"""The sweeper (:mod:`ingest.jobs.sweeper`): lost work requeued, the embedded broker tidied."""

from __future__ import annotations

import io
import uuid

from archive.core import Archive
from archive.models import IngestJob, IngestStatus
from ingest.jobs import claim, receive, sweep
from ingest.pipeline import process
from tests.ingest.conftest import ACTOR, job_of


def test_the_sweeper_requeues_lost_work_and_tidies(iarc: Archive) -> None:
    job_id = receive(iarc, io.BytesIO(b"x"), filename="a.txt", source_kind="cli", actor=ACTOR)
    assert claim(iarc, job_id) == 1  # ...and then the worker is killed
    from datetime import timedelta

    from archive.db import utcnow

    with iarc.transaction() as session:
        session.get(IngestJob, job_id).lease_until = utcnow() - timedelta(seconds=1)  # type: ignore[union-attr]
    report = sweep(iarc)
    assert report.requeued == [job_id]
    assert job_of(iarc, job_id).status == IngestStatus.QUEUED
    assert process(iarc, job_id) == IngestStatus.STORED
    assert job_of(iarc, job_id).attempts == 2


def test_the_sweeper_purges_old_delivered_messages_from_the_embedded_broker(
    iarc: Archive,
) -> None:
    import sqlite3

    from access.app import archive_of, create_app
    from ingest.tasks import enqueue

    env = {"ARCHIVE_HOME": str(iarc.settings.home)}
    app = create_app(env)
    try:
        assert enqueue(uuid.uuid4())
        assert enqueue(uuid.uuid4())
    finally:
        archive_of(app).close()
    broker = sqlite3.connect(iarc.settings.home / "broker.db")
    try:
        with broker:  # one delivered two days ago, one still waiting
            first = broker.execute("SELECT min(id) FROM kombu_message").fetchone()[0]
            broker.execute(
                "UPDATE kombu_message SET visible = 0, timestamp = datetime('now', '-2 days') "
                "WHERE id = ?",
                (first,),
            )
        assert sweep(iarc).messages_purged == 1
        left = broker.execute("SELECT count(*), min(visible) FROM kombu_message").fetchone()
        assert left == (1, 1)
    finally:
        broker.close()
