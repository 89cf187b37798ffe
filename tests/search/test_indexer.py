"""The index writer against the database: outbox, destruction, rebuild and check."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update

from archive.audit import Actor
from archive.core import Archive
from archive.crypto.keyring import INDEX_PURPOSE
from archive.keys import destroy_version_content
from archive.models import Record, RecordChange
from search.analysis import fingerprint
from search.index import Visibility
from search.indexer import check, flush, merge_deletions, open_index, rebuild
from tests.ingest import samples
from tests.ingest.conftest import run_ingest

EVERYTHING = Visibility(everything=True)


def found(arc: Archive, text: str) -> set[str]:
    return {hit.title for hit in open_index(arc).search(text, EVERYTHING).hits}


def pending(arc: Archive) -> int:
    with arc.sessions() as session:
        return session.scalar(select(func.count()).select_from(RecordChange)) or 0


def test_stored_versions_become_searchable_through_the_outbox(any_arc: Archive) -> None:
    run_ingest(any_arc, samples.pdf(["華東倉儲改造項目 驗收報告"]), "验收.pdf", project="华东")
    run_ingest(any_arc, "采购合同 甲方 乙方".encode("gb18030"), "合同.txt", project="华东")
    assert pending(any_arc) == 2
    report = flush(any_arc)
    assert (report.indexed, report.pending) == (2, 0)
    assert found(any_arc, "验收报告") == {"验收"}
    assert found(any_arc, "採購合同") == {"合同"}  # GB18030 text, found from traditional
    assert flush(any_arc).indexed == 0  # nothing left: each document indexed once


def test_a_new_version_replaces_the_old_text(iarc: Archive) -> None:
    first = run_ingest(iarc, "初稿 预算草案".encode(), "plan.txt", project="P")
    run_ingest(iarc, "定稿 预算批复".encode(), "plan.txt", project="P")
    flush(iarc)
    assert found(iarc, "批复") == {"plan"}
    assert found(iarc, "草案") == set()
    hit = open_index(iarc).search("批复", EVERYTHING).hits[0]
    assert hit.record_id == str(first.record_id)
    assert hit.name.endswith("-1.1")


def test_the_scheduled_merge_drops_what_a_new_version_left_deleted(iarc: Archive) -> None:
    run_ingest(iarc, "初稿 预算草案".encode(), "plan.txt", project="P")
    flush(iarc)
    run_ingest(iarc, "定稿 预算批复".encode(), "plan.txt", project="P")
    flush(iarc)
    searcher, _ = open_index(iarc)._current_searcher()
    assert searcher.doc_count() == 1
    deleted = searcher.reader().doc_count_all() - 1  # the first version's document, at least
    assert deleted >= 1
    assert merge_deletions(iarc) == deleted
    searcher, _ = open_index(iarc)._current_searcher()
    assert searcher.reader().doc_count_all() == 1
    assert found(iarc, "批复") == {"plan"}
    assert merge_deletions(iarc) == 0


def test_destroyed_content_leaves_the_index(iarc: Archive) -> None:
    job = run_ingest(iarc, "机密 薪酬方案".encode(), "pay.txt", project="P")
    flush(iarc)
    assert found(iarc, "薪酬") == {"pay"}
    assert job.version_id is not None
    destroy_version_content(iarc, Actor.cli(), job.version_id, "disposition list 1")
    flush(iarc)
    assert found(iarc, "薪酬") == set()


def test_rebuild_and_check_repair_a_damaged_index(iarc: Archive) -> None:
    for number in range(5):
        run_ingest(iarc, f"文件{number} 会议纪要".encode(), f"doc{number}.txt", project="P")
    flush(iarc)
    index = open_index(iarc)
    assert check(iarc).ok
    gone = index.search("会议纪要", EVERYTHING).hits[0].record_id
    index.write(remove=[gone])
    damaged = check(iarc)
    assert damaged.missing == [gone]
    assert not damaged.ok
    check(iarc, fix=True)
    assert check(iarc).ok
    # A description changed with nothing queued (the outbox row lost, or a change that
    # forgot it): the index still counts the record under its old 密级.
    with iarc.transaction() as session:
        session.execute(
            update(Record).where(Record.id == uuid.UUID(gone)).values(sensitivity="restricted")
        )
    assert check(iarc).stale == [gone]
    check(iarc, fix=True)
    assert check(iarc).ok
    index.create()  # lost entirely
    assert index.doc_count() == 0
    assert rebuild(iarc, chunk=2) == 5
    assert check(iarc).ok


def test_a_schema_change_rebuilds_from_the_database_on_the_next_flush(iarc: Archive) -> None:
    run_ingest(iarc, "年度 财务 报告".encode(), "annual.txt", project="P")
    flush(iarc)
    index = open_index(iarc)
    (index.directory / "schema_version").write_text("1\n")  # written by an older release
    assert index.needs_rebuild()
    flush(iarc)  # nothing queued, but the writer notices and rebuilds
    assert not index.needs_rebuild()
    assert found(iarc, "财务报告") == {"annual"}


def test_the_index_is_keyed_by_the_keyring_and_holds_neither_key_nor_words(iarc: Archive) -> None:
    run_ingest(iarc, "董事会 并购 谈判 底价".encode(), "board.txt", project="P")
    flush(iarc)
    index = open_index(iarc)
    key = iarc.keyring.secret(INDEX_PURPOSE)
    assert index.keyed_by(key)
    assert (index.directory / "key_fingerprint").read_text().strip() == fingerprint(key)
    for path in index.directory.iterdir():
        data = path.read_bytes()
        assert key not in data
        assert key.hex().encode() not in data
        assert "并购".encode() not in data
        assert "底价".encode() not in data
    assert found(iarc, "并购谈判") == {"board"}


def test_a_new_index_key_rebuilds_on_the_next_flush(iarc: Archive) -> None:
    run_ingest(iarc, "审计 底稿 抽样".encode(), "audit.txt", project="P")
    flush(iarc)
    old = open_index(iarc)
    iarc.keyring._secrets[INDEX_PURPOSE] = bytes(32)  # as if the keyring were replaced
    index = open_index(iarc)
    assert index is not old
    assert index.needs_rebuild()
    flush(iarc)  # nothing queued: the writer notices the key and rebuilds
    assert not index.needs_rebuild()
    assert found(iarc, "审计底稿") == {"audit"}
