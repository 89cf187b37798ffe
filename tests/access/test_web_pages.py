"""Every web page for every role, in Chinese by default and in English on request, and the
main jobs of each group done through the forms (CSRF tokens and all)."""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import date
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.audit import Actor
from archive.models import AccessEvent, AuditEvent, IngestJob, IngestStatus, Record
from ingest.pipeline import process
from ingest.rules import seed_default_rules
from retention.schedules import seed_default_plan
from retention.status import refresh_dirty
from search.indexer import flush
from tests.access.conftest import PEOPLE, World
from tests.access.test_web import BASE, SAME_SITE, csrf_token, give_password, login
from tests.ingest import samples

PASSWORD = "correct horse battery"
#: page → the roles that may open it (everyone else: 403)
READERS = {
    name for name, (role, _) in PEOPLE.items() if role.value not in ("admin", "security_admin")
}
HEADS = {"wang", "zhao", "qian"}
UPLOADERS = {"zhang", "li", "wang", "zhao", "qian", "sun"}
PAGES = {
    "/search": READERS,
    "/requests": READERS,
    "/inbox": HEADS,
    "/emergency": HEADS,
    "/upload": UPLOADERS,
    "/jobs": UPLOADERS,
    "/rules": {"sun"},
    "/classification-review": {"sun"},
    "/retention/schedules": {"sun"},
    "/retention/events": {"sun"},
    "/retention/holds": {"sun"},
    "/retention/appraisal": {"sun"},
    "/retention/witness": {"zhang", "li", "wang", "zhao", "qian", "sun", "wu"},
    "/retention/catalogue": {"sun", "zhou", "zhao", "qian"},
    "/retention/lists": {"sun", "wang", "zhao", "qian", "zhou"},  # auditors read them
    "/retention/due": {"sun", "zhou", "zhao", "qian"},  # as GET /retention/reports/due
    "/audit/access-log": {"zhou"},
    "/audit/trail": {"zhou"},
    "/audit/alerts": {"zhou"},
    "/audit/chain": {"zhou"},
    "/audit/samples": {"zhou", "sun"},
    "/admin/users": {"wu"},
    "/admin/departments": {"wu"},
    "/admin/changes": {"wu", "zheng", "zhou"},  # 三员分立: the auditor watches the other two
    "/admin/privileges": {"wu", "zheng", "zhou"},
}


class Browser:
    """A signed-in test client that posts forms with the page's CSRF token."""

    def __init__(self, world: World, username: str) -> None:
        give_password(world, username, PASSWORD)
        self.client: FlaskClient = world.app.test_client()
        assert login(self.client, username, PASSWORD) == 302
        self.token = csrf_token(self.client.get("/", base_url=BASE).data)

    def get(self, path: str, **kwargs: object) -> object:
        return self.client.get(path, base_url=BASE, **kwargs)  # type: ignore[arg-type]

    def text(self, path: str, status: int = 200) -> str:
        response = self.client.get(path, base_url=BASE)
        assert response.status_code == status, (path, response.status_code)
        return response.get_data(as_text=True)

    def post(self, path: str, data: dict[str, object], status: int = 302, **kw: object) -> str:
        response = self.client.post(
            path,
            data={**data, "csrf_token": self.token},
            base_url=BASE,
            headers={**SAME_SITE, **kw.pop("headers", {})},  # type: ignore[dict-item]
            **kw,  # type: ignore[arg-type]
        )
        assert response.status_code == status, (path, response.get_data(as_text=True)[-600:])
        return response.get_data(as_text=True)


@pytest.fixture
def people(world: World) -> dict[str, Browser]:
    flush(world.arc)
    return {name: Browser(world, name) for name in PEOPLE}


def test_every_page_answers_its_roles_and_refuses_the_rest(people: dict[str, Browser]) -> None:
    for path, allowed in PAGES.items():
        for name, browser in people.items():
            expected = 200 if name in allowed else 403
            assert browser.get(path).status_code == expected, (path, name)  # type: ignore[attr-defined]
    # No link to a page the role cannot open.
    for name, browser in people.items():
        home = browser.text("/")
        for path, allowed in PAGES.items():
            assert (f'href="{path}"' in home) == (name in allowed), (name, path)


