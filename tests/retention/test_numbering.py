"""档号: a record is numbered once its class is settled and a schedule gives it a period;
items run without gaps in filing order within a series, also with concurrent numberers."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from archive.audit import Actor, verify_chain
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.models import AuditEvent, Record, Version
from archive.refcode import number_pending, parse_reference
from archive.signals import version_stored
from ingest.recheck import recheck_version
from ingest.review import reclassify
from retention.status import refresh_dirty, refresh_record
from tests.conftest import make_environ, run_concurrently
from tests.retention.conftest import MANAGER, file_record, load_default_plan


def _archive(home: Path, database: str = "sqlite") -> Archive:
    env = make_environ(home, database, "local")
    env["ARCHIVE_FONDS_CODE"] = "z109"
    archive = Archive(load_settings(env))
    initialize(archive, Actor.cli())
    load_default_plan(archive)
    return archive


@pytest.fixture
def numbered(tmp_path: Path) -> Iterator[Archive]:
    archive = _archive(tmp_path / "home")
    yield archive
    archive.close()


def _code(arc: Archive, record_id: uuid.UUID) -> str | None:
    with arc.sessions() as session:
        record = session.get(Record, record_id)
        assert record is not None
        return record.reference_code


def test_records_are_numbered_per_series_in_filing_order(numbered: Archive) -> None:
    kind = "approval_opinion"  # 文书, by item, D30
    first = file_record(numbered, record_type=kind, when=date(2023, 3, 15), project="甲")
    second = file_record(numbered, record_type=kind, when=date(2023, 11, 2), project="乙")
    sales = file_record(
        numbered, record_type=kind, when=date(2023, 4, 1), project="丙", department="XS"
    )
    minutes = file_record(numbered, record_type="minutes", when=date(2024, 1, 5), project="丁")
    codes = {record_id: _code(numbered, record_id) for record_id in (first, second, sales, minutes)}
    assert codes == {
        first: "Z109-WS·2023-D30-CG-0001",
        second: "Z109-WS·2023-D30-CG-0002",
        sales: "Z109-WS·2023-D30-XS-0001",
        minutes: "Z109-WS·2024-D10-CG-0001",
    }
    with numbered.sessions() as session:
        record = session.get(Record, second)
        assert record is not None
        assert (record.reference_series, record.reference_item) == ("Z109-WS·2023-D30-CG", 2)
        assert parse_reference(codes[second] or "").org == "CG"
        numbered_events = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "record.numbered")
        ).all()
        assert sorted(d["code"] for d in numbered_events) == sorted(filter(None, codes.values()))
        assert verify_chain(session).ok
    assert number_pending(numbered) == 0  # nothing left, nothing renumbered


def test_a_record_waiting_for_review_is_numbered_when_its_class_is_settled(
    numbered: Archive,
) -> None:
    with version_stored.muted():  # as if the listener had not run yet
        record_id = file_record(numbered, record_type="voucher", project="待审")
    with numbered.transaction() as session:
        session.execute(update(Record).where(Record.id == record_id).values(needs_review=True))
    refresh_dirty(numbered)
    assert _code(numbered, record_id) is None

    reclassify(numbered, MANAGER, record_id, record_type="contract", note="是合同")
    assert _code(numbered, record_id) == "Z109-WS·2023-D10-CG-0001"

    # Settled once: a later correction of class keeps the number where it was filed.
    reclassify(numbered, MANAGER, record_id, record_type="minutes", note="其实是纪要")
    assert _code(numbered, record_id) == "Z109-WS·2023-D10-CG-0001"
    later = file_record(numbered, record_type="minutes", project="会议")
    assert _code(numbered, later) == "Z109-WS·2023-D10-CG-0002"


def test_the_recheck_finds_a_code_out_of_its_series_and_a_gap(numbered: Archive) -> None:
    first = file_record(numbered, record_type="minutes", project="一")
    second = file_record(numbered, record_type="minutes", project="二")
    with numbered.sessions() as session:
        version = session.scalars(select(Version).where(Version.record_id == first)).one()
        checks = recheck_version(numbered, session, version).results
    assert checks["authenticity.reference_code"] == {
        "ok": True,
        "detail": "Z109-WS·2023-D10-CG-0001",
    }
    assert checks["integrity.item_numbers"]["ok"] is True

    with numbered.transaction() as session:  # somebody renumbers behind the archive's back
        session.execute(
            update(Record)
            .where(Record.id == second)
            .values(reference_item=3, reference_code="Z109-WS·2023-D10-CG-0003")
        )
        session.execute(
            update(Record)
            .where(Record.id == first)
            .values(reference_code="Z109-WS·2023-D10-CG-0009")
        )
    with numbered.sessions() as session:
        version = session.scalars(select(Version).where(Version.record_id == first)).one()
        checks = recheck_version(numbered, session, version).results
    assert checks["authenticity.reference_code"]["ok"] is False
    assert (
        "does not match series Z109-WS·2023-D10-CG item 1"
        in (checks["authenticity.reference_code"]["detail"])
    )
    assert checks["integrity.item_numbers"] == {
        "ok": False,
        "detail": "series Z109-WS·2023-D10-CG holds 2 items numbered up to 3: "
        "a number is missing or repeated",
    }


def test_concurrent_numbering_on_postgresql_takes_every_number_once(
    pg_url: str, tmp_path: Path
) -> None:
    arc = _archive(tmp_path / "home", pg_url)
    try:
        with version_stored.muted():  # a backlog: filed, not yet numbered
            records = [
                file_record(
                    arc,
                    record_type=("voucher", "minutes")[n % 2],
                    project=f"并发{n}",
                    department=("CG", "XS")[n % 3 == 0],
                )
                for n in range(24)
            ]
        assert all(_code(arc, record_id) is None for record_id in records)

        turns = itertools.count()

        def numberer() -> None:  # the minute refresh and the CLI beside filing listeners
            if next(turns) % 2:
                for record_id in reversed(records):
                    refresh_record(arc, record_id)
            else:
                refresh_dirty(arc)
                number_pending(arc)

        assert run_concurrently(numberer, 4) == []

        by_series: dict[str, list[int]] = defaultdict(list)
        with arc.sessions() as session:
            for record in session.scalars(select(Record).where(Record.id.in_(records))):
                assert record.reference_code is not None
                assert record.reference_series
                assert record.reference_item
                by_series[record.reference_series].append(record.reference_item)
            events = session.scalar(
                select(func.count()).where(AuditEvent.action == "record.numbered")
            )
            assert verify_chain(session).ok
        assert len(by_series) == 4
        assert all(sorted(items) == list(range(1, len(items) + 1)) for items in by_series.values())
        assert events == 24
    finally:
        arc.close()
