"""The audit trail for auditors: filtered by user, action, record (档号 or id) and Beijing day,
with before → after in words, as JSON, CSV for Excel and a page; nobody else learns anything
from it, and reading it is itself on the trail."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from access.trail_view import describe_details, lookups_for
from archive.audit import Actor
from archive.db import local_today
from archive.models import (
    AuditEvent,
    ClassificationRule,
    HoldScope,
    IngestJob,
    Record,
    Sensitivity,
    User,
)
from archive.people import change_user, create_department
from archive.refcode import number_pending
from retention.holds import place_hold
from retention.schedules import seed_default_plan
from retention.status import refresh_dirty
from tests.access.conftest import PEOPLE, World, make_world
from tests.access.test_web_pages import Browser

TRAIL = "/api/v1/audit-trail"


def _changes(world: World) -> str:
    """wu (an administrator, from 10.0.0.9) raises zhang's clearance; a department whose
    name is a spreadsheet formula is created; the records get their schedules and 档号.
    Returns the CG-internal record's 档号."""
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
    refresh_dirty(world.arc)
    number_pending(world.arc)
    with world.arc.transaction() as session:
        wu = session.scalar(select(User).where(User.username == "wu"))
        zhang = session.scalar(select(User).where(User.username == "zhang"))
        assert wu is not None
        assert zhang is not None
        by_wu = Actor(name="wu", user_id=wu.id, ip="10.0.0.9")
        change_user(session, by_wu, zhang, clearance=Sensitivity.RESTRICTED)
        create_department(session, by_wu, "EV", '=HYPERLINK("http://evil.example","x")')
        record = session.get(Record, world.records["CG-internal"])
        assert record is not None
        assert record.reference_code
        return record.reference_code


def _get(world: World, query: str = "", who: str = "zhou") -> Any:
    response = world.call("GET", who, TRAIL + query)
    assert response.status_code == 200, response.json
    return response.json


def test_the_auditor_filters_by_user_and_action_and_reads_changes_in_words(
    world: World,
) -> None:
    _changes(world)
    by_wu = _get(world, "?actor=wu")
    assert by_wu["total"] == 3  # the clearance, the sessions ended, the department
    assert _get(world, "?actor=用户wu")["total"] == 3  # by the name people know
    assert {e["actor"] for e in by_wu["events"]} == {"wu"}
    change = next(e for e in by_wu["events"] if e["action"] == "user.clearance_changed")
    assert change["action_label"] == "变更密级许可"
    assert change["ip"] == "10.0.0.9"
    assert change["actor_name"] == "用户wu（wu）"
    assert change["object"] == "用户zhang（zhang）"
    assert change["changes"] == [
        {"field": "clearance", "label": "密级许可", "before": "秘密", "after": "机密"}
    ]
    assert change["time"][:10] == local_today().isoformat()  # Beijing time
    exact = _get(world, "?action=user.clearance_changed")
    assert [e["action"] for e in exact["events"]] == ["user.clearance_changed"]
    family = _get(world, "?action=user.")
    assert family["total"] > 9
    assert all(e["action"].startswith("user.") for e in family["events"])
    english = _get(world, "?action=user.clearance_changed&lang=en")["events"][0]
    assert english["action_label"] == "Clearance changed"
    assert english["changes"][0]["before"] == "Confidential"


def test_a_record_is_found_by_its_reference_code_with_its_versions(world: World) -> None:
    _record_trail(world)


def test_the_record_filter_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """The details are JSON: ``->>`` on PostgreSQL, ``json_extract`` on SQLite."""
    world = make_world(tmp_path, pg_url)
    try:
        _record_trail(world)
    finally:
        world.arc.close()


def _record_trail(world: World) -> None:
    code = _changes(world)
    by_code = _get(world, f"?record={code}")
    by_id = _get(world, f"?record={world.records['CG-internal']}")
    assert by_code == by_id
    actions = {e["action"] for e in by_code["events"]}
    assert {"record.created", "record.numbered", "version.stored"} <= actions
    assert all(e["record_id"] == str(world.records["CG-internal"]) for e in by_code["events"])
    assert all(code in e["object"] for e in by_code["events"])  # 档号, not an id
    created = next(e for e in by_code["events"] if e["action"] == "record.created")
    shown = {d["field"]: d["value"] for d in created["details"]}
    assert shown["密级"] == "内部"
    assert shown["题名"] == "档案 CG-internal"
    assert not any(v[:1] in "{[" or "None" in v for v in shown.values())  # no JSON, no reprs


