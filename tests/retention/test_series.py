"""档号 by 门类 and by volume: the file plan's category gives accounting classes their own KJ
series; a class filed by volume (vouchers bound by month) binds its records into volumes
with gapless 案卷号, each record numbered inside its volume; also with concurrent numberers."""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, update

from archive.audit import Actor, verify_chain
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.models import (
    FilingUnit,
    Record,
    RetentionSchedule,
    Version,
    Volume,
    VolumePeriod,
)
from archive.refcode import ReferenceCode, number_pending, parse_reference, series_gaps
from archive.signals import version_stored
from ingest.recheck import recheck_version
from retention.errors import RetentionError
from retention.schedules import (
    current_schedule,
    export_plan,
    load_plan,
    save_schedule,
    spec_from_dict,
)
from retention.status import refresh_dirty, refresh_record
from tests.conftest import make_environ, run_concurrently
from tests.retention.conftest import MANAGER, file_record, load_default_plan


def _archive(home: Path, database: str = "sqlite") -> Archive:
    env = make_environ(home, database, "local")
    env["ARCHIVE_FONDS_CODE"] = "Z109"
    archive = Archive(load_settings(env))
    initialize(archive, Actor.cli())
    load_default_plan(archive)
    return archive


@pytest.fixture
def numbered(tmp_path: Path) -> Iterator[Archive]:
    archive = _archive(tmp_path / "home")
    yield archive
    archive.close()


def _codes(arc: Archive, *record_ids: uuid.UUID) -> list[str | None]:
    with arc.sessions() as session:
        return [session.get_one(Record, rid).reference_code for rid in record_ids]


def _volumes(arc: Archive) -> list[tuple[str, str, int, date, date]]:
    with arc.sessions() as session:
        return [
            (v.code, v.period, v.items, v.start_on, v.end_on)
            for v in session.scalars(select(Volume).order_by(Volume.code))
        ]


def test_a_voucher_is_numbered_in_a_kj_series_beside_the_ws_documents(numbered: Archive) -> None:
    voucher = file_record(numbered, record_type="voucher", when=date(2023, 3, 15), project="甲")
    minutes = file_record(numbered, record_type="minutes", when=date(2023, 3, 20), project="乙")
    ledger = file_record(numbered, record_type="ledger", when=date(2023, 5, 2), project="丙")
    opinion = file_record(
        numbered, record_type="approval_opinion", when=date(2023, 6, 1), project="丁"
    )
    assert _codes(numbered, voucher, minutes, ledger, opinion) == [
        "Z109-KJ·2023-D30-CG-0001-0001",  # volume 0001 of the KJ series, its first item
        "Z109-WS·2023-D10-CG-0001",
        "Z109-KJ·2023-D30-CG-0002",  # a ledger, by item: the series' next entry
        "Z109-WS·2023-D30-CG-0001",  # same period and year as the voucher, another 门类
    ]
    assert parse_reference("Z109-KJ·2023-D30-CG-0001-0001") == ReferenceCode(
        "KJ", 2023, "D30", 1, fonds="Z109", org="CG", volume=1
    )
    with numbered.sessions() as session:
        assert series_gaps(session) == []
        assert current_schedule(session, "voucher").category == "KJ"
        assert current_schedule(session, "minutes").category is None  # the archive's WS


