"""Tamper evidence that survives a database writer: keyed chains and signed checkpoints.

The attacker here can run any SQL (triggers off) but holds neither the keyring nor the
checkpoint file's past lines: they edit rows and re-hash every link after them, delete the
newest rows, or move a chain's anchor so the whole chain counts as unkeyed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from access.cli import main
from archive.accesslog import Client, access_payload, log_access
from archive.audit import GENESIS, Actor, canonical_payload, link_hash, record_event
from archive.checkpoints import read_checkpoints, verify_all, write_checkpoint
from archive.core import Archive
from archive.db import drop_append_only_ddl
from archive.models import AccessEvent, AuditEvent, ChainAnchor

ACTOR = Actor(name="checkpoint-test", ip="10.0.0.7")
Model = type[AuditEvent] | type[AccessEvent]
PAYLOADS: dict[str, Callable[[Any], bytes]] = {
    "audit_events": canonical_payload,
    "access_events": access_payload,
}


def append(arc: Archive, count: int) -> None:
    for n in range(count):
        with arc.transaction() as session:
            record_event(session, ACTOR, "test.event", "record", n, {"说明": "中文", "n": n})
            log_access(session, None, Client("10.0.0.7"), "read", "refused", reason=f"r{n}")


def as_database_writer(arc: Archive, work: Callable[[Session], None]) -> None:
    """Run ``work`` with the append-only triggers dropped, as a DBA could."""
    with arc.transaction() as session:
        dialect = session.get_bind().dialect.name
        for table in ("audit_events", "access_events"):
            for statement in drop_append_only_ddl(dialect, table):
                session.execute(text(statement))
        work(session)


def rechain(session: Session, model: Model, key: bytes | None, from_seq: int = 1) -> None:
    """Recompute every link from ``from_seq`` on: what a writer does to hide an edit."""
    payload = PAYLOADS[model.__tablename__]
    rows = list(session.scalars(select(model).order_by(model.seq)))
    prev = GENESIS
    for row in rows:
        if row.seq >= from_seq:
            row.prev_hash = prev
            row.hash = f"pending-{row.seq}"  # unique while the rows are rewritten
    session.flush()
    for row in rows:
        if row.seq >= from_seq:
            row.prev_hash = prev
            row.hash = link_hash(payload(row), key)
            session.flush()
        prev = row.hash


def pass_off_as_unkeyed(session: Session) -> None:
    """Edit a row, re-hash the whole audit chain the old (unkeyed) way and move its anchor to
    the head, claiming every row predates the keying."""
    session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor="nobody"))
    rechain(session, AuditEvent, None)
    head = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert head is not None
    session.execute(
        update(ChainAnchor)
        .where(ChainAnchor.chain == "audit_events")
        .values(seq=head.seq, hash=head.hash)
    )


def verify(arc: Archive) -> Any:
    with arc.sessions() as session:
        return verify_all(session, arc.keyring, arc.settings.checkpoint_path)


def checkpoint(arc: Archive) -> str | None:
    with arc.sessions() as session:
        return write_checkpoint(session, arc.keyring, arc.settings.checkpoint_path)


def test_an_intact_archive_verifies_against_its_checkpoints(sqlite_arc: Archive) -> None:
    append(sqlite_arc, 3)
    assert checkpoint(sqlite_arc) is not None
    assert checkpoint(sqlite_arc) is None  # heads did not move: no new line
    append(sqlite_arc, 1)
    report = verify(sqlite_arc)
    assert report.ok, report.problems()
    assert report.checkpoints.count == 2  # init's, and the one after the first appends
    assert report.chains["access_events"].count == 4
    assert all(r.keyed and r.anchor_seq == 0 for r in report.chains.values())


def test_rows_are_linked_by_an_hmac_not_a_plain_hash(sqlite_arc: Archive) -> None:
    append(sqlite_arc, 1)
    with sqlite_arc.sessions() as session:
        row = session.scalars(select(AccessEvent).order_by(AccessEvent.seq.desc())).first()
        assert row is not None
        assert row.hash != link_hash(access_payload(row), None)
        assert row.hash == link_hash(access_payload(row), sqlite_arc.chain_key())


def test_an_edited_access_line_rehashed_without_the_key_is_caught(arc: Archive) -> None:
    """The attack that passed before: edit a line, recompute every hash after it."""
    append(arc, 4)

    def edit(session: Session) -> None:
        session.execute(update(AccessEvent).where(AccessEvent.seq == 2).values(outcome="allowed"))
        rechain(session, AccessEvent, None, from_seq=2)

    as_database_writer(arc, edit)
    report = verify(arc)
    assert not report.ok
    access = report.chains["access_events"]
    assert access.bad_seq == 2
    assert "altered" in (access.problem or "")
    result = CliRunner().invoke(main, ["audit", "verify"], env=_env(arc))
    assert result.exit_code == 1
    assert "access log BROKEN" in result.output


def test_moving_the_anchor_to_pass_as_unkeyed_is_caught(sqlite_arc: Archive) -> None:
    """Re-hash the whole chain the old way and claim every row predates the keying."""
    append(sqlite_arc, 3)
    checkpoint(sqlite_arc)

    as_database_writer(sqlite_arc, pass_off_as_unkeyed)
    report = verify(sqlite_arc)
    assert not report.ok
    problems = " | ".join(report.problems())
    assert "anchor in the database (#" in problems
    assert "is not the one the keyring recorded (#0): it was moved" in problems
    assert "event #1" in problems  # walked from the keyring's anchor: the forgery shows


def test_a_forged_history_is_not_signed_anew_when_the_checkpoints_are_deleted(
    sqlite_arc: Archive,
) -> None:
    """The whole chain re-hashed the old way, the anchor moved to its head, the checkpoint
    file deleted, then ``archive init`` (run by every start): nothing signs the forgery."""
    from archive.bootstrap import initialize

    append(sqlite_arc, 3)

    as_database_writer(sqlite_arc, pass_off_as_unkeyed)
    sqlite_arc.settings.checkpoint_path.unlink()
    initialize(sqlite_arc, ACTOR)
    assert not sqlite_arc.settings.checkpoint_path.exists()  # refused, not signed
    report = verify(sqlite_arc)
    assert not report.ok
    assert "keyring recorded (#0)" in " ".join(report.problems())
    with sqlite_arc.sessions() as session:
        refused = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "audit.checkpoints_refused")
        ).one()
    assert "altered" in refused.details["problems"][0]


def test_a_time_rewritten_in_another_form_is_named(sqlite_arc: Archive) -> None:
    """On SQLite a time is text: the same instant in another form keeps the hash but escapes
    date filters (an incident export since a day would miss the row)."""
    append(sqlite_arc, 2)

    def shift(session: Session) -> None:
        stored = session.execute(text("SELECT at FROM access_events WHERE seq = 1")).scalar_one()
        moved = datetime.fromisoformat(stored) - timedelta(hours=12)
        session.execute(
            text("UPDATE access_events SET at = :at WHERE seq = 1"),
            {"at": f"{moved:%Y-%m-%d %H:%M:%S.%f}-12:00"},
        )

    as_database_writer(sqlite_arc, shift)
    report = verify(sqlite_arc)
    assert report.chains["access_events"].ok  # the same instant: the hash still fits
    assert "its time stored in another form" in " ".join(report.problems())


def test_deleting_the_newest_rows_is_caught_by_a_checkpoint(arc: Archive) -> None:
    append(arc, 4)
    checkpoint(arc)

    def truncate(session: Session) -> None:
        newest = session.scalar(select(AccessEvent.seq).order_by(AccessEvent.seq.desc()))
        session.execute(delete(AccessEvent).where(AccessEvent.seq >= (newest or 0) - 1))

    as_database_writer(arc, truncate)
    report = verify(arc)
    assert not report.ok
    assert "newer events were deleted" in (report.chains["access_events"].problem or "")


def test_an_edited_or_removed_checkpoint_line_is_caught(sqlite_arc: Archive) -> None:
    path = sqlite_arc.settings.checkpoint_path
    for _ in range(3):
        append(sqlite_arc, 1)
        checkpoint(sqlite_arc)
    lines = path.read_text().splitlines()
    assert len(lines) == 4

    forged = json.loads(lines[-1])
    forged["chains"]["audit_events"]["seq"] -= 1  # pretend the chain was shorter
    path.write_text("\n".join([*lines[:-1], json.dumps(forged)]) + "\n")
    assert "not signed by this archive" in " ".join(verify(sqlite_arc).problems())

    path.write_text("\n".join([lines[0], *lines[2:]]) + "\n")
    assert "checkpoints were removed" in " ".join(verify(sqlite_arc).problems())

    path.unlink()
    assert "no checkpoint file" in " ".join(verify(sqlite_arc).problems())


def test_checkpoints_are_signed_by_the_keyring_not_a_key_anyone_holds(
    sqlite_arc: Archive, tmp_path: Path
) -> None:
    """A checkpoint file written with another keyring does not verify here."""
    from archive.crypto import Keyring

    other = Keyring.create(tmp_path / "other-keyring.json")
    with sqlite_arc.sessions() as session:
        write_checkpoint(session, other, tmp_path / "forged.jsonl", force=True)
    report = read_checkpoints(tmp_path / "forged.jsonl", sqlite_arc.keyring)
    assert "not signed" in " ".join(report.problems)


def test_the_beat_task_and_the_cli_write_checkpoints(sqlite_arc: Archive) -> None:
    append(sqlite_arc, 2)
    env = _env(sqlite_arc)
    first = CliRunner().invoke(main, ["audit", "checkpoint"], env=env)
    assert first.exit_code == 0, first.output
    assert "checkpoint 2 signed" in first.output
    again = CliRunner().invoke(main, ["audit", "checkpoint"], env=env)
    assert "unchanged" in again.output
    verified = CliRunner().invoke(main, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
    assert "2 signed checkpoints" in verified.output


def _env(arc: Archive) -> dict[str, str]:
    env = {"ARCHIVE_HOME": str(arc.settings.home)}
    if not arc.settings.is_sqlite:
        env["ARCHIVE_DATABASE_URL"] = arc.settings.database_url
    if not arc.settings.storage_url.startswith("file:"):
        env["ARCHIVE_STORAGE_URL"] = arc.settings.storage_url
        env["ARCHIVE_S3_ENDPOINT_URL"] = arc.settings.s3_endpoint_url or ""
    return env


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_chains_from_before_keying_are_anchored_by_the_migration(
    request: pytest.FixtureRequest, tmp_path: Path, database: str
) -> None:
    """Rows hashed the old way stay valid up to the anchor 0011 records; new rows are keyed,
    and the first checkpoint signs that anchor."""
    from archive.bootstrap import initialize
    from archive.config import load_settings
    from archive.migrate import upgrade
    from tests.conftest import make_environ

    url = request.getfixturevalue("pg_url") if database == "postgresql" else "sqlite"
    (tmp_path / "home").mkdir()
    arc = Archive(load_settings(make_environ(tmp_path / "home", url, "local")))
    try:
        upgrade(arc.engine, "0010")
        with arc.engine.begin() as connection:  # three rows as the old code wrote them
            prev = GENESIS
            for seq in (1, 2, 3):
                fields: dict[str, Any] = {
                    "seq": seq, "at": _at(seq), "actor_id": None, "actor": "old", "ip": None,
                    "action": "old.event", "object_type": "x", "object_id": str(seq),
                    "details": {}, "prev_hash": prev,
                }  # fmt: skip
                digest = link_hash(canonical_payload(AuditEvent(**fields)), None)
                connection.execute(AuditEvent.__table__.insert().values(**fields, hash=digest))
                prev = digest
        initialize(arc, ACTOR)  # 0011 anchors the old head; init signs the first checkpoint
        with arc.sessions() as session:
            anchor = session.get(ChainAnchor, "audit_events")
            assert anchor is not None
            assert (anchor.seq, anchor.hash) == (3, prev)
        append(arc, 1)
        report = verify(arc)
        assert report.ok, report.problems()
        assert report.chains["audit_events"].anchor_seq == 3
        first = json.loads(arc.settings.checkpoint_path.read_text().splitlines()[0])
        assert first["chains"]["audit_events"]["anchor_seq"] == 3
    finally:
        arc.close()


def _at(seq: int) -> Any:
    from datetime import UTC, datetime

    return datetime(2025, 1, seq, 8, 0, tzinfo=UTC)