def test_newest_first_in_pages_and_days_in_beijing_time(world: World) -> None:
    first = _get(world, "?action=record.&per_page=3")  # reading the trail adds to it
    second = _get(world, "?action=record.&per_page=3&page=2")
    seqs = [e["seq"] for e in first["events"] + second["events"]]
    assert seqs == sorted(seqs, reverse=True)
    assert len(set(seqs)) == 6
    today = local_today()
    assert _get(world, f"?action=record.&from={today}&to={today}")["total"] == first["total"]
    assert _get(world, f"?to={today - timedelta(days=1)}")["total"] == 0
    assert _get(world, f"?from={today + timedelta(days=1)}")["total"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?record=Z109-WS·2011-Y-XX-9999", "record"),
        ("?from=2026-13-01", "from"),
        ("?from=2026-05-02&to=2026-05-01", "to"),
        ("?action=DROP TABLE", "action"),
    ],
)
def test_a_filter_not_understood_is_a_400_naming_the_field(
    world: World, query: str, field: str
) -> None:
    response = world.call("GET", "zhou", TRAIL + query)
    assert response.status_code == 400
    assert set(response.json["fields"]) == {field}  # type: ignore[index]


def test_the_csv_is_for_excel_chinese_beijing_time_and_inert(world: World) -> None:
    _changes(world)
    response = world.call("GET", "zhou", TRAIL + "?actor=wu&format=csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:3] == ["序号", "时间（北京时间）", "操作人"]
    assert len(rows) == 4
    department = next(r for r in rows if r[6] == "department.created")
    assert department[5] == "创建部门"
    assert department[8].startswith("'=HYPERLINK")  # the object: the department's name
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    clearance = next(r for r in rows if r[6] == "user.clearance_changed")
    assert clearance[9] == "密级许可：秘密 → 机密"
    assert clearance[1][:10] == local_today().isoformat()


def test_only_auditors_read_it_and_reading_it_is_audited(world: World) -> None:
    for name in PEOPLE:
        response = world.call("GET", name, TRAIL + "?format=csv")
        if name == "zhou":
            assert response.status_code == 200
            continue
        assert response.status_code == 403, name
        assert response.json == {"error": response.json["error"], "kind": "forbidden"}  # type: ignore[index]
    with world.arc.sessions() as session:
        reads = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "audit_trail.read")
        ).all()
        assert [(e.actor, e.object_id, e.details) for e in reads] == [
            ("zhou", "csv", {"format": "csv"})
        ]


def test_the_page_keeps_its_filter_and_says_what_is_wrong_in_chinese(world: World) -> None:
    code = _changes(world)
    zhou = Browser(world, "zhou")
    assert "/audit/trail" in zhou.text("/")
    page = zhou.text(f"/audit/trail?record={code}")
    assert "审计记录" in page
    assert "创建档案" in page
    assert code in page
    # Chosen from a list in words, not typed as a code: a family, or one action.
    assert '<option value="access_log." >访问日志</option>' in page
    assert '<option value="record.created" >创建档案</option>' in page
    chosen = zhou.text("/audit/trail?action=record.created")
    assert '<option value="record.created" selected>创建档案</option>' in chosen
    wrong = zhou.text("/audit/trail?actor=wu&from=2026-13-01", status=400)
    assert 'value="wu"' in wrong
    assert 'value="2026-13-01"' in wrong
    assert "请按 2026-01-31 的格式输入日期" in wrong
    export = zhou.get("/audit/trail?actor=wu&format=csv")
    assert export.get_data(as_text=True).startswith("\ufeff序号")  # type: ignore[attr-defined]
    wu = Browser(world, "wu")
    assert "/audit/trail" not in wu.text("/")
    refused = wu.text(f"/audit/trail?record={code}", status=403)
    assert code not in refused
    assert "创建档案" not in refused


def test_a_decided_request_shows_before_and_after_under_its_record(world: World) -> None:
    asked = world.call(
        "POST",
        "zhang",
        "/api/v1/access-requests",
        json={
            "record_id": str(world.records["CG-internal"]),
            "purpose": "核对验收资料",
            "scope": "view",
            "days": 3,
        },
    )
    assert asked.status_code == 201
    request_id = asked.json["id"]  # type: ignore[index]
    approved = world.call("POST", "wang", f"/api/v1/access-requests/{request_id}/approve")
    assert approved.status_code == 200
    events = _get(world, f"?record={world.records['CG-internal']}&action=access.")["events"]
    assert [e["action_label"] for e in events] == ["批准查阅申请", "提交查阅申请"]
    decision, request = events
    assert {"field": "status", "label": "状态", "before": "待审批", "after": "已批准"} in decision[
        "changes"
    ]
    assert decision["object"] == "档案 CG-internal"  # the request's record, not its id
    assert {"field": "范围", "value": "查看"} in request["details"]
    assert {"field": "档案", "value": "档案 CG-internal"} in request["details"]