def test_a_volume_filed_class_binds_its_records_by_month(numbered: Archive) -> None:
    march = [
        file_record(numbered, record_type="voucher", when=date(2023, 3, d), project=f"三月{d}")
        for d in (3, 28)
    ]
    april = file_record(numbered, record_type="voucher", when=date(2023, 4, 9), project="四月")
    late = file_record(numbered, record_type="voucher", when=date(2023, 3, 31), project="补")
    sales = file_record(
        numbered, record_type="voucher", when=date(2023, 3, 5), project="销", department="XS"
    )
    assert _codes(numbered, *march, april, late, sales) == [
        "Z109-KJ·2023-D30-CG-0001-0001",
        "Z109-KJ·2023-D30-CG-0001-0002",
        "Z109-KJ·2023-D30-CG-0002-0001",
        "Z109-KJ·2023-D30-CG-0001-0003",  # filed late, still in March's volume
        "Z109-KJ·2023-D30-XS-0001-0001",
    ]
    assert _volumes(numbered) == [
        ("Z109-KJ·2023-D30-CG-0001", "2023-03", 3, date(2023, 3, 3), date(2023, 3, 31)),
        ("Z109-KJ·2023-D30-CG-0002", "2023-04", 1, date(2023, 4, 9), date(2023, 4, 9)),
        ("Z109-KJ·2023-D30-XS-0001", "2023-03", 1, date(2023, 3, 5), date(2023, 3, 5)),
    ]
    with numbered.sessions() as session:
        volume = session.scalars(select(Volume).order_by(Volume.id)).first()
        assert volume is not None
        assert (volume.series, volume.number, volume.schedule_key) == (
            "Z109-KJ·2023-D30-CG",
            1,
            "voucher",
        )
        assert volume.title == "会计凭证 2023-03"
        record = session.get_one(Record, late)
        assert (record.reference_series, record.reference_item) == (volume.code, 3)
        assert series_gaps(session) == []
        assert verify_chain(session).ok

    # Bound by year instead: a new version of the schedule, later records in a year volume.
    with numbered.transaction() as session:
        (voucher,) = [s for s in export_plan(session)["schedules"] if s["key"] == "voucher"]
        save_schedule(session, MANAGER, spec_from_dict({**voucher, "volume_by": "year"}))
    refresh_dirty(numbered)
    yearly = file_record(numbered, record_type="voucher", when=date(2023, 7, 1), project="七月")
    assert _codes(numbered, yearly) == ["Z109-KJ·2023-D30-CG-0003-0001"]
    with numbered.sessions() as session:
        assert session.scalars(select(Volume.period).where(Volume.number == 3)).one() == "2023"


def test_a_volume_number_is_never_the_number_of_an_item(numbered: Archive) -> None:
    """Ledgers (by item) and vouchers (by volume) share the KJ D30 series: one sequence."""
    kinds = ["ledger", "voucher", "ledger", "voucher", "voucher"]
    months = [1, 1, 2, 2, 1]
    ids = [
        file_record(numbered, record_type=k, when=date(2023, m, 10), project=f"账{n}")
        for n, (k, m) in enumerate(zip(kinds, months, strict=True))
    ]
    assert _codes(numbered, *ids) == [
        "Z109-KJ·2023-D30-CG-0001",
        "Z109-KJ·2023-D30-CG-0002-0001",
        "Z109-KJ·2023-D30-CG-0003",
        "Z109-KJ·2023-D30-CG-0004-0001",
        "Z109-KJ·2023-D30-CG-0002-0002",
    ]
    with numbered.sessions() as session:
        assert series_gaps(session) == []
    with numbered.transaction() as session:  # a volume lost behind the archive's back
        session.execute(update(Volume).where(Volume.number == 4).values(number=7))
    with numbered.sessions() as session:
        (gap,) = series_gaps(session)
        assert (gap.series, gap.count, gap.highest) == ("Z109-KJ·2023-D30-CG", 4, 7)
        # The audit sample's recheck of a voucher in volume 0002 sees its series' gap.
        version = session.scalars(select(Version).where(Version.record_id == ids[1])).one()
        checks = recheck_version(numbered, session, version).results
    assert checks["authenticity.reference_code"]["ok"] is True
    assert checks["integrity.item_numbers"] == {
        "ok": False,
        "detail": "series Z109-KJ·2023-D30-CG holds 4 items numbered up to 7: "
        "a number is missing or repeated",
    }


