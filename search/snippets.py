"""A search snippet: the two or three lines of a document's text that hold the most of the
query's words, those words marked.

Whoosh's highlighter cuts fragments around every match and joins them, so a document full of
the words gave fifteen lines; and jieba's search mode yields overlapping words (验收报告,
验收, 报告), which it marked piece by piece. Here one window of at most :data:`SNIPPET_CHARS`
characters is chosen, the matched spans are merged (overlapping or touching: 付款方式 is one
mark, not 付款 and 方式) and the text is escaped, so only the marks are tags.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html import escape

#: The most characters of document text a snippet shows (about three lines on the page).
SNIPPET_CHARS = 180
#: Characters of context kept before the first marked word.
LEAD = 30
_BREAKS = "。！？；;!?\n"
MARK = '<mark class="match term0">'


@dataclass
class _Span:
    start: int
    end: int
    terms: set[str] = field(default_factory=set)


#: Text to its analysed terms, each as (term, start, end) in the text.
Tokens = Callable[[str], Iterable[tuple[str, int, int]]]


def _spans(text: str, wanted: frozenset[str], tokens: Tokens) -> list[_Span]:
    """The marked stretches of ``text``, overlapping and touching matches merged."""
    found = sorted((s, e, t) for t, s, e in tokens(text) if t in wanted and e > s)
    merged: list[_Span] = []
    for start, end, term in found:
        if merged and start <= merged[-1].end:
            merged[-1].end = max(merged[-1].end, end)
            merged[-1].terms.add(term)
        else:
            merged.append(_Span(start, end, {term}))
    return merged


def _best_start(spans: list[_Span], width: int) -> int:
    """The index of the span that begins the window holding the most distinct words (then
    the most matches; the earliest on a tie)."""
    best, best_score = 0, (0, 0)
    for i, first in enumerate(spans):
        inside = [s for s in spans[i:] if s.end <= first.start + width - LEAD]
        score = (len(set().union(*(s.terms for s in inside))), len(inside))
        if score > best_score:
            best, best_score = i, score
    return best


def _inside_word(text: str, at: int) -> bool:
    """Whether a cut at ``at`` would split a Latin word or number."""
    if not 0 < at < len(text):
        return False
    pair = text[at - 1 : at + 1]
    return pair.isascii() and pair.isalnum()


#: ASCII punctuation that NFKC made of Chinese full-width marks, and the marks themselves.
_NARROWED = {",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"}


def _chinese(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\u3000" <= char <= "\u303f"


def widened(text: str) -> str:
    """The index keeps text width-folded (NFKC: “，” became “,”); a snippet is read by people,
    so punctuation beside Chinese characters is given back its full width. One character for
    one, so the matches' offsets still hold."""
    chars = list(text)
    for i, char in enumerate(chars):
        if char in _NARROWED:
            before = chars[i - 1] if i > 0 else ""
            after = chars[i + 1] if i + 1 < len(chars) else ""
            if (before and _chinese(before)) or (after and _chinese(after)):
                chars[i] = _NARROWED[char]
    return "".join(chars)


def snippet_html(
    text: str, wanted: frozenset[str], tokens: Tokens, width: int = SNIPPET_CHARS
) -> str:
    """``text`` cut to one window of about ``width`` characters around the query's words
    (``wanted``, as ``tokens`` names them), escaped, the words in ``<mark>``; empty when the
    text holds none of them (nothing of it is shown)."""
    spans = _spans(text, wanted, tokens)
    if not spans:
        return ""
    first = spans[_best_start(spans, width)]
    start = max(0, first.start - LEAD)
    # Begin at a sentence when one starts within the lead.
    cut = max(text.rfind(mark, start, first.start) for mark in _BREAKS)
    if cut >= start:
        start = cut + 1
    elif _inside_word(text, start):  # else never in the middle of a Latin word
        space = text.find(" ", start, first.start)
        start = space + 1 if space >= 0 else first.start
    while start < first.start and text[start] == " ":
        start += 1
    end = min(len(text), start + width)
    if _inside_word(text, end):
        space = text.rfind(" ", max(first.end, end - 20), end)
        end = space if space >= 0 else end
    for span in spans:  # never cut a marked word in two
        if span.start < end < span.end:
            end = span.end
    text = widened(text)  # after the matching: the index's terms are of the folded text
    parts = ["…" if start > 0 else ""]
    at = start
    for span in spans:
        if span.end <= start or span.start >= end:
            continue
        begin = max(span.start, start)
        parts += [escape(text[at:begin]), MARK, escape(text[begin : span.end]), "</mark>"]
        at = span.end
    parts += [escape(text[at:end]), "…" if end < len(text) else ""]
    return "".join(parts)
