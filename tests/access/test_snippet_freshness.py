"""A snippet is decided like any read, on the record as the database has it now: the
index's copy of a record's sensitivity lags a change until the next flush."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from archive.models import AccessEvent, Record, Sensitivity
from search.indexer import flush
from tests.access.conftest import World


def snippets(world: World, who: str) -> dict[str, str | None]:
    response = world.call("GET", who, "/api/v1/search", query_string={"q": "正文"})
    assert response.status_code == 200
    return {hit["record_id"]: hit["snippet"] for hit in response.get_json()["hits"]}


def test_a_record_raised_above_the_readers_clearance_shows_no_snippet_before_the_flush(
    world: World,
) -> None:
    flush(world.arc)
    record_id = str(world.records["CG-internal"])
    assert snippets(world, "wang")[record_id]  # wang heads CG: reads its internal records
    with world.arc.transaction() as session:  # raised to restricted; the index not told yet
        session.execute(
            update(Record)
            .where(Record.id == uuid.UUID(record_id))
            .values(sensitivity=Sensitivity.RESTRICTED)
        )
    shown = snippets(world, "wang")
    assert shown.get(record_id) is None  # listed from the stale index, perhaps, but not read
    with world.arc.sessions() as session:
        lines = session.scalars(
            select(AccessEvent).where(
                AccessEvent.action == "snippet", AccessEvent.record_id == record_id
            )
        ).all()
    assert len(lines) == 1  # the first search's, not the second's
    assert lines[0].reason == "standing access"
