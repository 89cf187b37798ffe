"""The fixity sweep: a rolling sample, every result kept, failures named."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from archive.core import Archive
from archive.fixity import sweep_fixity, verify_fixity
from archive.models import FixityCheck
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
