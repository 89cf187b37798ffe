"""Text analysis shared by indexing and querying: Chinese segmented, both scripts folded.

Both sides run the same steps, so what a query asks matches what a document says:
``archive.text.normalize`` (NFKC; the spaces OCR and PDF line breaks put between Chinese
characters removed), OpenCC traditional→simplified, then runs of CJK characters are cut by
jieba in search mode (words and their sub-words: 验收报告 → 验收, 报告, 验收报告) and runs
of Latin letters and digits become lower-cased, stemmed words.

The index holds no words: each analysed term is replaced by a keyed hash
(:class:`TermHasher`, the key from the keyring), documents before they reach Whoosh
(:meth:`TermHasher.text`) and queries as they are parsed (:func:`keyed_analyzer`). Whoosh's
own analyzer (:class:`HashedTermsTokenizer`, pickled into the index) only splits.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
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


def spans(
    text: str, folded: bool = False, only: frozenset[str] | None = None
) -> Iterator[tuple[str, int, int]]:
    """Index terms of ``text`` in order, with their offsets in the folded text (``folded``:
    ``text`` is folded already, as a snippet's is). ``only`` (marking a snippet): Chinese
    runs holding none of these words are not segmented, since every word jieba finds in a
    run is a piece of it; what is left out could not have matched, so the marks are the same
    and most of the segmenting is saved."""
    for match in _RUNS.finditer(text if folded else fold(text)):
        run, base = match.group(), match.start()
        if _CJK.match(run):
            if only is not None and not any(word in run for word in only):
                continue
            for word, start, end in _segmenter().tokenize(run, mode="search", HMM=True):
                if word.strip():
                    yield word, base + start, base + end
        else:
            yield run.lower(), base, match.end()


def words(text: str) -> Iterator[str]:
    """Index terms of ``text`` in order (CJK words and sub-words; Latin words lower-cased)."""
    return (word for word, _, _ in spans(text))


def chinese_words(text: str) -> frozenset[str]:
    """The Chinese index terms of ``text`` (a query): what a snippet's runs are checked for
    before they are segmented (see :func:`spans`)."""
    return frozenset(word for word in words(text) if _CJK.match(word))


class ChineseTokenizer(Tokenizer):  # type: ignore[misc]
    """Whoosh tokenizer over :func:`words`; positions advance by one per term. With
    ``folded``, its input is folded already (highlighting a snippet: not folded twice)."""

    def __init__(self, folded: bool = False) -> None:
        self.folded = folded

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
        only: frozenset[str] | None = kwargs.pop("only", None)
        if positions:  # skipped runs would shift the positions: never when indexing
            only = None
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
        for offset, (word, start, end) in enumerate(spans(value, self.folded, only)):
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


def analyzer(folded: bool = False) -> Composable:
    return ChineseTokenizer(folded) | LatinStemFilter()


#: Bytes of a term's hash: 72 bits, 12 base64 characters; a collision (which would merge two
#: terms' statistics) is about n²/2⁷³ for n distinct terms, 10⁻⁸ at 10 million.
TERM_BYTES = 9
_TERM_PERSON = b"archive-term/v1"
_FINGERPRINT_PERSON = b"archive-keyfp/v1"


def fingerprint(key: bytes) -> str:
    """What the index directory records of its key: a keyed hash of a constant."""
    return hashlib.blake2b(
        b"index key fingerprint", key=key, digest_size=16, person=_FINGERPRINT_PERSON
    ).hexdigest()


class TermHasher:
    """Keyed hashes of analysed terms: what the index holds instead of words.

    Holds the key, so it refuses to be pickled: nothing that holds one can end up in the
    index's pickled schema or in a writer's job files."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the index key must be at least 128 bits")
        self.fingerprint = fingerprint(key)

        def digest(term: str) -> str:
            raw = hashlib.blake2b(
                term.encode("utf-8"), key=key, digest_size=TERM_BYTES, person=_TERM_PERSON
            ).digest()
            return base64.urlsafe_b64encode(raw).decode("ascii")

        def indexed(word: str) -> str:
            return digest(_stem(word) if word.isascii() else word)

        #: An analysed term (stemmed already) → its hash.
        self.term: Callable[[str], str] = lru_cache(maxsize=1 << 16)(digest)
        #: A word as :func:`words` yields it → its hash (stemmed first if Latin).
        self.word: Callable[[str], str] = lru_cache(maxsize=1 << 17)(indexed)

    def text(self, text: str) -> str:
        """``text`` as the index takes it: hashed terms in order, space-separated, so
        positions (phrases) and frequencies (BM25) are those of the words."""
        word = self.word
        return " ".join([word(w) for w in words(text)])

    def pieces(self, text: str, starts: Sequence[int]) -> tuple[str, list[int]]:
        """:meth:`text` of ``text`` analysed piece by piece (the pieces begin at character
        offsets ``starts``), and the position of each piece's first term
        (:mod:`search.blocks`)."""
        word = self.word
        hashed: list[str] = []
        positions: list[int] = []
        for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
            positions.append(len(hashed))
            hashed.extend([word(w) for w in words(text[begin:end])])
        return " ".join(hashed), positions

    def __reduce__(self) -> Any:
        raise TypeError("a TermHasher holds the index key and is never pickled")


class KeyedHashFilter(Filter):  # type: ignore[misc]
    """Replaces each (stemmed) term by its keyed hash: queries and highlighting compare
    hashes with the index. Never part of the stored schema (the hasher refuses pickling)."""

    def __init__(self, hasher: TermHasher) -> None:
        self.hasher = hasher

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        term = self.hasher.term
        for token in tokens:
            token.text = term(token.text)
            yield token


def keyed_analyzer(hasher: TermHasher, folded: bool = False) -> Composable:
    """The real analysis with hashed terms out: for parsing queries and (``folded``, on text
    folded already) highlighting."""
    return analyzer(folded) | KeyedHashFilter(hasher)


class HashedTermsTokenizer(Tokenizer):  # type: ignore[misc]
    """The index's analyzer: its input is :meth:`TermHasher.text`, so it only splits.
    Holds no state (it is pickled into the index); positions advance by one per term."""

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
        terms = value.split() if tokenize else [value]
        at = 0
        for offset, term in enumerate(terms):
            token.text = term
            token.boost, token.stopped = 1.0, False
            if keeporiginal:
                token.original = term
            if positions:
                token.pos = start_pos + offset
            if chars:
                at = value.index(term, at)
                token.startchar, token.endchar = start_char + at, start_char + at + len(term)
                at += len(term)
            yield token