def test_event_types_are_named_as_the_file_plan_names_them(world: World) -> None:
    """An event type is a code in the trail's details (a schedule's events, a recorded
    event); the trail says the name the records manager gave it, in Chinese."""
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
    changed = AuditEvent(
        action="retention.schedule_changed",
        object_type="event_type",
        object_id="project_accepted",
        details={"events": ["project_accepted", "contract_terminated"], "event_type": "gone"},
    )
    with world.arc.sessions() as session:
        seen = lookups_for(session, [changed])
    assert seen.object_text(changed, "zh") == "项目验收"
    assert seen.value("events", changed.details["events"], "zh") == "项目验收、合同终止"
    assert seen.value("event_type", "gone", "zh") == "gone"  # a code no longer defined


def test_how_the_rules_classified_a_record_is_said_in_words_without_the_text(
    world: World,
) -> None:
    """The details of a filing hold the rules' decision: their fields and codes were shown
    as threshold, set: stage、record_type; the keywords they found are words of the text,
    which the trail's readers (auditors) may not read: not shown."""
    filed = AuditEvent(
        action="ingest.stored",
        object_type="record",
        object_id="x",
        details={
            "classification": {
                "threshold": 0.6,
                "rules": [{"rule": "合同", "set": ["stage", "record_type"],
                           "because": ["keywords: 合同, 甲方"]}],
            },
            "check": "integrity.content_present",
        },
    )  # fmt: skip
    with world.arc.sessions() as session:
        seen = lookups_for(session, [filed])
    _changes, details = describe_details(filed, seen, "zh")
    said = dict(details)["分类依据"]
    assert said == "阈值：0.6；规则：规则：合同；确定了：业务阶段、文件类型"
    assert "甲方" not in str(details)
    assert seen.value("check", "integrity.content_present", "zh") == "完整性：内容齐全"


def test_jobs_projects_holds_and_rules_are_named_not_numbered(world: World) -> None:
    """An event about an ingest job, a project, a hold or a rule showed its number or UUID
    (入库任务 692e…, 项目 4): the trail names each as people know it."""
    with world.arc.transaction() as session:
        job = IngestJob(source="upload", original_filename="季度报告.pdf")
        rule = ClassificationRule(name="合同规则", keywords=["合同"])
        session.add_all([job, rule])
        session.flush()
        hold, _count = place_hold(
            session,
            Actor.cli(),
            name="诉讼保全 2026-01",
            reason="诉讼",
            scope=HoldScope.RECORDS,
            record_ids=[world.records["CG-public"]],
        )
        project = session.scalars(
            select(AuditEvent).where(AuditEvent.object_type == "project")
        ).first()
        assert project is not None
        events = [
            project,
            AuditEvent(action="ingest.received", object_type="ingest_job", object_id=str(job.id)),
            AuditEvent(action="retention.hold_placed", object_type="hold", object_id=str(hold.id)),
            AuditEvent(
                action="classification.rule_saved",
                object_type="classification_rule",
                object_id=str(rule.id),
            ),
            AuditEvent(action="ingest.received", object_type="ingest_job", object_id="not-a-uuid"),
        ]
        seen = lookups_for(session, events)
    shown = [seen.object_text(event, "zh") for event in events]
    assert shown == [
        project.details["name"],
        "季度报告.pdf",
        "诉讼保全 2026-01",
        "合同规则",
        "not-a-uuid",  # nothing to name: the id as written
    ]


def test_reading_the_access_log_is_in_the_trail_in_words(world: World) -> None:
    zhou = Browser(world, "zhou")
    zhou.text("/audit/access-log?per_page=30")
    trail = zhou.text("/audit/trail?action=access_log.read")
    assert "查看访问日志" in trail
    assert "网页" in trail  # not "html"
    assert "每页条数" in trail  # not "per_page"
    again = zhou.text("/audit/trail?action=audit_trail.read")
    assert "审计记录</small> 网页" in again  # reading the trail itself, in words too