def test_the_schedules_category_and_filing_round_trip_through_the_plan(
    numbered: Archive, tmp_path: Path
) -> None:
    with numbered.sessions() as session:
        plan = export_plan(session)
    by_key = {s["key"]: s for s in plan["schedules"]}
    assert {k: by_key[k]["category"] for k in ("voucher", "ledger", "general")} == {
        "voucher": "KJ",
        "ledger": "KJ",
        "general": None,
    }
    assert (by_key["voucher"]["filing"], by_key["voucher"]["volume_by"]) == ("volume", "month")
    assert (by_key["ledger"]["filing"], by_key["ledger"]["volume_by"]) == ("item", None)

    by_key["minutes"]["category"] = "hy"  # letters, upper-cased like the other codes
    other = Archive(load_settings(make_environ(tmp_path / "other", "sqlite", "local")))
    try:
        initialize(other, Actor.cli())
        with other.transaction() as session:
            report = load_plan(session, MANAGER, plan)
            assert report.created == len(plan["schedules"])
        with other.sessions() as session:
            again = {s["key"]: s for s in export_plan(session)["schedules"]}
            row = current_schedule(session, "voucher")
            assert (row.category, row.filing, row.volume_by) == (
                "KJ",
                FilingUnit.VOLUME,
                VolumePeriod.MONTH,
            )
        assert again["minutes"]["category"] == "HY"
        assert {k: v for k, v in again.items() if k != "minutes"} == {
            k: v for k, v in by_key.items() if k != "minutes"
        }
        with other.transaction() as session:  # loading it again changes nothing
            assert load_plan(session, MANAGER, export_plan(session)).unchanged == len(again)
    finally:
        other.close()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"category": "K1"}, "门类 code 'K1' must be 1-4 capital letters"),
        ({"category": "WENSHU"}, "must be 1-4 capital letters"),
        ({"filing": "box"}, "filing: item or volume"),
        ({"filing": "volume", "volume_by": "week"}, "volume_by: month or year"),
        ({"volume_by": "month"}, "files by item but names a volume period"),
    ],
)
def test_a_bad_category_or_filing_unit_is_refused(fields: dict[str, str], message: str) -> None:
    with pytest.raises(RetentionError, match=message):
        spec_from_dict({"key": "voucher", "name": "凭证", "years": 30, **fields})


def test_volume_filing_defaults_to_month() -> None:
    spec = spec_from_dict({"key": "v", "name": "凭证", "years": 30, "filing": "volume"})
    assert (spec.filing, spec.volume_by) == (FilingUnit.VOLUME, VolumePeriod.MONTH)


def test_concurrent_numbering_of_volumes_on_postgresql_stays_gapless(
    pg_url: str, tmp_path: Path
) -> None:
    arc = _archive(tmp_path / "home", pg_url)
    try:
        with version_stored.muted():  # a backlog: filed, not yet numbered
            records = [
                file_record(
                    arc,
                    record_type=("voucher", "voucher", "ledger")[n % 3],
                    when=date(2023, 1 + n % 4, 1 + n % 27),
                    project=f"并发{n}",
                    department=("CG", "XS")[n % 5 == 0],
                )
                for n in range(30)
            ]
        assert all(code is None for code in _codes(arc, *records))
        turns = itertools.count()

        def numberer() -> None:
            if next(turns) % 2:
                for record_id in reversed(records):
                    refresh_record(arc, record_id)
            else:
                refresh_dirty(arc)
                number_pending(arc)

        assert run_concurrently(numberer, 4) == []

        entries: dict[str, list[int]] = defaultdict(list)
        with arc.sessions() as session:
            rows = session.scalars(select(Record).where(Record.id.in_(records))).all()
            assert all(r.reference_code for r in rows)
            for record in rows:
                assert record.reference_series
                assert record.reference_item
                entries[record.reference_series].append(record.reference_item)
            volumes = session.scalars(select(Volume)).all()
            for volume in volumes:
                entries[volume.series].append(volume.number)
                assert volume.items == len([r for r in rows if r.reference_series == volume.code])
            assert series_gaps(session) == []
            assert verify_chain(session).ok
            kinds = {r.id: session.get_one(RetentionSchedule, r.schedule_id).key for r in rows}
        for items in entries.values():
            assert sorted(items) == list(range(1, len(items) + 1))
        # every voucher sits in the volume of its department and month, and nothing else does
        by_volume = {v.code: (v.series, v.period) for v in volumes}
        for record in rows:
            if kinds[record.id] == "voucher":
                series, period = by_volume[record.reference_series or ""]
                assert period == record.name_date[:7]
                assert (record.reference_code or "").startswith(series)
            else:
                assert record.reference_series not in by_volume
        assert len(volumes) == len({(v.series, v.period) for v in volumes})
    finally:
        arc.close()
