"""Objects no row refers to (a worker killed between its upload and its commit) are found
and removed after a grace period; everything a row names stays, and the run is audited."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from access.cli import main
from archive.audit import Actor
from archive.core import Archive
from archive.models import AuditEvent
from archive.orphans import collect_orphans
from tests.archive.test_content import put, read

KILLED_MID_STORE = textwrap.dedent(
    """
    import io, os
    from archive.config import load_settings
    from archive.content import NewRecord, store
    from archive.audit import Actor
    from archive.core import Archive

    arc = Archive(load_settings())
    store(
        arc, io.BytesIO("被中断的上传".encode() * 1000), actor=Actor.cli(),
        original_filename="中断.txt", media_type="text/plain",
        new_record=NewRecord(project="XX项目", title="中断", when="2023-01"),
        in_transaction=lambda session, version: os._exit(9),  # killed before the commit
    )
    """
)


def kill_a_worker_mid_store(arc: Archive) -> None:
    env = {**os.environ, "ARCHIVE_HOME": str(arc.settings.home)}
    if not arc.settings.is_sqlite:
        env["ARCHIVE_DATABASE_URL"] = arc.settings.database_url
    if arc.settings.storage_url.startswith("s3:"):
        env["ARCHIVE_STORAGE_URL"] = arc.settings.storage_url
        env["ARCHIVE_S3_ENDPOINT_URL"] = arc.settings.s3_endpoint_url or ""
    done = subprocess.run([sys.executable, "-c", KILLED_MID_STORE], env=env, check=False)
    assert done.returncode == 9


def test_an_upload_whose_commit_died_is_collected_after_the_grace(arc: Archive) -> None:
    kept = put(arc, "归档的正文".encode())
    before = {blob.key for blob in arc.blobs.listing()}
    kill_a_worker_mid_store(arc)
    orphans = {blob.key for blob in arc.blobs.listing()} - before
    assert len(orphans) == 1  # the ciphertext went up; its row never came

    young = collect_orphans(arc, Actor.cli(), timedelta(hours=1))
    assert (young.removed, young.young) == ([], 1)  # maybe a commit still in flight
    listed = collect_orphans(arc, Actor.cli(), timedelta(0), dry_run=True)
    assert set(listed.removed) == orphans
    assert orphans <= {blob.key for blob in arc.blobs.listing()}  # a dry run removes nothing

    report = collect_orphans(arc, Actor.cli(), timedelta(0))
    assert set(report.removed) == orphans
    assert report.removed_bytes > 6000
    assert {blob.key for blob in arc.blobs.listing()} == before
    assert read(arc, kept) == "归档的正文".encode()  # what a row names stays
    with arc.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "blobs.orphans_removed")
        ).one()
    assert event.details["keys"] == sorted(orphans)
    assert event.details["count"] == 1
    assert collect_orphans(arc, Actor.cli(), timedelta(0)).removed == []


def test_the_cli_reports_what_it_would_remove(sqlite_arc: Archive) -> None:
    put(sqlite_arc, b"kept")
    kill_a_worker_mid_store(sqlite_arc)
    two_hours_ago = time.time() - 2 * 3600
    for blob in (sqlite_arc.settings.home / "blobs").glob("??/??/*"):
        os.utime(blob, (two_hours_ago, two_hours_ago))
    env = {"ARCHIVE_HOME": str(sqlite_arc.settings.home)}
    dry = CliRunner().invoke(main, ["blobs", "collect", "--grace-hours", "1", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would remove" in dry.output
    assert "2 objects listed, 1 unreferenced" in dry.output
    assert (
        "--grace-hours"
        in CliRunner().invoke(main, ["blobs", "collect", "--grace-hours", "0"], env=env).output
    )  # at least an hour: a store in progress is never taken for an orphan
    default = CliRunner().invoke(main, ["blobs", "collect"], env=env)
    assert "0 unreferenced" in default.output
    assert "1 unreferenced but younger than 24 h kept" in default.output
