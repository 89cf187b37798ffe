"""Each user group's everyday journey in Debian's Chromium, the way a newcomer works: from the
home page, through the navigation, links, check boxes and the record picker, never by typing a
URL or an id, checking what the person reads in Chinese.

The words are the catalogue's (``zh``), so a test reads like the page and fails when a page
shows the English msgid or a raw code instead."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.support import Translations

from archive.audit import Actor, record_event
from archive.models import AccessRequest, Record, RequestStatus
from archive.vocabulary import action_label, term
from search.indexer import flush
from tests.access.conftest import make_world, serving
from tests.access.test_web import give_password
from tests.conftest import make_environ

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
CATALOGUE = Translations.load(
    str(Path(__file__).resolve().parents[2] / "access" / "translations"), ["zh_Hans_CN"]
)


def zh(msgid: str, **values: object) -> str:
    """What the page says in Chinese for ``msgid`` (the catalogue must have it)."""
    said = CATALOGUE.gettext(msgid)
    assert said != msgid, f"no Chinese for {msgid!r}"
    return said % values if values else said


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    folder = tmp_path_factory.mktemp("journeys")
    world = make_world(folder)
    for username in ("zhang", "wang", "sun", "zhou", "wu"):
        give_password(world, username, PASSWORD)
    flush(world.arc)  # the index holds what was stored, as the running writer would
    env = make_environ(folder / "home", "sqlite", "local")
    with serving(env) as base:
        yield base, world
    world.arc.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where pictures go: ``docs/screenshots/`` with ``ARCHIVE_SCREENSHOTS=1`` (the README's)."""
    if os.environ.get("ARCHIVE_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    return tmp_path_factory.mktemp("shots")


def signed_in(chromium: Any, base: str, username: str) -> Any:
    """A new browser at the home page, signed in through the form."""
    context = chromium.new_context(
        base_url=base, locale="zh-CN", viewport={"width": 1280, "height": 860}
    )
    page = context.new_page()
    page.goto("/")  # the one address a newcomer is given
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def menu(page: Any, label: str) -> None:
    page.locator("nav").get_by_role("link", name=zh(label), exact=True).click()


def test_specialist_browses_ticks_two_and_asks_for_both(
    site: tuple[str, Any], chromium: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    base, world = site
    zhang = signed_in(chromium, base, "zhang")
    menu(zhang, "Search")
    expect(zhang.locator("main")).not_to_contain_text("找到 0")  # nothing asked yet
    titles = zhang.locator(".hits .title")
    expect(titles.first).to_be_visible()
    assert "档案 XS-restricted" not in titles.all_inner_texts()  # another department's secret
    for title in ("档案 CG-confidential", "档案 CG-internal"):
        zhang.locator(".hits li", has_text=title).get_by_role("checkbox").check()
    zhang.get_by_text(zh("Ask for access"), exact=True).click()
    zhang.get_by_label(zh("Purpose")).fill("2026年第四季度合同复核")
    zhang.screenshot(path=str(shots / "search-selected.png"), full_page=True)
    zhang.get_by_role("button", name=zh("Ask for access to each")).click()
    sent = (
        "%(done)s requests sent, each waiting for approval; %(refused)s not sent (the reasons "
        "are below)."
    )
    expect(zhang.locator("p.total")).to_have_text(zh(sent, done=2, refused=0))

    zhang.locator("table a", has_text="CG-confidential").first.click()
    expect(zhang.locator("[data-request=pending]")).to_contain_text(term("pending"))
    expect(zhang.locator("summary")).not_to_have_text(zh("Ask for access"))
    with world.arc.sessions() as db:
        asked = db.query(AccessRequest).filter_by(status=RequestStatus.PENDING).count()
    assert asked == 2


def test_supervisor_follows_the_home_page_to_the_requests_and_approves(
    site: tuple[str, Any], chromium: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    base, _world = site
    wang = signed_in(chromium, base, "wang")
    waiting = wang.locator("#waiting a[data-kind=decide]")
    decide = CATALOGUE.ngettext("request waits for your decision", "requests wait…", 2)
    expect(waiting).to_contain_text(f"2 {decide}")
    wang.screenshot(path=str(shots / "home.png"))
    waiting.click()
    rows = wang.locator("table.inbox tbody tr", has_text="2026年第四季度合同复核")
    expect(rows).to_have_count(2)
    rows.first.get_by_role("button", name=zh("Approve")).click()
    expect(wang.locator(".flash.ok")).to_be_visible()
    expect(wang.locator("table.inbox tbody tr", has_text="2026年第四季度合同复核")).to_have_count(1)


def test_records_manager_holds_a_record_from_the_search_results(
    site: tuple[str, Any], chromium: Any
) -> None:
    from playwright.sync_api import expect

    base, _world = site
    sun = signed_in(chromium, base, "sun")
    menu(sun, "Search")
    sun.locator(".hits li", has_text="档案 CG-public").get_by_role("checkbox").check()
    sun.get_by_text(zh("Place or extend a hold"), exact=True).click()
    sun.get_by_label(zh("Name of a new hold")).fill("合同纠纷诉讼保全")
    sun.get_by_label(zh("Reason of a new hold")).fill("（2026）沪0115民初123号")
    sun.get_by_role("button", name=zh("Hold them")).click()
    expect(sun.locator("p.total")).to_have_text(
        zh("%(done)s done, %(refused)s not done (the reasons are below).", done=1, refused=0)
    )
    menu(sun, "Holds")
    expect(sun.locator("main table")).to_contain_text("合同纠纷诉讼保全")


def test_auditor_picks_a_record_and_reads_its_access_log(
    site: tuple[str, Any], chromium: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    base, world = site
    zhou = signed_in(chromium, base, "zhou")
    menu(zhou, "Access log")
    expect(zhou.locator("h1")).to_have_text(zh("Access log"))
    picker = zhou.locator("[data-record-picker] input[data-picker-input]").first
    picker.press_sequentially("CG-confidential", delay=30)
    option = zhou.get_by_role("option", name="CG-confidential")
    expect(option.first).to_be_visible()
    zhou.screenshot(path=str(shots / "picker.png"))
    picker.press("ArrowDown")
    picker.press("Enter")
    zhou.get_by_role("button", name=zh("Filter")).click()
    expect(zhou.locator("table.log")).to_contain_text("用户zhang")  # who, by name: the search row
    with world.arc.sessions() as db:
        picked = db.get_one(Record, world.records["CG-confidential"])
        known_as = picked.reference_code or picked.name_stem
    cells = zhou.locator("table.log tbody tr td:nth-child(6)")
    assert set(cells.all_inner_texts()) == {known_as}  # only that record, by its 档号
    with world.arc.transaction() as db:  # values with no place to break, as filing leaves
        record_event(
            db,
            Actor.cli(),
            "ingest.stored",
            "record",
            str(picked.id),
            {"sha256": "9f" * 32, "source_path": "var/inbox/CG/" + "热文件夹项目" * 12 + ".pdf"},
        )
    menu(zhou, "Audit trail")
    expect(zhou.locator("main table")).to_contain_text(action_label("access.request"))
    # Read at 1,280 pixels without scrolling sideways: long values wrap inside their cell.
    assert zhou.evaluate("document.documentElement.scrollWidth") <= 1280


def test_administrator_is_told_on_the_form_then_adds_the_person(
    site: tuple[str, Any], chromium: Any, shots: Path
) -> None:
    from playwright.sync_api import expect

    base, _world = site
    wu = signed_in(chromium, base, "wu")
    menu(wu, "Users")
    new = wu.locator("form", has=wu.locator("input[name=username]"))
    new.get_by_label(zh("User name")).fill("chen")
    new.get_by_label(zh("Display name")).fill("陈新人")
    new.locator("input[name=password]").fill(PASSWORD)
    new.get_by_role("button", name=zh("Create")).click()  # a specialist, but no department
    problem = wu.locator(".field-problem").first
    expect(problem).to_be_visible()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem.inner_text())  # said in Chinese
    wu.screenshot(path=str(shots / "form-refused.png"))
    new = wu.locator("form", has=wu.locator("input[name=username]"))
    expect(new.get_by_label(zh("User name"))).to_have_value("chen")  # what was typed is kept
    expect(new.get_by_label(zh("Display name"))).to_have_value("陈新人")
    new.get_by_label(zh("Department")).select_option(label="采购")
    new.locator("input[name=password]").fill(PASSWORD)
    new.get_by_role("button", name=zh("Create")).click()
    expect(wu.locator("main table")).to_contain_text("陈新人")

    wu.get_by_role("link", name="English").click()
    expect(wu.locator("h1")).to_have_text("Users")
    wu.get_by_role("link", name="中文").click()
    expect(wu.locator("h1")).to_have_text(zh("Users"))
