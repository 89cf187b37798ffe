"""The gated reader's output, and the access log as auditors use it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from openapi_spec_validator import validate
from pypdf import PdfReader
from sqlalchemy import text, update

from access.api.openapi import path_template
from access.cli import main
from archive.accesslog import verify_access_log
from archive.db import drop_append_only_ddl, utcnow
from archive.models import AccessEvent, Record
from tests.access.conftest import World, make_world
from tests.ingest import samples


@pytest.fixture
def pdf_world(world: World) -> World:
    pages = ["第一页 验收报告", "第二页 付款记录", "第三页 签字"]
    world.add_record("pdf", "CG", "internal", samples.pdf(pages), "验收报告.pdf", "application/pdf")
    return world


def test_every_viewed_page_carries_the_readers_name_address_and_time(pdf_world: World) -> None:
    response = pdf_world.call(
        "GET", "wang", f"/api/v1/versions/{pdf_world.versions['pdf']}/content?action=view"
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert len(pages) == 3
    for number, page in enumerate(pages, 1):
        words = page.extract_text()
        assert "用户wang (wang)" in words, f"page {number}: {words!r}"
        assert "127.0.0.1" in words
        assert "北京时间" in words
        assert ["第一页", "第二页", "第三页"][number - 1] in words  # the page itself is intact


def test_a_download_keeps_its_chinese_canonical_name(pdf_world: World) -> None:
    response = pdf_world.call(
        "GET", "wang", f"/api/v1/versions/{pdf_world.versions['pdf']}/content?action=download"
    )
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "华东仓储改造项目pdf-2026-05-1.0.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data.startswith(b"%PDF")  # the original, unstamped


def test_an_edited_log_line_is_caught_by_audit_verify(world: World) -> None:
    world.call("GET", "zhang", f"/api/v1/versions/{world.versions['CG-internal']}/content")
    world.call("GET", "wang", f"/api/v1/versions/{world.versions['CG-internal']}/content")
    with world.arc.transaction() as session:
        with pytest.raises(Exception, match="append-only"), session.begin_nested():
            session.execute(update(AccessEvent).values(ip="10.9.9.9"))
        for statement in drop_append_only_ddl("sqlite", "access_events"):
            session.execute(text(statement))
        session.execute(update(AccessEvent).where(AccessEvent.seq == 1).values(outcome="allowed"))
    with world.arc.sessions() as session:
        report = verify_access_log(session)
    assert not report.ok
    assert report.bad_seq == 1
    result = CliRunner().invoke(
        main, ["audit", "verify"], env={"ARCHIVE_HOME": str(world.arc.settings.home)}
    )
    assert result.exit_code == 1
    assert "access log BROKEN" in result.output


def test_auditors_query_and_export_the_log(world: World) -> None:
    for who in ("zhang", "wang", "wang"):
        world.call("GET", who, f"/api/v1/versions/{world.versions['CG-internal']}/content")
    assert world.call("GET", "wang", "/api/v1/access-log").status_code == 403
    assert world.call("GET", "wu", "/api/v1/access-log").status_code == 403  # admin: not theirs
    only_wang = world.call("GET", "zhou", "/api/v1/access-log?user=wang").json["events"]  # type: ignore[index]
    assert [(e["username"], e["outcome"]) for e in only_wang] == [("wang", "allowed")] * 2
    for shown_name in ("用户wang", "wang"):  # the name the pages show, or a part of it
        by_name = world.call("GET", "zhou", f"/api/v1/access-log?user={shown_name}").json
        assert {e["username"] for e in by_name["events"]} == {"wang"}  # type: ignore[index]
    exported = world.call(
        "GET", "zhou", f"/api/v1/access-log?format=csv&record={world.records['CG-internal']}"
    )
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert [(r["用户"], r["结果"]) for r in rows] == [
        ("zhang", "已拒绝"),
        ("wang", "允许"),
        ("wang", "允许"),
    ]
    assert all(r["IP 地址"] == "127.0.0.1" and r["时间（北京时间）"] for r in rows)
    assert all(len(r["哈希"]) == 64 for r in rows)
    later = (utcnow() + timedelta(days=1)).date().isoformat()
    assert world.call("GET", "zhou", f"/api/v1/access-log?from={later}").json["events"] == []  # type: ignore[index]
    assert world.call("GET", "zhou", "/api/v1/access-log?from=yesterday").status_code == 400


def test_alerts_for_many_reads_and_repeated_refusals(tmp_path: Path) -> None:
    world = make_world(
        tmp_path,
        ARCHIVE_ALERT_READS_PER_HOUR="2",
        ARCHIVE_ALERT_REFUSALS="3",
        ARCHIVE_WORK_HOURS="0-24",
    )
    for key in ("CG-public", "CG-internal", "CG-confidential"):
        world.call("GET", "wang", f"/api/v1/versions/{world.versions[key]}/content")
    for key in ("CG-public", "CG-internal", "XS-internal"):
        world.call("GET", "zhang", f"/api/v1/versions/{world.versions[key]}/content")
    kinds = {
        (a["kind"], a["user"])
        for a in world.call("GET", "zhou", "/api/v1/access-alerts").json["alerts"]
    }  # type: ignore[index]
    assert kinds == {("many_reads", "wang"), ("refusals", "zhang")}
    world.arc.close()
    night = make_world(
        tmp_path / "night", ARCHIVE_WORK_HOURS="0-1"
    )  # almost every hour is "outside"
    night.call("GET", "wang", f"/api/v1/versions/{night.versions['CG-internal']}/content")
    found = night.call("GET", "zhou", "/api/v1/access-alerts").json["alerts"]  # type: ignore[index]
    hour = (utcnow() + timedelta(hours=8)).hour
    assert [a["kind"] for a in found] == ([] if hour == 0 else ["after_hours"])
    with night.arc.sessions() as session:
        record = session.get_one(Record, night.records["CG-internal"])
        known_as = record.reference_code or record.name_stem
    for alert in found:  # the record as people know it, not its id
        assert f" of record {known_as} at " in alert["detail"]
    night.arc.close()


def test_searches_that_reach_contracts_are_logged(world: World) -> None:
    from search.indexer import flush_all, open_index

    flush_all(world.arc, open_index(world.arc))
    assert world.call("GET", "zhang", "/api/v1/search?q=档案").status_code == 200
    found = world.call("GET", "zhao", "/api/v1/search?q=档案")
    assert found.json["total"] == 7  # type: ignore[index]  # all but CG's confidential one
    lines = [
        e
        for e in world.call("GET", "zhou", "/api/v1/access-log").json["events"]
        if e["action"] == "search"
    ]  # type: ignore[index]
    assert [e["username"] for e in lines] == ["zhao"]
    assert "档案" in lines[0]["details"]


def test_the_openapi_document_lists_every_api_route(world: World) -> None:
    document = world.app.test_client().get("/api/v1/openapi.json").json
    validate(document)  # a valid OpenAPI 3.1 document, $refs and all
    listed = {
        (method.upper(), path)
        for path, operations in document["paths"].items()  # type: ignore[index]
        for method in operations
    }
    routes = {
        (method, path_template(rule.rule))
        for rule in world.app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and not rule.rule.endswith("openapi.json")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert listed == routes
    assert ("POST", "/api/v1/access-requests") in listed
    create = document["paths"]["/api/v1/access-requests"]["post"]  # type: ignore[index]
    assert create["requestBody"]["content"]["application/json"]["schema"]["required"] == [
        "record_id",
        "purpose",
        "scope",
        "days",
    ]