def test_chinese_by_default_english_on_request(people: dict[str, Browser]) -> None:
    zhang = people["zhang"]
    page = zhang.text("/search")
    assert "检索" in page
    assert "退出" in page
    assert 'lang="zh-CN"' in page
    assert zhang.get("/language/en?next=/search").status_code == 302  # type: ignore[attr-defined]
    english = zhang.text("/search")
    assert "Sign out" in english
    assert "退出" not in english
    assert 'lang="en"' in english
    # The switch never sends anyone off-site.
    away = zhang.get("/language/zh_CN?next=https://evil.example/")
    assert away.headers["Location"] == "/"  # type: ignore[attr-defined]
    # Nor back into the reader: that would be another read (or refusal) in the access log.
    content = quote("/versions/00000000-0000-0000-0000-000000000001/content?action=download")
    again = zhang.get(f"/language/zh_CN?next={content}")
    assert again.headers["Location"] == "/"  # type: ignore[attr-defined]
    reader = zhang.get("/language/zh_CN?next=/reader/00000000-0000-0000-0000-000000000001")
    assert reader.headers["Location"] == "/"  # type: ignore[attr-defined]


def test_signed_out_pages_go_to_sign_in(world: World) -> None:
    browser = world.app.test_client()
    for path in PAGES:
        response = browser.get(path, base_url=BASE)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_search_request_approve_read(world: World, people: dict[str, Browser]) -> None:
    zhang, wang = people["zhang"], people["wang"]
    record_id = world.records["CG-confidential"]
    # Found by its description; its text is not searched for someone who may not read it.
    assert f"/records/{record_id}" not in zhang.text("/search?q=正文")
    found = zhang.text("/search?q=档案")
    assert f"/records/{record_id}" in found
    page = zhang.text(f"/records/{record_id}")
    assert "申请利用" in page
    assert "华东仓储改造项目CG-confidential" in page
    refused = zhang.get(f"/reader/{world.versions['CG-confidential']}")  # type: ignore[attr-defined]
    assert refused.status_code == 403
    said = refused.get_data(as_text=True)
    assert "无此档案的查阅授权" in said
    assert f'href="/records/{record_id}#ask"' in said
    with world.arc.sessions() as session:  # refused at the reader page: logged as a read
        line = session.scalars(select(AccessEvent).order_by(AccessEvent.seq.desc())).first()
    assert line is not None
    assert (line.username, line.action, line.outcome) == ("zhang", "view", "refused")
    assert line.version_id == str(world.versions["CG-confidential"])
    zhang.post(f"/records/{record_id}/request", {"purpose": "审计抽查", "scope": "view", "days": 3})
    assert "待审批" in zhang.text("/requests")

    inbox = wang.text("/inbox")
    assert "审计抽查" in inbox
    assert "华东仓储改造项目CG-confidential-2026-05" in inbox  # two 验收报告 told apart
    request_id = re.search(r"/inbox/([0-9a-f-]{36})/approve", inbox)
    assert request_id
    wang.post(f"/inbox/{request_id[1]}/deny", {"reason": ""}, status=400)  # a reason is needed
    wang.post(f"/inbox/{request_id[1]}/approve", {})
    assert "没有待您审批的申请" in wang.text("/inbox")
    found = zhang.text("/search?q=正文")
    assert f"/records/{record_id}" in found  # the grant opens its text
    assert "已获准查看，至 " in found  # and the hit says so, with when it ends
    assert "待审批" not in found

    version = world.versions["CG-confidential"]
    reader = zhang.text(f"/reader/{version}")
    assert f"/versions/{version}/content?action=view" in reader
    assert "文本开头印有您的姓名、IP 地址和时间" in reader  # a text: no pages to stamp
    assert "每页" not in reader
    content = zhang.get(f"/versions/{version}/content?action=view")
    assert content.status_code == 200  # type: ignore[attr-defined]
    assert content.headers["X-Frame-Options"] == "SAMEORIGIN"  # type: ignore[attr-defined]
    # A text record is viewed as its text under the stamp (PDFs are stamped on every page).
    text = content.data.decode()  # type: ignore[attr-defined]
    assert "用户zhang" in text
    assert "北京时间" in text
    assert "正文 CG-confidential" in text
    # Download is not in a view grant: refused, and the refusal logged for the auditor.
    assert zhang.get(f"/versions/{version}/content?action=download").status_code == 403  # type: ignore[attr-defined]
    log = people["zhou"].text(f"/audit/access-log?record={record_id}&outcome=refused")
    assert "用户zhang" in log  # by name
    assert "授权不含“下载”" in log  # why, in words
    csv = people["zhou"].get(f"/audit/access-log?record={record_id}&format=csv")
    assert csv.data.decode().count("\n") >= 3  # type: ignore[attr-defined]


