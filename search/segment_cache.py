"""Per-segment caches for :mod:`search.docsets`: a term's postings read a block at a time,
and each segment's permission and filter sets, facet values, field lengths and filing dates.

A Whoosh segment never changes once written, except for its deletion set, so what is computed
for it stays valid for every later searcher that has the segment at the same document offset
(:class:`SegmentStore` outlives searchers). Cached sets are raw: they may hold deleted
documents, which each searcher removes with its own live set.
"""

from __future__ import annotations

import itertools
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from whoosh import query as q
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

_LENGTH_OF_BYTE = [byte_to_length(b) if b else 1 for b in range(256)]

DocSet = set[int]
Postings = tuple["array[int]", "array[float]"]


def _blocks(matcher: Any) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
    """One segment's postings a block at a time: (document numbers, weights)."""
    if not isinstance(matcher, W3LeafMatcher):  # another codec: the slow, general way
        while matcher.is_active():
            yield [matcher.id()], [matcher.weight()]
            matcher.next()
        return
    # Private to the codec (pinned in requirements.txt); tests compare with Whoosh's own walk.
    while matcher.is_active():
        if matcher._data is None:  # the block's (ids, weights, values)
            matcher._read_data()
        ids, weights = matcher._data[0], matcher._data[1]
        if not matcher._byteids:
            ids = list(itertools.accumulate(ids))
        if weights is None or isinstance(weights, float):  # all the same weight
            weights = [1.0 if weights is None else weights] * len(ids)
        yield ids, weights
        matcher._next_block()


def evaluate(
    query: q.Query,
    term: Callable[[str, Any], DocSet],
    universe: Callable[[], DocSet],
    fallback: Callable[[q.Query], DocSet],
) -> DocSet:
    """Documents of a universe (one segment, or a whole searcher) matching ``query`` with
    set operations; may include deleted ones."""

    def matching(query: q.Query) -> DocSet:
        if isinstance(query, q.Term):
            return term(query.fieldname, query.text)
        if isinstance(query, q.Or):
            found: DocSet = set()
            for sub in query.subqueries:
                found |= matching(sub)
            return found
        if isinstance(query, q.And):
            wanted = [s for s in query.subqueries if not isinstance(s, q.Not)]
            unwanted = [s.query for s in query.subqueries if isinstance(s, q.Not)]
            sets = sorted((matching(s) for s in wanted), key=len)
            found = set(sets[0]) if sets else set(universe())
            for other in sets[1:]:
                found &= other
            for sub in unwanted:
                found -= matching(sub)
            return found
        if isinstance(query, q.AndNot):
            return matching(query.a) - matching(query.b)
        if isinstance(query, q.Not):
            return universe() - matching(query.query)
        if isinstance(query, q.Every):
            return set(universe())
        if query is q.NullQuery:
            return set()
        # Phrases, ranges and the rest: Whoosh's own matchers (these skip deleted docs).
        return fallback(query)

    return matching(query)


