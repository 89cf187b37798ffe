"""A snippet is a read: search snippets showed document text to whoever may read it but left
no access-log line, so a reader could page through documents by searching, unlogged and
below the reads-per-hour alert."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, select

from access.alerts import alerts
from archive.accesslog import verify_access_log
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


def test_a_page_of_snippets_costs_the_same_statements_however_many_hits(world: World) -> None:
    """Where each hit's text is, and whether the caller may read it, are looked up for the
    whole page at once, and the log's head once: beyond its own log line (one INSERT), a
    snippet costs no statement, so twelve take no more than three."""
    for n in range(12):
        text = f"巡检记录 第{n}份 冷库"
        world.add_record(
            f"many-{n}", "CG", "internal", text.encode(), f"巡检{n}.txt", "text/plain", text
        )
    flush(world.arc)

    def statements_of(q: str) -> tuple[int, int, int]:
        counted: list[str] = []

        def count(*args: object) -> None:
            counted.append(str(args[2]))

        event.listen(world.arc.engine, "before_cursor_execute", count)
        try:
            found = search(world, "wang", q)
        finally:
            event.remove(world.arc.engine, "before_cursor_execute", count)
        lines = [sql for sql in counted if sql.startswith("INSERT INTO access_events")]
        shown = sum(1 for hit in found["hits"] if hit["snippet"])
        return shown, len(lines), len(counted) - len(lines)

    statements_of("巡检记录")  # warmed: caches, the searcher
    few = statements_of("正文")  # CG's three readable records
    many = statements_of("巡检记录")  # the twelve
    assert few[:2] == (3, 3)
    assert many[:2] == (12, 12)
    assert many[2] <= few[2]  # (three departments' records among the few: one more lookup)
    with world.arc.sessions() as session:
        assert verify_access_log(session).ok  # the lines chained one after another
