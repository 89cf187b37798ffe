"""The fixity sweep: a rolling sample, every result kept, failures named."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from archive.content import RenditionSource
from archive.core import Archive
from archive.fixity import sweep_fixity, verify_fixity
from archive.models import DataKey, FixityCheck, RenditionRole, Version
from ingest.recheck import recheck_version
from tests.archive.test_content import ACTOR, put, raw_blob, replace_blob


def test_the_sweep_rolls_through_every_version_oldest_checked_first(sqlite_arc: Archive) -> None:
    arc = sqlite_arc
    ids = [put(arc, f"文件 {n}".encode() * 20) for n in range(5)]
    first = sweep_fixity(arc, ACTOR, 2)
    second = sweep_fixity(arc, ACTOR, 2)
    third = sweep_fixity(arc, ACTOR, 2)
    assert (first.checked, second.checked, third.checked) == (2, 2, 2)
    with arc.sessions() as session:
        runs = {
            run: set(session.scalars(select(FixityCheck.version_id).where(FixityCheck.run == run)))
            for run in (first.run, second.run, third.run)
        }
    never_checked = set(ids) - runs[first.run] - runs[second.run]
    assert len(never_checked) == 1  # the first two runs took four different versions
    assert never_checked < runs[third.run]  # the last unchecked one comes next...
    assert runs[third.run] - never_checked <= runs[first.run]  # ...then the oldest checked


def test_a_damaged_version_is_recorded_and_named(sqlite_arc: Archive) -> None:
    arc = sqlite_arc
    good, bad = put(arc, b"good" * 50), put(arc, b"bad" * 50)
    replace_blob(arc, bad, raw_blob(arc, bad)[:-3])
    report = verify_fixity(arc, ACTOR)
    assert [p.version_id for p in report.problems] == [bad]
    with arc.sessions() as session:
        rows = {row.version_id: row for row in session.scalars(select(FixityCheck))}
    assert rows[good].ok
    assert not rows[bad].ok
    assert rows[bad].detail
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), arc.transaction() as s:
        s.execute(sa.update(FixityCheck).values(ok=True))


def test_a_damaged_rendition_fails_the_check_too(sqlite_arc: Archive) -> None:
    """A byte flipped in a version's text rendition (what search and the reader use) passed:
    only originals were read. Each rendition is now read to its end: its segments' own
    authentication is the proof, and the failure names the rendition."""
    arc = sqlite_arc
    text = "会计凭证 2016年12月 ".encode() * 200
    damaged = put(arc, text, renditions=[RenditionSource(RenditionRole.TEXT, "text/plain",
                                                          io.BytesIO(text))])  # fmt: skip
    with arc.sessions() as session:
        key = session.scalars(
            select(DataKey.object_key).where(
                DataKey.version_id == damaged, DataKey.role == RenditionRole.TEXT
            )
        ).one()
    with arc.blobs.open(key) as blob:
        raw = bytearray(blob.read())
    raw[len(raw) // 2] ^= 1
    arc.blobs.put(key, [bytes(raw)])
    report = verify_fixity(arc, ACTOR)
    assert [p.version_id for p in report.problems] == [damaged]
    assert report.problems[0].reason.startswith("rendition text")
    with arc.sessions() as session:  # the quarterly sample's 四性 recheck says so too
        checks = recheck_version(arc, session, session.get_one(Version, damaged)).as_dict()
    assert checks["usability.rendition"]["ok"] is False
    assert "rendition text" in checks["usability.rendition"]["detail"]
    assert checks["authenticity.digest"]["ok"] is True  # the original itself is intact
