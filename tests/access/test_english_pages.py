"""The English switch on every page: each page offers it, and after it no Chinese is left
but the data itself (names, titles, departments as the organisation wrote them)."""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import select

from archive.models import Department, Project, Record, RetentionSchedule, User
from archive.vocabulary import ACTIONS, ACTORS, FIELDS, MEDIA_TYPES, OBJECTS, TERMS
from tests.access.conftest import World
from tests.access.test_web_pages import PAGES, Browser

CJK = re.compile(r"[\u3400-\u9fff]+")
CATALOGUE = (
    Path(__file__).resolve().parents[2] / "access/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
)
SHOWN_ATTRIBUTES = {"placeholder", "aria-label", "title", "alt", "value"}


class Shown(HTMLParser):
    """The words a person sees or hears: text and the attributes read out, scripts left out."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        is_hidden = tag == "input" and ("type", "hidden") in attrs
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value and not is_hidden:
                self.words.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.words.append(data)


@cache
def kept_in_msgids() -> frozenset[str]:
    """Chinese that English wording keeps on purpose, in the catalogue and the vocabulary:
    terms glossed beside the English ("Reference code (档号)") and examples of what to type."""
    with CATALOGUE.open("rb") as po:
        catalogue = read_po(po)
    english = [str(message.id) for message in catalogue if message.id]
    for table in (TERMS, MEDIA_TYPES, ACTORS, ACTIONS, OBJECTS, FIELDS):
        english += [words[1] for words in table.values()]  # the vocabulary's English
    return frozenset(run for text in english for run in CJK.findall(text))


def written_by_people(world: World) -> set[str]:
    """Chinese the organisation wrote: names of departments and people, titles and projects,
    the legal basis of a schedule. It stays as written in English pages."""
    with world.arc.transaction() as session:
        texts = [
            *session.scalars(select(Department.name)),
            *session.scalars(select(User.display_name)),
            *session.scalars(select(Record.title)),
            *session.scalars(select(Project.name)),
            *session.scalars(select(RetentionSchedule.basis)),
        ]
    return {run for text in texts if text for run in CJK.findall(text)}


def chinese_in(page: str) -> set[str]:
    shown = Shown()
    shown.feed(page)
    return {run for words in shown.words for run in CJK.findall(words)}


def test_every_page_offers_english_and_has_no_chinese_left(world: World) -> None:
    record = f"/records/{world.records['CG-internal']}"
    data = written_by_people(world)
    for username in ("zhang", "wang", "qian", "sun", "zhou", "wu", "zheng"):
        person = Browser(world, username)
        paths = ["/", *(path for path, allowed in PAGES.items() if username in allowed)]
        if "/search" in paths:
            paths.append(record)
        for path in paths:  # in Chinese first: a page compiled then must still switch
            page = person.text(path)
            assert 'lang="zh-CN"' in page
            assert 'href="/language/en?next=' in page, (username, path)
        assert person.get("/language/en?next=/").status_code == 302  # type: ignore[attr-defined]
        for path in paths:
            page = person.text(path)
            assert 'lang="en"' in page
            assert 'href="/language/zh_CN?next=' in page, (username, path)
            left = chinese_in(page) - kept_in_msgids() - data - {"中文"}
            assert not left, (username, path, left)
