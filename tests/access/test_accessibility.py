"""axe-core in Debian's Chromium on every page each role can open, in Chinese and in English.

One person per role signs in through the form, opens the pages of ``PAGES`` that role may open
(plus home, the password page, search results, a record, a disposition list and a refusal),
and axe-core must find no violation at all: labels, landmarks, headings, contrast, names of
buttons and links, ``lang``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from archive.audit import Actor
from archive.models import Disposal, Record
from retention import disposition
from retention.schedules import seed_default_plan
from retention.status import refresh_dirty
from search.indexer import flush
from tests.access.conftest import make_world, serving
from tests.access.test_web import give_password
from tests.access.test_web_pages import PAGES
from tests.conftest import make_environ

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"
#: one person per role (li and zhao repeat zhang's and qian's roles in another department)
ROLES = ("zhang", "wang", "qian", "sun", "zhou", "wu", "zheng")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The test world served by ``archive run``, with a list awaiting signatures."""
    folder = tmp_path_factory.mktemp("a11y")
    world = make_world(folder)
    arc = world.arc
    for username in ROLES:
        give_password(world, username, PASSWORD)
    with arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
        record = session.get(Record, world.records["CG-public"])
        assert record is not None
        record.record_type, record.filed_on, record.retention_dirty = (
            "application",
            date(2010, 3, 1),
            True,
        )
    refresh_dirty(arc)
    with arc.transaction() as session:
        lst = disposition.create_list(
            session, Actor.cli(), Disposal.DESTROY, [world.records["CG-public"]], "同意"
        )
        disposition.submit(session, Actor.cli(), lst)
        list_id = lst.id
    flush(arc)
    env = make_environ(folder / "home", "sqlite", "local")
    extra = {
        "record": f"/records/{world.records['CG-internal']}",
        "list": f"/retention/lists/{list_id}",
    }
    arc.close()
    with serving(env) as base:
        yield base, extra


def pages_of(username: str, extra: dict[str, str]) -> list[tuple[str, int]]:
    """(path, status): the role's pages, and one it is refused (the error page)."""
    paths = ["/", "/account/password"]
    paths += [path for path, allowed in PAGES.items() if username in allowed]
    if "/search" in paths:  # results (hits, snippets, facets) and a record
        paths += ["/search?q=档案", extra["record"]]
    if "/retention/lists" in paths:
        paths.append(extra["list"])
    refused = next(path for path, allowed in PAGES.items() if username not in allowed)
    return [(path, 200) for path in paths] + [(refused, 403)]


UNLABELLED = """[...document.querySelectorAll('input, select, textarea')]
  .filter(f => !['hidden', 'submit', 'button', 'reset', 'image'].includes(f.type))
  .filter(f => !(f.labels && f.labels.length) && !f.getAttribute('aria-label')
               && !f.getAttribute('aria-labelledby'))
  .map(f => f.outerHTML.slice(0, 120))"""


def violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    # Folded parts (<details>) hold forms too: open them so axe sees every field.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    found = Axe().run(page).response["violations"]
    # axe takes a placeholder or a title for a name; a person who has started typing no
    # longer sees either, so every field here needs a label or an aria-label of its own.
    unlabelled = page.evaluate(UNLABELLED)
    return [f"{page.url} field without a label: {name}" for name in unlabelled] + [
        f"{page.url} [{v['impact']}] {v['id']}: "
        + "; ".join(node["target"][0] for node in v["nodes"][:4])
        for v in found
    ]


@pytest.mark.parametrize("username", ROLES)
def test_every_page_is_clean_for_axe_in_chinese_and_english(
    site: tuple[str, dict[str, str]], chromium: Any, username: str
) -> None:
    base, extra = site
    context = chromium.new_context(base_url=base, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto("/login")
        problems = violations(page)
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        paths = pages_of(username, extra)
        for language, switch in (("zh-CN", "English"), ("en", "中文")):
            for path, status in paths:
                response = page.goto(path)
                assert response is not None
                assert response.status == status, (username, path)
                assert page.locator("html").get_attribute("lang") == language
                problems += violations(page)
            page.click(f"nav.langs a:has-text('{switch}')")
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def test_keyboard_alone_signs_in_and_skips_to_the_main_content(
    chromium: Any, site: tuple[str, dict[str, str]]
) -> None:
    """Sign in with keys only; then the first Tab of a page reaches "skip to main content",
    drawn with a focus ring, and the next Tab lands inside the page's main part."""
    base, _extra = site
    context = chromium.new_context(base_url=base, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto("/login")
        page.wait_for_function("document.activeElement.name === 'username'")  # autofocus
        page.keyboard.type("zhang")
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/")
        page.goto("/upload")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
        assert page.evaluate("document.activeElement.textContent") == "跳到主要内容"
        ring = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert ring == "solid"
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        inside = "document.activeElement.closest('main') !== null"
        assert page.evaluate(inside), page.evaluate("document.activeElement.outerHTML")
        assert page.evaluate("document.activeElement.closest('nav') === null")
    finally:
        context.close()
