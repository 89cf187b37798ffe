"""End to end in a real browser: Playwright drives Debian's Chromium (no downloaded browser)
against ``archive run`` (web, workers, index writer, beat) on a loopback port.

Screenshots of the main pages go to a temporary folder, or to ``docs/screenshots/`` when
``ARCHIVE_SCREENSHOTS=1`` (how the README's pictures are made).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from archive.audit import Actor
from archive.config import load_settings
from archive.content import NewRecord, RenditionSource, store
from archive.core import Archive
from archive.models import Disposal, Record, Role, Sensitivity
from archive.people import create_user, find_department, find_user
from retention import disposition
from retention.status import refresh_dirty
from search.indexer import flush
from tests.access.conftest import serving
from tests.conftest import make_environ
from tests.ingest import samples

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
PEOPLE = {
    "zhang": (Role.SPECIALIST, "CG", "张专员"),
    "wang": (Role.SUPERVISOR, "CG", "王主管"),
    "qian": (Role.DIRECTOR, "CG", "钱总监"),
    "sun": (Role.RECORDS_MANAGER, "CG", "孙档案"),
    "zhou": (Role.AUDITOR, "CG", "周审计"),
    "wu": (Role.ADMIN, "CG", "吴管理"),
}


def _prepare(env: dict[str, str]) -> dict[str, object]:
    """People, a contract to find, and an application form filed in 2010 on a signed list."""
    subprocess.run(
        [sys.executable, "-m", "access", "init"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    arc = Archive(load_settings(env))
    try:
        with arc.transaction() as session:
            for username, (role, dept, name) in PEOPLE.items():
                create_user(
                    session,
                    Actor.cli(),
                    username,
                    role,
                    find_department(session, dept),
                    Sensitivity.CONFIDENTIAL,
                    PASSWORD,
                    name,
                )
        found = store(
            arc,
            io.BytesIO("华东仓储改造项目 会议纪要 绿色通道 仓储改造进度".encode()),
            actor=Actor.cli(),
            original_filename="纪要.txt",
            media_type="text/plain",
            new_record=NewRecord(
                project="华东仓储改造项目",
                title="仓储改造第三次会议纪要",
                when="2026-05",
                department="CG",
                sensitivity=Sensitivity.CONFIDENTIAL,
            ),
            renditions=[
                RenditionSource("text", "text/plain", io.BytesIO("仓储改造进度 会议纪要".encode()))
            ],
        )
        old = store(
            arc,
            io.BytesIO("立项申请表 2010".encode()),
            actor=Actor.cli(),
            original_filename="申请表.txt",
            media_type="text/plain",
            new_record=NewRecord(
                project="老仓库项目",
                title="2010年立项申请表",
                when="2010-03",
                department="CG",
                sensitivity=Sensitivity.INTERNAL,
            ),
        )
        with arc.transaction() as session:
            record = session.get(Record, old.record_id)
            assert record is not None
            record.record_type, record.filed_on, record.retention_dirty = (
                "application",
                date(2010, 3, 1),
                True,
            )
        refresh_dirty(arc)
        with arc.transaction() as session:
            lst = disposition.create_list(
                session, Actor.cli(), Disposal.DESTROY, [old.record_id], "已过保管期限，无保存价值"
            )
            disposition.submit(session, Actor.cli(), lst)
            for signer in ("wang", "qian"):
                person = find_user(session, signer)
                disposition.sign(
                    session, Actor.of(person), arc.settings.retention, lst, person, None, "同意"
                )
            list_id = lst.id
        flush(arc)
        return {"record": str(found.record_id), "list": list_id}
    finally:
        arc.close()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, object]]]:
    env = make_environ(tmp_path_factory.mktemp("browser") / "home", "sqlite", "local")
    facts = _prepare(env)
    with serving(env) as base:
        yield base, facts


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("ARCHIVE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser(chromium: object) -> object:
    return chromium


def signed_in(browser: object, base: str, username: str) -> object:
    context = browser.new_context(
        base_url=base,
        viewport={"width": 1280, "height": 860},  # type: ignore[attr-defined]
        locale="zh-CN",
    )
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def test_specialist_asks_head_approves_specialist_reads(
    running: tuple[str, dict[str, object]], browser: object, shots: Path
) -> None:
    from playwright.sync_api import expect

    base, facts = running
    zhang = signed_in(browser, base, "zhang")
    zhang.goto("/search")  # type: ignore[attr-defined]
    zhang.fill("input[name=q]", "仓储改造")  # type: ignore[attr-defined]
    zhang.click("form[role=search] button[type=submit]")  # type: ignore[attr-defined]
    expect(zhang.locator(".hits .title").first).to_have_text("仓储改造第三次会议纪要")  # type: ignore[attr-defined]
    zhang.screenshot(path=str(shots / "search.png"))  # type: ignore[attr-defined]
    zhang.click(".hits .title")  # type: ignore[attr-defined]
    expect(zhang.locator("h1")).to_have_text("仓储改造第三次会议纪要")  # type: ignore[attr-defined]
    zhang.fill("textarea[name=purpose]", "审计抽查 2026年第三季度")  # type: ignore[attr-defined]
    zhang.screenshot(path=str(shots / "record.png"), full_page=True)  # type: ignore[attr-defined]
    zhang.click("text=提交申请")  # type: ignore[attr-defined]
    expect(zhang.locator(".flash.ok")).to_contain_text("申请已提交")  # type: ignore[attr-defined]

    wang = signed_in(browser, base, "wang")
    wang.goto("/inbox")  # type: ignore[attr-defined]
    expect(wang.locator("table.inbox")).to_contain_text("审计抽查")  # type: ignore[attr-defined]
    wang.screenshot(path=str(shots / "inbox.png"))  # type: ignore[attr-defined]
    wang.click("button:has-text('批准')")  # type: ignore[attr-defined]
    expect(wang.locator(".flash.ok")).to_contain_text("已批准")  # type: ignore[attr-defined]

    zhang.goto(f"/records/{facts['record']}")  # type: ignore[attr-defined]
    zhang.click("a:has-text('阅读')")  # type: ignore[attr-defined]
    frame = zhang.frame_locator("iframe.reader")  # type: ignore[attr-defined]
    expect(frame.locator("body")).to_contain_text("张专员")
    expect(frame.locator("body")).to_contain_text("北京时间")
    zhang.screenshot(path=str(shots / "reader.png"))  # type: ignore[attr-defined]

    zhou = signed_in(browser, base, "zhou")
    zhou.goto("/audit/access-log")  # type: ignore[attr-defined]
    expect(zhou.locator("table.log")).to_contain_text("张专员")  # type: ignore[attr-defined]
    zhou.screenshot(path=str(shots / "access-log.png"))  # type: ignore[attr-defined]


def test_operator_uploads_a_scan_and_watches_it_stored(
    running: tuple[str, dict[str, object]], browser: object, shots: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    base, _facts = running
    scan = tmp_path / "华东仓储改造项目-2026-11-1.0.png"
    scan.write_bytes(samples.image("仓储改造验收报告 扫描件"))
    zhang = signed_in(browser, base, "zhang")
    zhang.goto("/upload")  # type: ignore[attr-defined]
    zhang.set_input_files("input[name=files]", str(scan))  # type: ignore[attr-defined]
    zhang.screenshot(path=str(shots / "upload.png"))  # type: ignore[attr-defined]
    zhang.click("#upload-form button[type=submit]")  # type: ignore[attr-defined]
    zhang.wait_for_url("**/jobs?ids=*")  # type: ignore[attr-defined]
    state = zhang.locator("[data-field=state]").first  # type: ignore[attr-defined]
    expect(state).to_have_text("已入库", timeout=120_000)
    expect(zhang.locator("[data-field=result] a")).to_contain_text("华东仓储改造项目-2026-11-1.0")  # type: ignore[attr-defined]
    zhang.screenshot(path=str(shots / "batch.png"))  # type: ignore[attr-defined]


def test_an_upload_refused_for_its_date_says_so_beside_the_date(
    running: tuple[str, dict[str, object]], browser: object, tmp_path: Path
) -> None:
    """The form is sent by script (a progress bar); a refusal is the server's page, with the
    reason beside the field and what was typed kept, not a bare "upload failed"."""
    from playwright.sync_api import expect

    base, _facts = running
    note = tmp_path / "说明.txt"
    note.write_text("仓储改造说明", encoding="utf-8")
    zhang = signed_in(browser, base, "zhang")
    zhang.goto("/upload")  # type: ignore[attr-defined]
    zhang.set_input_files("input[name=files]", str(note))  # type: ignore[attr-defined]
    zhang.fill("input[name=date]", "2026-02-30")  # type: ignore[attr-defined]
    zhang.fill("input[name=project]", "日期有误项目")  # type: ignore[attr-defined]
    zhang.click("#upload-form button[type=submit]")  # type: ignore[attr-defined]
    expect(zhang.locator("#problem-date")).to_contain_text("“2026-02-30”不是有效日期")  # type: ignore[attr-defined]
    expect(zhang.locator("input[name=date]")).to_have_value("2026-02-30")  # type: ignore[attr-defined]
    expect(zhang.locator("input[name=project]")).to_have_value("日期有误项目")  # type: ignore[attr-defined]


def test_records_manager_signs_and_executes_a_list(
    running: tuple[str, dict[str, object]], browser: object, shots: Path
) -> None:
    from playwright.sync_api import expect

    base, facts = running
    sun = signed_in(browser, base, "sun")
    sun.goto(f"/retention/lists/{facts['list']}")  # type: ignore[attr-defined]
    expect(sun.locator("h1")).to_contain_text("XH-")  # type: ignore[attr-defined]
    sun.fill("input[name=opinion]", "同意按清册销毁")  # type: ignore[attr-defined]
    signing = sun.locator("form:has(button:has-text('签字'))")  # type: ignore[attr-defined]
    signing.locator("input[name=confirm_password]").fill(PASSWORD)
    sun.click("button:has-text('签字')")  # type: ignore[attr-defined]
    expect(sun.locator("section.card").nth(1)).to_contain_text("孙档案")  # type: ignore[attr-defined]
    sun.screenshot(path=str(shots / "disposition-list.png"), full_page=True)  # type: ignore[attr-defined]
    sun.click("a:has-text('执行…')")  # type: ignore[attr-defined]  # what will happen, first
    expect(sun.locator("section.confirm")).to_contain_text("加密密钥将被销毁")  # type: ignore[attr-defined]
    sun.fill("input[name=confirm_password]", PASSWORD)  # type: ignore[attr-defined]
    sun.click("button:has-text('永久销毁')")  # type: ignore[attr-defined]
    expect(sun.locator("h1")).to_contain_text("已执行")  # type: ignore[attr-defined]
    sun.goto("/retention/due?months=600")  # type: ignore[attr-defined]
    expect(sun.locator("figure.chart svg")).to_be_visible()  # type: ignore[attr-defined]
    sun.screenshot(path=str(shots / "due-report.png"), full_page=True)  # type: ignore[attr-defined]
    sun.goto("/rules")  # type: ignore[attr-defined]
    sun.screenshot(path=str(shots / "rules.png"))  # type: ignore[attr-defined]

    wu = signed_in(browser, base, "wu")
    wu.goto("/admin/users")  # type: ignore[attr-defined]
    expect(wu.locator("table")).to_contain_text("孙档案")  # type: ignore[attr-defined]
    wu.click("a:has-text('English')")  # type: ignore[attr-defined]
    expect(wu.locator("h1")).to_have_text("Users")  # type: ignore[attr-defined]
    wu.screenshot(path=str(shots / "admin-users-en.png"))  # type: ignore[attr-defined]


def test_chromium_is_debians(browser: object) -> None:
    assert shutil.which("chromium") == CHROMIUM or Path(CHROMIUM).exists()
    assert browser.version  # type: ignore[attr-defined]
