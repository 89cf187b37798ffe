"""Records managers correct 责任者, 文号 and 备注 (API and record page): audited with before
and after, re-indexed, searchable and filterable; everyone else is refused and learns
nothing."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.audit import verify_chain
from archive.models import AuditEvent, Record, RecordChange, RecordState
from ingest.pipeline import process
from search.indexer import flush_all, open_index
from tests.access.conftest import PEOPLE, World, make_world
from tests.access.test_web_pages import Browser

DESCRIPTION = {
    "author": "上海市仓储管理局",
    "doc_number": "沪仓发〔2025〕12号",
    "remarks": "原件存行政部",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def any_world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    database = request.getfixturevalue("pg_url") if request.param == "postgresql" else "sqlite"
    made = make_world(tmp_path, database)
    yield made
    made.arc.close()


def record_of(world: World, key: str) -> Record:
    with world.arc.sessions() as session:
        return session.get_one(Record, world.records[key])


def changes_of(world: World) -> list[AuditEvent]:
    with world.arc.sessions() as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "record.description_changed")
                .order_by(AuditEvent.seq)
            )
        )


def test_a_records_manager_describes_a_record_audited_and_found(any_world: World) -> None:
    world, record_id = any_world, any_world.records["CG-internal"]
    response = world.call("PATCH", "sun", f"/api/v1/records/{record_id}", json=DESCRIPTION)
    assert response.status_code == 200, response.json
    assert response.json["changed"]["doc_number"] == {  # type: ignore[index]
        "before": None,
        "after": "沪仓发〔2025〕12号",
    }
    record = record_of(world, "CG-internal")
    assert (record.author, record.doc_number, record.remarks) == tuple(DESCRIPTION.values())
    [event] = changes_of(world)
    assert (event.actor, event.object_id) == ("sun", str(record_id))
    assert event.details["before"] == dict.fromkeys(DESCRIPTION)
    assert event.details["after"] == DESCRIPTION
    with world.arc.sessions() as session:
        assert verify_chain(session).ok
        queued = session.scalars(select(RecordChange.record_id)).all()
        assert record_id in queued  # the index hears of it

    # A correction keeps only what changed; clearing is a change too.
    again = {"doc_number": "沪仓发[2025]13号", "author": DESCRIPTION["author"], "remarks": ""}
    response = world.call("PATCH", "sun", f"/api/v1/records/{record_id}", json=again)
    assert set(response.json["changed"]) == {"doc_number", "remarks"}  # type: ignore[index]
    last = changes_of(world)[-1]
    assert last.details["before"] == {"doc_number": "沪仓发〔2025〕12号", "remarks": "原件存行政部"}
    assert last.details["after"] == {"doc_number": "沪仓发[2025]13号", "remarks": None}

    shown = world.call("GET", "zhang", f"/api/v1/records/{record_id}").json
    assert shown["doc_number"] == "沪仓发[2025]13号"  # type: ignore[index]
    assert shown["author"] == "上海市仓储管理局"  # type: ignore[index]
    assert "page_count" in shown["versions"][0]  # type: ignore[index]

    flush_all(world.arc, open_index(world.arc))
    by_number = world.call("GET", "zhang", "/api/v1/search?doc_number=沪仓发〔2025〕13号").json
    assert [h["record_id"] for h in by_number["hits"]] == [str(record_id)]  # type: ignore[index]
    assert by_number["hits"][0]["doc_number"] == "沪仓发[2025]13号"  # type: ignore[index]
    typed = world.call("GET", "zhang", "/api/v1/search?q=沪仓发［2025］13号").json
    assert [h["record_id"] for h in typed["hits"]] == [str(record_id)]  # type: ignore[index]
    by_author = world.call("GET", "zhang", "/api/v1/search?author=上海市仓储管理局&q=档案").json
    assert by_author["total"] == 1  # type: ignore[index]
    assert (
        world.call("GET", "zhang", "/api/v1/search?doc_number=沪仓发〔2025〕12号").json["total"]
        == 0
    )  # type: ignore[index]


def test_everyone_else_is_refused_and_learns_nothing(world: World) -> None:
    real, unknown = world.records["XS-restricted"], uuid.uuid4()
    for name, (role, _) in PEOPLE.items():
        if role.value == "records_manager":
            continue
        answers = [
            world.call("PATCH", name, f"/api/v1/records/{target}", json=DESCRIPTION)
            for target in (real, unknown)
        ]
        assert [a.status_code for a in answers] == [403, 403], name
        assert answers[0].json == answers[1].json, name  # the same words for both
    assert changes_of(world) == []
    assert record_of(world, "XS-restricted").doc_number is None
    gone = world.call("PATCH", "sun", f"/api/v1/records/{unknown}", json=DESCRIPTION)
    assert gone.status_code == 404
    # A records manager's retention views show every record's 档号 and title, not its
    # 责任者, 文号 and 备注: another department's secret answers as a record that is not there,
    # unchanged, and nothing it held comes back.
    hidden = world.call("PATCH", "sun", f"/api/v1/records/{real}", json={"remarks": "x"})
    assert (hidden.status_code, hidden.json) == (gone.status_code, gone.json)
    assert record_of(world, "XS-restricted").remarks is None


def test_bad_input_is_refused_with_its_reason(world: World) -> None:
    path = f"/api/v1/records/{world.records['CG-public']}"
    too_long = world.call("PATCH", "sun", path, json={"doc_number": "号" * 101})
    assert too_long.status_code == 400
    assert "doc_number is longer than 100" in too_long.json["error"]  # type: ignore[index]
    unknown = world.call("PATCH", "sun", path, json={"title": "x"})
    assert unknown.status_code == 400
    assert "unknown fields title" in unknown.json["error"]  # type: ignore[index]
    assert world.call("PATCH", "sun", path, json={"author": 7}).status_code == 400
    assert changes_of(world) == []


def test_the_record_page_shows_and_edits_the_description(world: World) -> None:
    record_id = world.records["CG-internal"]
    sun, zhang = Browser(world, "sun"), Browser(world, "zhang")
    path = f"/records/{record_id}"
    assert "<summary>更正著录项</summary>" not in zhang.text(path)
    assert 'name="doc_number"' not in zhang.text(path)
    page = sun.text(path)
    assert "更正著录项" in page
    for label in ("责任者", "文号", "备注", "密级", "页数"):
        assert label in page, label
    with world.arc.transaction() as session:  # as ingest leaves it (tests/ingest)
        session.get_one(Record, record_id).classification = {
            "described": {"author": "sidecar", "doc_number": "text:number_line"}
        }
    assert "文号 来源：正文版头的文号行" in sun.text(path)
    sun.post(f"{path}/description", DESCRIPTION)
    page = sun.text(path)  # a corrected value no longer claims its old origin
    assert "文号 来源：档案管理员更正" in page
    assert "责任者 来源：档案管理员更正" in page
    assert "正文版头的文号行" not in page
    assert "沪仓发〔2025〕12号" in page
    assert "上海市仓储管理局" in page
    assert "原件存行政部" in zhang.text(path)  # shown to whoever may know the record

    # Too long: the page again, with the input as typed and the reason in Chinese.
    typed = {"author": "新的责任者", "doc_number": "号" * 101, "remarks": "保留我"}
    refused = sun.post(f"{path}/description", typed, status=400)
    assert "最多" in refused
    assert "新的责任者" in refused
    assert "保留我" in refused
    assert record_of(world, "CG-internal").author == "上海市仓储管理局"
    assert len(changes_of(world)) == 1

    zhang.post(f"{path}/description", {"author": "我"}, status=403)
    assert record_of(world, "CG-internal").author == "上海市仓储管理局"


def test_the_search_page_filters_by_doc_number_and_author(world: World) -> None:
    record_id = world.records["CG-public"]
    world.call("PATCH", "sun", f"/api/v1/records/{record_id}", json=DESCRIPTION)
    flush_all(world.arc, open_index(world.arc))
    zhang = Browser(world, "zhang")
    page = zhang.text("/search?doc_number=沪仓发[2025]12号")
    assert f"/records/{record_id}" in page
    assert "沪仓发〔2025〕12号" in page
    assert page.count('class="title"') == 1
    assert 'class="title"' not in zhang.text("/search?author=别的单位")


def test_a_destroyed_records_description_stays_as_its_certificate_says(world: World) -> None:
    with world.arc.transaction() as session:
        session.get_one(Record, world.records["CG-public"]).state = RecordState.DISPOSED
    path = f"/api/v1/records/{world.records['CG-public']}"
    refused = world.call("PATCH", "sun", path, json=DESCRIPTION)
    assert refused.status_code == 409
    assert "disposed" in refused.json["error"]  # type: ignore[index]
    assert changes_of(world) == []


NOTICE = "上海市仓储管理局文件\n沪仓发〔2025〕12号\n关于开展仓库安全检查的通知\n各仓库："


def test_values_given_at_upload_win_over_the_text(world: World) -> None:
    """The API's form fields and the upload page's fields: the same metadata as a sidecar."""
    response = world.call(
        "POST",
        "zhang",
        "/api/v1/documents",
        data={
            "file": (io.BytesIO(NOTICE.encode()), "通知.txt"),
            "project": "安全检查",
            "doc_number": "沪仓发〔2025〕99号",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.json
    process(world.arc, uuid.UUID(response.json["job_id"]))  # type: ignore[index]
    zhang = Browser(world, "zhang")
    body = zhang.post(
        "/upload",
        {
            "files": [(io.BytesIO(NOTICE.encode()), "通知2.txt")],
            "project": "安全检查二",
            "author": "行政部",
            "remarks": "纸质原件在档案室",
        },
        status=202,
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    process(world.arc, uuid.UUID(json.loads(body)["jobs"][0]))
    with world.arc.sessions() as session:
        described = {
            r.project.name: (r.doc_number, r.author, r.remarks)
            for r in session.scalars(select(Record).where(Record.doc_number.is_not(None)))
        }
    assert described == {
        "安全检查": ("沪仓发〔2025〕99号", "上海市仓储管理局", None),
        "安全检查二": ("沪仓发〔2025〕12号", "行政部", "纸质原件在档案室"),
    }
    refused = world.call(
        "POST",
        "zhang",
        "/api/v1/documents",
        data={"file": (io.BytesIO(b"x"), "x.txt"), "project": "P", "author": "部" * 201},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    assert "author is longer than 200" in refused.json["error"]  # type: ignore[index]
