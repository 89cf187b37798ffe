"""Text analysis shared by indexing and querying: Chinese segmented, both scripts folded.

Both sides run the same steps, so what a query asks matches what a document says:
``archive.text.normalize`` (NFKC; the spaces OCR and PDF line breaks put between Chinese
characters removed), OpenCC traditional→simplified, then runs of CJK characters are cut by
jieba in search mode (words and their sub-words: 验收报告 → 验收, 报告, 验收报告) and runs
of Latin letters and digits become lower-cased, stemmed words.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import jieba
from whoosh.analysis import Composable, Filter, Token, Tokenizer
from whoosh.lang import stemmer_for_language

from archive.text import normalize, to_simplified

jieba.setLogLevel(logging.WARNING)

_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[A-Za-z0-9]+(?:['.][A-Za-z0-9]+)*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _segmenter() -> jieba.Tokenizer:
    segmenter = jieba.Tokenizer()
    segmenter.initialize()
    return segmenter


def fold(text: str) -> str:
    """The form both documents and queries are indexed in."""
    return to_simplified(normalize(text))


def spans(text: str) -> Iterator[tuple[str, int, int]]:
    """Index terms of ``text`` in order, with their offsets in the folded text."""
    if len(text) > _REMEMBERED_CHARS:  # a very long text is segmented twice, not kept
        return _segment(text)
    return iter(_spans(text))


_REMEMBERED_CHARS = 1_000_000


@lru_cache(maxsize=2)
def _spans(text: str) -> tuple[tuple[str, int, int], ...]:
    """Kept for the next call: the index analyses a document's text twice in a row (with
    positions for phrases, and as frequencies for fast counting and scoring)."""
    return tuple(_segment(text))


def _segment(text: str) -> Iterator[tuple[str, int, int]]:
    for match in _RUNS.finditer(fold(text)):
        run, base = match.group(), match.start()
        if _CJK.match(run):
            for word, start, end in _segmenter().tokenize(run, mode="search", HMM=True):
                if word.strip():
                    yield word, base + start, base + end
        else:
            yield run.lower(), base, match.end()


def words(text: str) -> Iterator[str]:
    """Index terms of ``text`` in order (CJK words and sub-words; Latin words lower-cased)."""
    return (word for word, _, _ in spans(text))


class ChineseTokenizer(Tokenizer):  # type: ignore[misc]
    """Whoosh tokenizer over :func:`words`; positions advance by one per term."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost, token.stopped = 1.0, False
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for offset, (word, start, end) in enumerate(spans(value)):
            token.text = word
            token.boost, token.stopped = 1.0, False
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = start_pos + offset
            if chars:
                # Offsets in the folded text (normalisation can shift the original's).
                token.startchar, token.endchar = start_char + start, start_char + end
            yield token


_english = stemmer_for_language("en")


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return str(_english(word))


class LatinStemFilter(Filter):  # type: ignore[misc]
    """English stemming for Latin words only; Chinese terms skip the stemmer entirely.

    Holds no state: the schema (and so this filter) is pickled into the index.
    """

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for token in tokens:
            if token.text.isascii():
                token.text = _stem(token.text)
            yield token


def analyzer() -> Composable:
    return ChineseTokenizer() | LatinStemFilter()