def test_the_requester_sees_why_a_request_was_refused(
    world: World, people: dict[str, Browser]
) -> None:
    zhang, wang = people["zhang"], people["wang"]
    record_id = world.records["CG-confidential"]
    zhang.post(f"/records/{record_id}/request", {"purpose": "对外提供", "scope": "view", "days": 3})
    request_id = re.search(r"/inbox/([0-9a-f-]{36})/deny", wang.text("/inbox"))
    assert request_id
    wang.post(f"/inbox/{request_id[1]}/deny", {"reason": "对外提供须经法务审核"})
    mine = zhang.text("/requests")
    assert "已拒绝" in mine
    assert "理由：对外提供须经法务审核" in mine


def test_green_channel_shows_what_is_owed(world: World, people: dict[str, Browser]) -> None:
    wang = people["wang"]
    record_id = world.records["CG-confidential"]
    wang.post(
        "/emergency", {"record_id": str(record_id), "justification": "客户投诉紧急核查", "hours": 4}
    )
    page = wang.text("/emergency")
    assert "客户投诉紧急核查" in page
    assert "客户投诉紧急核查" in people["qian"].text("/inbox")  # a director approves it


def test_upload_many_then_follow_the_batch(world: World, people: dict[str, Browser]) -> None:
    zhang = people["zhang"]
    files = [
        (io.BytesIO("会议纪要：仓储改造进度".encode()), "纪要.txt"),
        (io.BytesIO(b"\x00\x01 not a document"), "broken.pdf"),
    ]
    body = zhang.post(
        "/upload",
        {"files": files, "project": "华东仓储改造项目", "date": "2026-11"},
        status=202,
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    job_ids = json.loads(body)["jobs"]
    assert len(job_ids) == 2
    batch = zhang.text(f"/jobs?ids={','.join(job_ids)}")
    assert batch.count('data-final="no"') == 2
    assert '"state">排队中' in batch
    for job_id in job_ids:
        process(world.arc, uuid.UUID(job_id))
    status = zhang.get(f"/jobs/status.json?ids={','.join(job_ids)}").json  # type: ignore[attr-defined]
    states = {job["filename"]: job for job in status["jobs"]}
    assert states["纪要.txt"]["status"] == "stored"
    assert states["纪要.txt"]["final"]
    assert states["broken.pdf"]["status"] == "quarantined"
    assert states["broken.pdf"]["reason"]
    # Fix and retry: the right file under the same job.
    broken = states["broken.pdf"]["id"]
    zhang.post(
        f"/jobs/{broken}/retry",
        {"file": (io.BytesIO(samples.pdf(["整改报告 第一页"])), "fixed.pdf")},
        content_type="multipart/form-data",
    )
    process(world.arc, uuid.UUID(broken))
    with world.arc.sessions() as session:
        job = session.get(IngestJob, uuid.UUID(broken))
        assert job is not None
        assert job.status == IngestStatus.STORED, (job.failed_check, job.reason)
    # Someone else's job is not theirs to see.
    assert people["li"].get(f"/jobs/status.json?ids={broken}").json["jobs"] == []  # type: ignore[attr-defined]


def test_files_sent_together_under_one_title_are_records_of_their_own(
    world: World, people: dict[str, Browser]
) -> None:
    """The batch's 题名 is every file's: two different reports must not become 1.0 and 1.1
    of one record because they share it. One file alone still versions its namesake."""
    zhang = people["zhang"]
    typed = {"project": "华东仓储改造项目", "date": "2026-11", "title": "验收报告"}

    def sent(*names: str) -> list[uuid.UUID]:
        files = [(io.BytesIO(f"{name} 的内容".encode()), name) for name in names]
        body = zhang.post("/upload", {"files": files, **typed}, status=202,
                          headers={"Accept": "application/json"},
                          content_type="multipart/form-data")  # fmt: skip
        jobs = [uuid.UUID(j) for j in json.loads(body)["jobs"]]
        for job_id in jobs:
            assert process(world.arc, job_id) == IngestStatus.STORED
        with world.arc.sessions() as session:
            return [session.get_one(IngestJob, j).record_id for j in jobs]  # type: ignore[misc]

    first, second = sent("年度财务报告.txt", "验收报告.txt")
    assert first != second
    with world.arc.sessions() as session:
        names = {session.get_one(Record, r).name_stem for r in (first, second)}
    assert names == {"华东仓储改造项目-2026-11", "华东仓储改造项目(2)-2026-11"}
    (again,) = sent("验收报告-修订.txt")  # alone: the next version of the newest namesake
    assert again == second


def test_the_same_content_in_another_record_is_flagged_on_the_batch(
    world: World, people: dict[str, Browser]
) -> None:
    """A file byte for byte like one already filed elsewhere is stored as its own record,
    as the README promises, but nothing said so: the batch page names the other."""
    zhang = people["zhang"]
    content = "采购合同 第一稿".encode()
    job_ids = []
    for project in ("华东仓储改造项目", "西南物流项目"):
        body = zhang.post("/upload",
                          {"files": [(io.BytesIO(content), "合同.txt")], "project": project,
                           "date": "2026-11"},
                          status=202, headers={"Accept": "application/json"},
                          content_type="multipart/form-data")  # fmt: skip
        (job_id,) = json.loads(body)["jobs"]
        assert process(world.arc, uuid.UUID(job_id)) == IngestStatus.STORED
        job_ids.append(job_id)
    status = zhang.get(f"/jobs/status.json?ids={','.join(job_ids)}").json  # type: ignore[attr-defined]
    same = {job["id"]: job["same_as"] for job in status["jobs"]}
    assert same[job_ids[0]] is None
    assert (
        same[job_ids[1]]
        == "内容与 华东仓储改造项目-2026-11-1.0 相同（属另一份档案）：已作为单独的档案保存。"
    )
    assert "内容与 华东仓储改造项目-2026-11-1.0 相同" in zhang.text(f"/jobs?ids={job_ids[1]}")


def test_an_upload_the_rules_raise_beyond_the_uploaders_view_says_so(
    world: World, people: dict[str, Browser]
) -> None:
    """A contract is restricted whatever the uploader chose: the batch page said 已入库 and
    linked to a record page that answered 未找到."""
    seed_default_rules(world.arc, Actor.cli())  # as `archive init` does
    zhang = people["zhang"]
    body = zhang.post(
        "/upload",
        {"files": [(io.BytesIO("采购合同 甲方 乙方 违约金".encode()), "合同.txt")],
         "project": "华东仓储改造项目", "date": "2026-11", "sensitivity": "internal"},
        status=202,
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )  # fmt: skip
    job_id = json.loads(body)["jobs"][0]
    process(world.arc, uuid.UUID(job_id))
    job = zhang.get(f"/jobs/status.json?ids={job_id}").json["jobs"][0]  # type: ignore[attr-defined]
    assert job["status"] == "stored"
    assert job["record_url"] is None  # no link to a page that would answer 未找到
    assert "其密级定为机密" in job["note"]  # 机密: restricted, as contracts always are
    page = zhang.text(f"/jobs?ids={job_id}")
    assert "超出您可查看的范围" in page
    with world.arc.sessions() as session:
        stored = session.get(IngestJob, uuid.UUID(job_id))
        assert stored is not None
        record_id = stored.record_id
    assert f"/records/{record_id}" not in page


def test_records_manager_rules_review_and_retention(
    world: World, people: dict[str, Browser]
) -> None:
    sun = people["sun"]
    trial = sun.post(
        "/rules",
        {
            "action": "test",
            "name": "质保 warranty",
            "keywords": "质保书",
            "record_type": "warranty",
            "priority": 5,
            "confidence": 0.9,
            "enabled": "on",
            "sample": "本质保书自验收之日起生效",
            "filename": "a.txt",
        },
        status=200,
    )
    assert "质保 warranty" in trial
    assert "warranty" in trial
    sun.post(
        "/rules",
        {
            "action": "save",
            "name": "质保 warranty",
            "keywords": "质保书",
            "record_type": "warranty",
            "priority": 5,
            "confidence": 0.9,
            "enabled": "on",
        },
    )
    rules = sun.text("/rules")
    assert "质保书" in rules
    assert re.search(r'<option value="finance"\s*>财务管理</option>', rules)  # chosen, not typed
    sun.post("/rules", {"action": "save", "name": "bad", "pattern": "(", "priority": 1}, status=400)

    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
        record = session.get(Record, world.records["XS-internal"])
        assert record is not None
        record.needs_review = True
    assert "档案 XS-internal" in sun.text("/classification-review")
    assert "尚未编号：分类待人工审核" in sun.text(f"/records/{world.records['XS-internal']}")
    sun.post(
        "/classification-review",
        {
            "record_id": str(world.records["XS-internal"]),
            "process": "finance",
            "record_type": "voucher",
            "sensitivity": "internal",
        },
    )
    assert "没有待复核的档案" in sun.text("/classification-review")
    settled = sun.text(f"/records/{world.records['XS-internal']}")
    assert "D30" in settled
    assert "KJ·2026-D30-XS-0001-0001" in settled  # its 档号: a voucher, in its month volume

    sun.post(
        "/retention/holds",
        {
            "name": "税务稽查",
            "reason": "2026 稽查",
            "scope": "records",
            "record_ids": str(world.records["XS-internal"]),
        },
    )
    holds = sun.text("/retention/holds")
    assert "税务稽查" in holds
    assert "税务稽查" in sun.text(f"/records/{world.records['XS-internal']}")
    due = sun.text("/retention/due?months=600")
    assert "<svg" in due
    assert "每月到期档案数" in due


def test_disposition_list_is_signed_and_executed(world: World, people: dict[str, Browser]) -> None:
    sun = people["sun"]
    record_id = world.records["CG-public"]
    with world.arc.transaction() as session:  # an application form filed in 2010: D10, due
        seed_default_plan(session, Actor.cli())
        record = session.get(Record, record_id)
        assert record is not None
        record.record_type, record.filed_on, record.retention_dirty = (
            "application",
            date(2010, 3, 1),
            True,
        )
    refresh_dirty(world.arc)
    assert "2020-12-31" in sun.text(f"/records/{record_id}")
    sun.post(
        "/retention/lists",
        {
            "action": "destroy",
            "record_ids": str(record_id),
            "opinion": "已过保管期限，经鉴定无保存价值",
        },
    )
    with world.arc.sessions() as session:
        from archive.models import DispositionList

        list_id = session.scalar(select(DispositionList.id))
    sun.post(f"/retention/lists/{list_id}/submit", {})
    confirm = {"confirm_password": PASSWORD}
    sun.post(f"/retention/lists/{list_id}/execute", confirm, status=409)  # no signatures yet
    # Signing and executing are irreversible: the signer's own password again, every time.
    sun.post(f"/retention/lists/{list_id}/sign", {"opinion": "同意"}, status=403)
    wrong = {"opinion": "同意", "confirm_password": "not the password"}
    sun.post(f"/retention/lists/{list_id}/sign", wrong, status=403)
    for name in ("sun", "wang", "qian"):
        page = people[name].text(f"/retention/lists/{list_id}")
        assert "签字" in page
        people[name].post(f"/retention/lists/{list_id}/sign", {"opinion": "同意", **confirm})
    assert people["li"].get(f"/retention/lists/{list_id}").status_code == 403  # type: ignore[attr-defined]
    sun.post(f"/retention/lists/{list_id}/execute", {}, status=403)
    assert "已执行" not in sun.text(f"/retention/lists/{list_id}")
    sun.post(f"/retention/lists/{list_id}/execute", confirm)
    done = sun.text(f"/retention/lists/{list_id}")
    assert "已执行" in done
    certificate = sun.get(f"/retention/lists/{list_id}/certificate.csv")
    assert "用户wang" in certificate.data.decode()  # type: ignore[attr-defined]


def test_auditor_sees_alerts_and_an_intact_chain(people: dict[str, Browser]) -> None:
    zhou = people["zhou"]
    assert "完整" in zhou.text("/audit/chain")
    assert "异常访问" in zhou.text("/audit/alerts")


def test_the_quarterly_sample_is_drawn_and_downloaded_in_the_browser(
    world: World, people: dict[str, Browser]
) -> None:
    sun = people["sun"]
    quarter = f"{date.today().year}Q{(date.today().month - 1) // 3 + 1}"
    assert "尚未抽检" in sun.text("/audit/samples")
    sun.post("/audit/samples", {"quarter": quarter, "size": "3"})
    page = sun.text("/audit/samples")
    assert f"{quarter}：抽取 3 份档案，发现 0 项；其中 3 份有未能运行的检测项（见报告）" in page
    assert '<input name="quarter" required value="' + quarter in page  # this quarter offered
    sun.post("/audit/samples", {"quarter": quarter.replace("Q", "年第") + "季度", "size": "3"})
    again = sun.text("/audit/samples")  # 2026年第4季度 is the same quarter; the first draw kept
    assert "（较早一次抽取）" in again
    name = f"audit-sample-{quarter}"
    assert f"/audit/samples/{name}.pdf" in page
    report = people["zhou"].get(f"/audit/samples/{name}.csv")
    assert report.status_code == 200  # type: ignore[attr-defined]
    assert "档号 Reference code" in report.data.decode("utf-8-sig")  # type: ignore[attr-defined]
    report.close()  # type: ignore[attr-defined]  # the file it streamed
    assert people["zhou"].get("/audit/samples/..%2Fkeyring.json").status_code == 404  # type: ignore[attr-defined]
    assert people["zhang"].get(f"/audit/samples/{name}.pdf").status_code == 403  # type: ignore[attr-defined]
    refused = sun.post("/audit/samples", {"quarter": "2026Q9", "size": "3"}, status=400)
    assert "2026Q3" in refused  # the error names the form it wants, beside the field
    assert 'value="2026Q9"' in refused
    with world.arc.sessions() as db:
        drawn = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.sample")).all()
    assert [e.object_id for e in drawn] == [quarter, quarter]  # each draw audited, one name


def test_admin_manages_people_and_every_change_is_audited(
    world: World, people: dict[str, Browser]
) -> None:
    wu = people["wu"]
    wu.post(
        "/admin/users",
        {
            "username": "chen",
            "display_name": "陈会计",
            "role": "specialist",
            "department": "CG",
            "clearance": "internal",
            "password": "a long enough password",
        },
    )
    promotion = {
        "username_existing": "chen",
        "role": "supervisor",
        "department": "CG",
        "clearance": "confidential",
    }
    wu.post("/admin/users", promotion, status=403)  # a privileged role: the password again
    wu.post("/admin/users", {**promotion, "confirm_password": PASSWORD})
    listed = wu.text("/admin/users")
    assert "已送审" in listed  # 三员分立: it waits for a security administrator
    assert re.search(r"陈会计<br>.*?有变更待审批", listed)  # and the table says so on chen's row
    wu.post("/admin/users", {"username": "x", "role": "specialist"}, status=400)
    own = {"username_existing": "wu", "role": "auditor", "confirm_password": PASSWORD}
    wu.post("/admin/users", own, status=400)
    waiting = people["zheng"].text("/admin/privileges")
    change = re.search(r"/admin/privileges/(\d+)/approve", waiting)
    assert change
    approved = people["zheng"].post(
        f"/admin/privileges/{change[1]}/approve", {"confirm_password": PASSWORD}, status=200
    )
    assert "一次性密码" in approved  # chen becomes privileged: wu's password no longer opens it
    for reader in ("wu", "zheng", "zhou"):
        changes = people[reader].text("/admin/changes")
        assert "user.role_changed" in changes
        assert "user.clearance_changed" in changes
        assert "privilege.requested" in changes
        assert "privilege.approved" in changes
    wu.post(
        "/admin/users",
        {
            "username_existing": "chen",
            "role": "supervisor",
            "department": "CG",
            "clearance": "confidential",
        },
    )  # unticked: blocked
    with world.arc.sessions() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.ip.is_not(None))).all()
    assert "user.deactivated" in actions
    assert login(world.app.test_client(), "chen", "a long enough password") == 401


