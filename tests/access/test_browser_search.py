"""The search page in Debian's Chromium, as a newcomer works: from the home page through the
menu, browsing before typing, the words marked in the snippet, ticking rows (all at once with
the page's box) and acting on them."""

from __future__ import annotations

from pathlib import Path

from tests.access.test_browser import browser, running, shots, signed_in

__all__ = ["browser", "running", "shots"]  # the fixtures, shared with the other journeys


def test_records_manager_browses_ticks_all_and_holds_them(
    running: tuple[str, dict[str, object]], browser: object, shots: Path
) -> None:
    from playwright.sync_api import expect

    base, _facts = running
    sun = signed_in(browser, base, "sun")
    sun.click("nav.side a:has-text('检索')")  # type: ignore[attr-defined]
    expect(sun.locator(".results .total")).to_contain_text("您可查看的档案共 2 件")  # type: ignore[attr-defined]
    expect(sun.locator("main")).not_to_contain_text("找到 0")  # type: ignore[attr-defined]
    # Newest first by the document's own date: the minutes, then the 2010 application.
    expect(sun.locator(".hits .title").first).to_have_text("仓储改造第三次会议纪要")  # type: ignore[attr-defined]
    sun.check("[data-select-all]")  # type: ignore[attr-defined]
    expect(sun.locator("input[name=record]:checked")).to_have_count(2)  # type: ignore[attr-defined]
    sun.click("summary:has-text('设置或追加保全')")  # type: ignore[attr-defined]
    sun.fill("input[name=name]", "仓储合同纠纷")  # type: ignore[attr-defined]
    sun.fill("input[name=reason]", "诉讼保全，等待法院通知")  # type: ignore[attr-defined]
    sun.screenshot(path=str(shots / "search-selected.png"), full_page=True)  # type: ignore[attr-defined]
    sun.click("button:has-text('列入保全')")  # type: ignore[attr-defined]
    expect(sun.locator(".total")).to_contain_text("2 件已办理，0 件未办理")  # type: ignore[attr-defined]
    expect(sun.locator("table")).to_contain_text("已列入保全“仓储合同纠纷”")  # type: ignore[attr-defined]


def test_director_finds_the_words_marked_and_exports_the_rows(
    running: tuple[str, dict[str, object]], browser: object
) -> None:
    from playwright.sync_api import expect

    base, _facts = running
    qian = signed_in(browser, base, "qian")  # a CG director: reads CG's records
    qian.click("nav.side a:has-text('检索')")  # type: ignore[attr-defined]
    qian.fill("input[name=q]", "会议纪要")  # type: ignore[attr-defined]
    qian.click("form[role=search] button[type=submit]")  # type: ignore[attr-defined]
    expect(qian.locator(".snippet mark").first).to_have_text("会议纪要")  # type: ignore[attr-defined]
    qian.check("input[name=record]")  # type: ignore[attr-defined]
    with qian.expect_download() as waiting:  # type: ignore[attr-defined]
        qian.click("button[value=csv]")  # type: ignore[attr-defined]
    data = Path(waiting.value.path()).read_bytes()
    assert data.startswith("\ufeff".encode())
    assert "仓储改造第三次会议纪要" in data.decode("utf-8-sig")
    assert waiting.value.suggested_filename == "检索结果.csv"


def test_a_phone_sees_the_search_page_without_sideways_scrolling(
    running: tuple[str, dict[str, object]], browser: object, shots: Path
) -> None:
    """At 390 pixels the page was 559 wide: the menu beside it and the results cut off."""
    base, _facts = running
    sun = signed_in(browser, base, "sun")
    sun.set_viewport_size({"width": 390, "height": 800})  # type: ignore[attr-defined]
    for path in ("/search", "/"):
        sun.goto(path)  # type: ignore[attr-defined]
        width = sun.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        assert width <= 390, (path, width)
    sun.screenshot(path=str(shots / "phone-home.png"), full_page=True)  # type: ignore[attr-defined]


def test_a_phone_reads_every_table_as_cards_with_its_actions_in_reach(
    running: tuple[str, dict[str, object]], browser: object, shots: Path
) -> None:
    """At 390 pixels the tables ran off the right edge: the 拒绝 and 解除 buttons and the
    audit trail's 操作 and 对象 could not be seen, a column showed one character a line.
    Each row is now a card whose cells say their column; nothing is wider than the phone."""
    base, _facts = running
    sun = signed_in(browser, base, "sun")
    sun.set_viewport_size({"width": 390, "height": 800})  # type: ignore[attr-defined]
    for path in ("/retention/schedules", "/search?q=仓储改造", "/retention/holds"):
        sun.goto(path)  # type: ignore[attr-defined]
        width = sun.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        assert width <= 390, (path, width)
    sun.goto("/retention/schedules")  # type: ignore[attr-defined]
    edit = sun.locator("table a", has_text="编辑").first  # type: ignore[attr-defined]
    box = edit.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 390
    labels = sun.evaluate(  # type: ignore[attr-defined]
        "[...document.querySelectorAll('table tbody td')].map(td => td.dataset.label || '')"
    )
    assert labels
    assert all(labels), labels  # every cell says its column
    zhou = signed_in(browser, base, "zhou")
    zhou.set_viewport_size({"width": 390, "height": 800})  # type: ignore[attr-defined]
    zhou.goto("/audit/trail")  # type: ignore[attr-defined]
    assert zhou.evaluate("document.documentElement.scrollWidth") <= 390  # type: ignore[attr-defined]
    action = zhou.locator("td[data-label='操作']").first  # type: ignore[attr-defined]
    box = action.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 390
    zhou.screenshot(path=str(shots / "phone-trail.png"))  # type: ignore[attr-defined]
