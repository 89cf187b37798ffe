"""The audit chain: appends, concurrent writers, and tampering done directly in SQL."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text

from archive.audit import Actor, record_event, verify_chain
from archive.core import Archive
from archive.models import AuditEvent
from tests.conftest import run_concurrently

ACTOR = Actor(name="auditor-test", user_id=None, ip="10.1.2.3")


def append(arc: Archive, count: int) -> None:
    for n in range(count):
        with arc.transaction() as session:
            record_event(
                session,
                ACTOR,
                "test.event",
                "record",
                n,
                {"n": n, "说明": "中文细节", "nested": {"b": [1, 2], "a": None}},
            )


def tamper(arc: Archive, sql: str, **params: object) -> None:
    """Change rows as a database administrator would: with the protective triggers off."""
    with arc.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        conn.execute(text(sql), params)


def verify(arc: Archive):  # type: ignore[no-untyped-def]
    with arc.sessions() as session:
        return verify_chain(session)


def seq_of(arc: Archive, nth: int) -> int:
    with arc.sessions() as session:
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    return seqs[nth]


def test_chain_is_intact_and_links(arc: Archive) -> None:
    append(arc, 5)
    report = verify(arc)
    assert report.ok, report.problem
    with arc.sessions() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert report.head_hash == events[-1].hash
    assert events[-1].ip == "10.1.2.3"
    assert events[-1].details["说明"] == "中文细节"


def test_database_refuses_edits_and_deletes(arc: Archive) -> None:
    append(arc, 1)
    for statement in (sa.update(AuditEvent).values(actor="mallory"), sa.delete(AuditEvent)):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), arc.transaction() as s:
            s.execute(statement)
    assert verify(arc).ok


def test_edited_row_is_named(arc: Archive) -> None:
    append(arc, 5)
    target = seq_of(arc, 3)
    tamper(arc, "UPDATE audit_events SET actor = 'mallory' WHERE seq = :s", s=target)
    report = verify(arc)
    assert not report.ok
    assert report.bad_seq == target
    assert f"event #{target}" in (report.problem or "")
    assert "altered" in (report.problem or "")


def test_deleted_row_is_named(arc: Archive) -> None:
    append(arc, 5)
    target = seq_of(arc, 2)
    tamper(arc, "DELETE FROM audit_events WHERE seq = :s", s=target)
    report = verify(arc)
    assert not report.ok
    assert report.bad_seq == target
    assert f"event #{target} is missing" in (report.problem or "")


def test_reordered_rows_are_named(arc: Archive) -> None:
    append(arc, 5)
    a, b = seq_of(arc, 2), seq_of(arc, 3)
    tamper(arc, "UPDATE audit_events SET seq = -1 WHERE seq = :a", a=a)
    tamper(arc, "UPDATE audit_events SET seq = :a WHERE seq = :b", a=a, b=b)
    tamper(arc, "UPDATE audit_events SET seq = :b WHERE seq = -1", b=b)
    report = verify(arc)
    assert not report.ok
    assert report.bad_seq == a


def test_rehashed_edit_still_breaks_the_next_link(arc: Archive) -> None:
    """Someone who even holds the chain key and re-hashes the edited row alone is caught by
    the next row's link."""
    from archive.audit import event_hash

    append(arc, 4)
    target = seq_of(arc, 1)
    with arc.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.seq == target)).one()
        session.expunge(event)
    event.actor = "mallory"
    tamper(
        arc,
        "UPDATE audit_events SET actor = 'mallory', hash = :h WHERE seq = :s",
        h=event_hash(event, arc.chain_key()),  # even with the key, the next link breaks
        s=target,
    )
    report = verify(arc)
    assert not report.ok
    assert report.bad_seq == target + 1
    assert "does not link" in (report.problem or "")


def test_concurrent_writers_keep_one_unbroken_chain(arc: Archive) -> None:
    start = verify(arc).count
    assert run_concurrently(lambda: append(arc, 15), 6) == []
    report = verify(arc)
    assert report.ok, report.problem
    assert report.count == start + 6 * 15