def test_records_manager_edits_schedules_events_and_sweeps(
    world: World, people: dict[str, Browser]
) -> None:
    sun = people["sun"]
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
    sun.post(
        "/retention/schedules",
        {
            "key": "warranty",
            "name": "质保书",
            "code": "D5",
            "trigger": "event",
            "events": "contract_terminated",
            "disposal": "destroy",
            "record_type": "warranty",
            "basis": "公司制度",
        },
    )
    schedules = sun.text("/retention/schedules")
    assert "质保书" in schedules
    assert "D5" in schedules
    sun.post("/retention/schedules", {"key": "bad", "name": "x", "code": "Q9"}, status=400)
    sun.post(
        "/retention/events",
        {
            "event_type": "project_accepted",
            "occurred_on": "2026-06-30",
            "project": "华东仓储改造项目CG-public",
            "note": "验收通过",
        },
    )
    events = sun.text("/retention/events")
    assert "验收通过" in events
    event_id = re.search(r'name="void" value="(\d+)"', events)
    assert event_id
    sun.post("/retention/events", {"void": event_id[1], "reason": "录入错误"})
    assert "已作废：录入错误" in sun.text("/retention/events")
    sun.post("/retention/lists", {"sweep": "1"})
    assert "扫描完成" in sun.text("/retention/lists")


