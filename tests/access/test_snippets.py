"""A snippet is a read: search snippets showed document text to whoever may read it but left
no access-log line, so a reader could page through documents by searching, unlogged and
below the reads-per-hour alert."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from access.alerts import alerts
from archive.models import AccessEvent
from search.indexer import flush
from tests.access.conftest import World, make_world


def search(world: World, who: str, q: str) -> dict:  # type: ignore[type-arg]
    response = world.call("GET", who, "/api/v1/search", query_string={"q": q})
    assert response.status_code == 200
    return response.json  # type: ignore[return-value]


def snippet_lines(world: World, who: str) -> list[AccessEvent]:
    with world.arc.sessions() as session:
        return list(
            session.scalars(
                select(AccessEvent).where(
                    AccessEvent.action == "snippet", AccessEvent.username == who
                )
            )
        )


def test_every_snippet_shown_is_an_access_log_line(world: World) -> None:
    flush(world.arc)
    found = search(world, "wang", "正文")  # wang heads CG: reads CG's records up to confidential
    shown = {hit["record_id"] for hit in found["hits"] if hit["snippet"]}
    readable = ("public", "internal", "confidential")
    assert shown == {str(world.records[f"CG-{level}"]) for level in readable}
    lines = snippet_lines(world, "wang")
    assert {line.record_id for line in lines} == shown  # one per record shown, none other
    assert all(line.outcome == "allowed" and line.ip for line in lines)
    assert {line.reason for line in lines} == {"standing access"}
    # A search showing no snippet (a specialist knows of records, reads none) logs none.
    assert all(hit["snippet"] is None for hit in search(world, "zhang", "正文")["hits"])
    assert snippet_lines(world, "zhang") == []
    # Each response is its own read.
    search(world, "wang", "正文")
    assert len(snippet_lines(world, "wang")) == 2 * len(shown)


def test_paging_through_documents_by_search_raises_the_reads_alert(tmp_path: Path) -> None:
    world = make_world(tmp_path, ARCHIVE_ALERT_READS_PER_HOUR="2")
    try:
        flush(world.arc)
        search(world, "wang", "正文")
        with world.arc.sessions() as session:
            raised = alerts(session, world.arc.settings.access)
        assert [(a.kind, a.username) for a in raised if a.kind == "many_reads"] == [
            ("many_reads", "wang")
        ]
    finally:
        world.arc.close()
