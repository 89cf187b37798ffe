"""Search filters on what a records manager means: 文件日期 (the document's own date, the one
retention counts from) for from/to and the date sort, and the 保管期限 of the record's
schedule for ``retention_code``; not when the file happened to be uploaded."""

from __future__ import annotations

from datetime import date

from archive.audit import Actor
from archive.models import Record, RecordChange
from retention.schedules import seed_default_plan
from retention.status import refresh_dirty
from search.indexer import flush_all
from tests.access.conftest import World


def titles(world: World, query: str) -> set[str]:
    found = world.call("GET", "wang", f"/api/v1/search?{query}").json
    return {hit["title"] for hit in found["hits"]}  # type: ignore[index]


def test_dates_and_periods_filter_by_the_record_not_by_the_upload(world: World) -> None:
    old = world.records["CG-internal"]
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
        record = session.get_one(Record, old)
        record.filed_on, record.filed_day_known = date(2014, 6, 30), False  # "2014-06"
        record.record_type, record.retention_dirty = "voucher", True
        session.add(RecordChange(record_id=old))
    refresh_dirty(world.arc)
    flush_all(world.arc)
    with world.arc.sessions() as session:
        title = session.get_one(Record, old).title
    assert titles(world, "from=2014-01-01&to=2014-12-31") == {title}
    assert title not in titles(world, "from=2026-01-01")
    hits = world.call("GET", "wang", "/api/v1/search?sort=date").json["hits"]  # type: ignore[index]
    assert hits[-1]["title"] == title  # the oldest document last
    assert (hits[-1]["dated"], hits[-1]["filed"]) == ("2014-06", "2014-06-30")
    assert titles(world, "retention_code=D30") == {title}  # a voucher: 30 years
    facets = world.call("GET", "wang", "/api/v1/search").json["facets"]  # type: ignore[index]
    assert facets["retention_code"].get("D30") == 1