def test_the_record_page_tells_the_documents_date_from_its_filing(
    world: World, people: dict[str, Browser]
) -> None:
    """归档日期 is when the archive took it in (what the search's 归档日期 filter looks at);
    the document's own date (its retention counts from it) is 文件日期."""
    page = people["zhang"].text(f"/records/{world.records['CG-internal']}")
    # Filed as "2026-05": the month as given, never a day nobody gave (its retention counts
    # from the month's end, and the page says so).
    assert re.search(
        r"<dt>文件日期</dt><dd>2026-05 <small[^>]*>（未给出日；保管期限自该月末起算）", page
    )
    assert "2026-05-31" not in page
    filed = re.search(r"<dt>归档日期</dt><dd>(\d{4}-\d{2}-\d{2}) \d{2}:\d{2}</dd>", page)
    assert filed
    assert filed[1] != "2026-05-31"


def test_form_fields_say_what_they_take_and_the_browser_can_check_them(
    world: World, people: dict[str, Browser]
) -> None:
    """A user-name pattern the browser rejected as invalid (``[\\w.@-]`` under the v flag)
    checked nothing, and would have refused 张三 (``\\w`` is ASCII in JavaScript) had it
    worked; a 期限代码 or 年度 typed as 1年 / 2025年 met only the browser's generic message."""
    users = people["wu"].text("/admin/users")
    assert 'name="username" required minlength="2"' in users
    assert 'pattern="[\\w' not in users
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
    schedules = people["sun"].text("/retention/schedules")
    assert 'title="永久填 Y；定期填 D 加年数，如 D10、D30"' in schedules
    assert "（期限表第 1 版）" in schedules  # not "· v1"
    catalogue = people["sun"].text("/retention/catalogue")
    assert 'title="四位数字的年度，如 2025"' in catalogue