class SegmentCache:
    """What is computed once for one segment at one document offset (numbers are the
    searcher's, offset included). ``fills`` counts the computations, for tests and benches."""

    FILTER_CACHE = 64

    def __init__(self, store: SegmentStore, key: tuple[str, int], reader: Any, offset: int):
        self.store = store
        self.key = key
        self.reader = reader  # the newest searcher's reader of this segment
        self.searcher: Any = None  # and its leaf searcher (phrases, ranges)
        self.offset = offset
        self.size: int = reader.doc_count_all()
        self.fills: Counter[str] = Counter()
        self._filters: OrderedDict[str, DocSet] = OrderedDict()
        self._facets: dict[str, tuple[dict[str, DocSet], list[str | None]]] = {}
        self._lengths: dict[str, list[int]] = {}
        self._length_totals: dict[tuple[str, str], tuple[int, int]] = {}
        self._filed: list[Any] | None = None
        self._newest: list[int] | None = None

    def universe(self) -> DocSet:
        return set(range(self.offset, self.offset + self.size))

    def postings(self, field: str, text: str | bytes) -> Postings:
        return self.store.postings(self, field, text)

    def term(self, field: str, text: str | bytes) -> DocSet:
        return set(self.postings(field, text)[0])

    def filtered(self, key: str, restrictions: list[q.Query]) -> DocSet:
        """Documents passing every restriction (deleted ones included), cached."""
        docs = self._filters.get(key)
        if docs is not None:
            self._filters.move_to_end(key)
            return docs
        self.fills["filter"] += 1
        docs = self.universe()
        offset = self.offset

        def fallback(query: q.Query) -> DocSet:
            return {offset + d for d in query.docs(self.searcher)}

        for restriction in restrictions:
            docs &= evaluate(restriction, self.term, self.universe, fallback)
        self._filters[key] = docs
        if len(self._filters) > self.FILTER_CACHE:
            self._filters.popitem(last=False)
        return docs

    def facet(self, field: str) -> tuple[dict[str, DocSet], list[str | None]]:
        """A facet field's values with their documents, and each document's value."""
        facet = self._facets.get(field)
        if facet is None:
            self.fills["facet"] += 1
            by_value: dict[str, DocSet] = {}
            value_of: list[str | None] = [None] * self.size
            for value in self.reader.lexicon(field):
                text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
                if text and text not in by_value:
                    members = by_value[text] = self.term(field, value)
                    for docnum in members:
                        value_of[docnum - self.offset] = text
            facet = self._facets[field] = (by_value, value_of)
        return facet

    def lengths(self, field: str) -> list[int]:
        """Each document's length of ``field`` (as Whoosh stores it)."""
        if field not in self._lengths:
            self.fills["lengths"] += 1
            column = self.reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
            self._lengths[field] = (
                [1] * self.size if column is None else [_LENGTH_OF_BYTE[b] for b in column]
            )
        return self._lengths[field]

    def length_total(self, field: str, key: str, restrictions: list[q.Query]) -> tuple[int, int]:
        """(total length of ``field``, documents) over those passing ``restrictions``
        (deleted ones included), cached."""
        found = self._length_totals.get((field, key))
        if found is None:
            self.fills["length total"] += 1
            lengths, offset = self.lengths(field), self.offset
            part = self.filtered(key, restrictions)
            found = (sum(lengths[d - offset] for d in part), len(part))
            if len(self._length_totals) > 4 * self.FILTER_CACHE:
                self._length_totals.clear()
            self._length_totals[(field, key)] = found
        return found

    def filed(self) -> list[Any]:
        if self._filed is None:
            self.fills["filed"] += 1
            self._filed = list(self.reader.column_reader("filed"))
        return self._filed

    def newest(self) -> list[int]:
        """This segment's documents by filing date, newest first (ties: higher number)."""
        if self._newest is None:
            filed, offset = self.filed(), self.offset
            self._newest = [
                offset + d
                for d in sorted(range(self.size), key=lambda d: (filed[d], d), reverse=True)
            ]
        return self._newest


class SegmentStore:
    """Every segment's caches, shared by the searchers of one index one after another, and
    the decoded postings of them all (least recently used first out, :attr:`POSTINGS_CACHE`
    postings in all). Call under the index's lock."""

    POSTINGS_CACHE = 4_000_000  # decoded postings kept, ~32 MB as arrays

    def __init__(self) -> None:
        self.segments: dict[tuple[str, int], SegmentCache] = {}
        self._postings: OrderedDict[tuple[tuple[str, int], str, Any], Postings] = OrderedDict()
        self._held = 0

    def attach(self, searcher: Any) -> list[SegmentCache]:
        """The caches for ``searcher``'s segments, new ones empty; the others' are dropped."""
        leaves: list[SegmentCache] = []
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            segment = reader.segment() if hasattr(reader, "segment") else None
            if segment is None or not reader.doc_count_all():
                continue  # an empty index
            key = (segment.segment_id(), offset)
            cache = self.segments.get(key)
            if cache is None:
                cache = self.segments[key] = SegmentCache(self, key, reader, offset)
            cache.reader, cache.searcher = reader, sub
            leaves.append(cache)
        current = {cache.key for cache in leaves}
        if set(self.segments) - current:
            self.segments = {key: self.segments[key] for key in current}
            for gone in [k for k in self._postings if k[0] not in current]:
                self._held -= len(self._postings.pop(gone)[0])
        return leaves

    def postings(self, cache: SegmentCache, field: str, text: str | bytes) -> Postings:
        """A term's (document numbers, weights) in one segment (deletions not applied)."""
        key = (cache.key, field, text)
        found = self._postings.get(key)
        if found is not None:
            self._postings.move_to_end(key)
            return found
        cache.fills["postings"] += 1
        ids: array[int] = array("l")
        weights: array[float] = array("f")
        try:
            matcher = cache.reader.postings(field, text)
        except TermNotFound:
            matcher = None
        if isinstance(matcher, FilterMatcher):  # the segment's deletions: kept apart
            matcher = matcher.child
        if matcher is not None:
            offset = cache.offset
            for block_ids, block_weights in _blocks(matcher):
                ids.extend(block_ids if not offset else [offset + i for i in block_ids])
                weights.extend(block_weights)
        self._postings[key] = found = (ids, weights)
        self._held += len(ids)
        while self._held > self.POSTINGS_CACHE and len(self._postings) > 1:
            _, (old, _) = self._postings.popitem(last=False)
            self._held -= len(old)
        return found
