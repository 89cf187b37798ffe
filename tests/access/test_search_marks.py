"""The search page shows the matched words marked, Chinese included, and a document's own
text never as HTML."""

from __future__ import annotations

from access.web.labels import snippet
from search.indexer import flush
from tests.access.conftest import World
from tests.access.test_web_pages import Browser


def test_matched_chinese_words_are_marked_and_document_html_is_escaped(world: World) -> None:
    hostile = '正文 <script>alert(1)</script> <mark class="match term0">假标记</mark>'
    world.add_record("CG-hostile", "CG", "internal", b"x", "x.txt", "text/plain", text=hostile)
    flush(world.arc)
    page = Browser(world, "wang").text("/search?q=正文")  # wang heads CG: reads its snippets
    assert "<mark>正文</mark>" in page
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<mark>假标记</mark>" not in page  # text that looks like a mark stays text


def test_the_filter_keeps_only_the_facades_marks() -> None:
    marked = snippet('a &amp; b <mark class="match term0">合同</mark> <b>x</b> &lt;i&gt;')
    assert str(marked) == "a &amp; b <mark>合同</mark> &lt;b&gt;x&lt;/b&gt; &lt;i&gt;"
