"""No page shows a stored code where a person expects a word: every page of
``test_web_pages.PAGES``, for every role that may open it, in a world where requests wait,
a job is quarantined, a hold and a list exist and a role was changed, in Chinese and in
English. Codes are whole tokens of the visible text (tags, scripts and attributes stripped)."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.models import DispositionList, IngestJob
from archive.vocabulary import ACTIONS, MEDIA_TYPES, TERMS
from ingest.pipeline import process
from search.indexer import flush
from tests.access.conftest import World, due_and_under_review, make_world
from tests.access.test_web_pages import PAGES, PASSWORD, Browser

#: Codes that are ordinary English words too: checked on Chinese pages only.
WORDS = {code for code in TERMS if re.fullmatch(r"[a-z]+", code)}
#: Codes no English sentence contains: checked in both languages.
CODES = (
    {code for code in TERMS if not re.fullmatch(r"[a-z]+", code) and code.isascii()}
    | set(ACTIONS)
    | set(MEDIA_TYPES)
    | {"CG", "XS"}  # department codes standing alone, where a name is expected
    | {"Y", "D10", "D30"}  # 保管期限 codes standing alone, where 永久, 10年 are expected
    | {"project_accepted", "contract_terminated", "employee_separated"}  # event types
    | {"signed out", "password set"}  # why sessions ended
)
#: A token is "standing alone" unless letters, digits or code punctuation touch it: the
#: 档号 ``KJ·2026-D30-XS-0001`` and the test titles ``档案 XS-internal`` hold codes inside.
EDGE = r"A-Za-z0-9_./:@-"


def visible_text(page: str) -> str:
    """The text a person sees, one element's text a line; a department's code in brackets
    after its name (销售（XS）) is the name shown, not a code instead of it."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    page = re.sub(r"<[^>]+>", "\n", page)
    page = re.sub(r"[(（][A-Z]{2,4}[)）]", "", unescape(page))
    page = re.sub(r"[(（](?:Y|D[0-9]{1,3})[)）]", "", page)  # 10年（D10）: a period, defined
    page = re.sub(r"（Y 或 D|\(Y or D", "", page)  # the schedule form's hint for the code
    page = re.sub(r"(代码：|Code: )[A-Z]{2,4}\b", "", page)  # a department's code, defined
    return "\n".join(line.strip() for line in page.splitlines() if line.strip())


def raw_codes(text: str, codes: set[str], words: frozenset[str] = frozenset()) -> set[str]:
    """``codes`` anywhere as a whole token; ``words`` (codes that are English words too, and
    may be in a name someone typed) only as an element's whole text or a quoted value."""
    found = set()
    for code in codes:
        if re.search(rf"(?<![{EDGE}]){re.escape(code)}(?![{EDGE}])", text):
            found.add(code)
    for code in words:
        if re.search(rf"^{code}$|'{code}'", text, flags=re.MULTILINE):
            found.add(code)
    return found


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict[str, Browser]]]:
    """A world with something in every queue, made once for the module."""
    world = make_world(Path(tmp_path_factory.mktemp("busy")))
    flush(world.arc)
    people = {name: Browser(world, name) for name in ("zhang", "li", "wang", "sun", "wu")}
    zhang, sun, wu = people["zhang"], people["sun"], people["wu"]
    zhang.post(
        f"/records/{world.records['CG-confidential']}/request",
        {"purpose": "审计抽查", "scope": "view", "days": 3},
    )
    people["li"].post(
        f"/records/{world.records['XS-internal']}/request",
        {"purpose": "核对", "scope": "download", "days": 3},
    )
    people["wang"].post(  # the green channel: on the alerts page until a director approves
        "/emergency",
        {"record_id": str(world.records["CG-internal"]), "justification": "紧急", "hours": 4},
    )
    broken = zhang.post(
        "/upload",
        {"files": [(io.BytesIO(b"\x00\x01 not a document"), "broken.pdf")], "project": "P"},
        status=202,
        headers={"Accept": "application/json"},
        content_type="multipart/form-data",
    )
    job = re.search(r"[0-9a-f-]{36}", broken)
    assert job
    process(world.arc, uuid.UUID(job[0]))
    due_and_under_review(world)
    sun.post(
        "/retention/holds",
        {
            "name": "稽查",
            "reason": "2026",
            "scope": "records",
            "record_ids": str(world.records["XS-restricted"]),
        },
    )
    sun.post(
        "/retention/lists",
        {"action": "destroy", "record_ids": str(world.records["CG-public"]), "opinion": "无价值"},
    )
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
    wu.post(
        "/admin/users",
        {
            "username_existing": "chen",
            "role": "supervisor",
            "department": "XS",
            "clearance": "confidential",
            "confirm_password": PASSWORD,
        },
    )
    with world.arc.sessions() as db:
        assert db.scalar(select(IngestJob.failed_check))
        list_id = db.scalar(select(DispositionList.id))
    extra = {
        "sun": [f"/retention/lists/{list_id}", f"/records/{world.records['CG-public']}"],
        "zhang": [f"/records/{world.records['CG-confidential']}", "/search?q=档案"],
    }
    everyone = {name for allowed in PAGES.values() for name in allowed}
    for name in everyone - set(people):
        people[name] = Browser(world, name)
    world.extra = extra  # type: ignore[attr-defined]
    yield world, people
    world.arc.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_no_page_shows_a_raw_code(busy: tuple[World, dict[str, Browser]], lang: str) -> None:
    world, people = busy
    words = frozenset(WORDS if lang == "zh_CN" else ())
    found: dict[str, set[str]] = {}  # code → where, with what is around it
    for name, browser in people.items():
        browser.get(f"/language/{lang}")
        paths = ["/", *(p for p, allowed in PAGES.items() if name in allowed)]
        for path in paths + world.extra.get(name, []):  # type: ignore[attr-defined]
            text = visible_text(browser.text(path))
            if path == "/admin/departments":  # where codes are defined: a column of them
                text = re.sub(r"^[A-Z]{2,4}$", "", text, flags=re.MULTILINE)
            for code in raw_codes(text, CODES, words):
                hit = re.search(rf"(?<![{EDGE}]){re.escape(code)}(?![{EDGE}])", text)
                at = hit.start() if hit else text.find(code)
                found.setdefault(code, set()).add(
                    f"{name} {path}: …{text[max(0, at - 30) : at + 30]}…"
                )
    assert not found, "\n".join(f"{c}: {sorted(w)[:3]}" for c, w in sorted(found.items()))


def test_the_check_sees_a_code_and_passes_a_word() -> None:
    assert raw_codes(visible_text("<td>user.role_changed</td>"), CODES) == {"user.role_changed"}
    assert raw_codes(visible_text("<td>application/pdf</td>"), CODES) == {"application/pdf"}
    assert raw_codes(visible_text("<td>部门 XS</td>"), CODES) == {"XS"}
    assert raw_codes(visible_text('<td title="XS">销售 KJ·2026-D30-XS-0001</td>'), CODES) == set()
    assert raw_codes(visible_text("<td>records_manager</td>"), CODES) == {"records_manager"}
    assert raw_codes(visible_text("<td>pending</td>"), set(), frozenset(WORDS)) == {"pending"}
    assert (
        raw_codes(visible_text("<td>一般文件 general records</td>"), set(), frozenset(WORDS))
        == set()
    )
    assert raw_codes(visible_text("<td>采购（CG）</td>"), CODES) == set()
