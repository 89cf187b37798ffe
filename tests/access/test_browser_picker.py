"""The record picker in Debian's Chromium, as a newcomer uses it: from the home page through
the menu, typing part of a title, choosing with the keyboard, sending the form. The server
and the browser are :mod:`tests.access.test_browser`'s."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.access.test_browser import browser, running, shots, signed_in

pytestmark = pytest.mark.browser
__all__ = ["browser", "running", "shots"]  # the fixtures this module shares


def test_a_head_opens_the_green_channel_by_picking_the_record_by_title(
    running: tuple[str, dict[str, object]], browser: object, shots: Path
) -> None:
    from playwright.sync_api import expect

    base, _facts = running
    wang = signed_in(browser, base, "wang")
    wang.click("nav.side a:has-text('绿色通道')")  # type: ignore[attr-defined]
    field = wang.get_by_role("combobox", name="档案")  # type: ignore[attr-defined]
    field.fill("第三次会议")
    options = wang.get_by_role("option")  # type: ignore[attr-defined]
    expect(options.first).to_contain_text("仓储改造第三次会议纪要")
    expect(field).to_have_attribute("aria-expanded", "true")
    wang.screenshot(path=str(shots / "picker.png"))  # type: ignore[attr-defined]
    field.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    field.press("Enter")  # chooses; does not send the form
    expect(field).to_have_attribute("aria-expanded", "false")
    chip = wang.locator(".picker-chip")  # type: ignore[attr-defined]
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text("仓储改造第三次会议纪要")
    wang.get_by_label("书面理由").fill("客户投诉，须立即核对会议纪要")  # type: ignore[attr-defined]
    wang.click("button:has-text('开通紧急利用')")  # type: ignore[attr-defined]
    expect(wang.locator(".flash.ok")).to_contain_text("已立即开放访问")  # type: ignore[attr-defined]

    # What was opened is listed under "opened by me", by the title that was picked.
    expect(wang.locator("main ul").last).to_contain_text("仓储改造第三次会议纪要")  # type: ignore[attr-defined]
