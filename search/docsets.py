"""Document-number sets, read straight from posting blocks, for totals, facets and filters.

Whoosh walks postings one Python call per document; a common word at 100,000 records is
tens of thousands of calls before anything is scored. Counting and faceting need only *which*
documents match, so here a term's postings are read a block at a time into a Python set and
the boolean query is evaluated with set operations (C speed). Scoring the top N stays with
Whoosh. Everything is cached per open searcher; a new searcher (the index changed) starts
afresh. Deleted documents can appear in raw postings, so every result is intersected with a
live-document set before anyone sees it.
"""

from __future__ import annotations

import heapq
import itertools
from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

from whoosh import query as q
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

_LENGTH_OF_BYTE = [byte_to_length(b) if b else 1 for b in range(256)]

DocSet = set[int]


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


def _scored_terms(query: q.Query) -> tuple[list[q.Term], float] | None:
    """The terms whose BM25 scores sum to the query's score, as Whoosh sums them, plus the
    constant Whoosh adds (1 per NOT clause); None when the query has parts (phrases,
    boosts) that only Whoosh's matchers can score."""
    if query.boost != 1.0:
        return None
    if isinstance(query, q.Term):
        return [query], 0.0
    if isinstance(query, q.Not):
        return [], 1.0
    if isinstance(query, q.AndNot):
        return _scored_terms(query.a)
    if type(query) in (q.And, q.Or):
        found: list[q.Term] = []
        constant = 0.0
        for sub in query.subqueries:
            scored = _scored_terms(sub)
            if scored is None:
                return None
            found += scored[0]
            constant += scored[1]
        return found, constant
    return None


class DocSets:
    """Set-valued evaluation and caches for one searcher (call under the index's lock)."""

    FILTER_CACHE = 64
    POSTINGS_CACHE = 4_000_000  # decoded postings kept, ~32 MB as arrays

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self._leaves: list[tuple[Any, int]] = [
            (sub.reader(), offset) for sub, offset in searcher.leaf_searchers()
        ]
        self._live: DocSet | None = None
        self._filters: OrderedDict[str, DocSet] = OrderedDict()
        self._facets: dict[str, tuple[list[str], list[DocSet], list[int]]] = {}
        self._filed: list[Any] | None = None
        self._field_lengths: dict[str, list[int]] = {}
        self._postings: OrderedDict[tuple[str, Any], tuple[array[int], array[float]]] = (
            OrderedDict()
        )
        self._postings_held = 0
        self._newest_first: list[int] | None = None

    def live(self) -> DocSet:
        """Every document not deleted."""
        if self._live is None:
            self._live = set(self.searcher.reader().all_doc_ids())
        return self._live

    def postings(self, field: str, text: str | bytes) -> tuple[array[int], array[float]]:
        """A term's (document numbers, weights) over all segments, decoded once and kept
        (least recently used first out) up to :attr:`POSTINGS_CACHE` postings in all."""
        key = (field, text)
        cached = self._postings.get(key)
        if cached is not None:
            self._postings.move_to_end(key)
            return cached
        ids: array[int] = array("l")
        weights: array[float] = array("f")
        for reader, offset in self._leaves:
            try:
                matcher = reader.postings(field, text)
            except TermNotFound:
                continue
            if isinstance(matcher, FilterMatcher):  # the segment's deletions: live() has them
                matcher = matcher.child
            for block_ids, block_weights in _blocks(matcher):
                ids.extend(block_ids if not offset else [offset + i for i in block_ids])
                weights.extend(block_weights)
        self._postings[key] = (ids, weights)
        self._postings_held += len(ids)
        while self._postings_held > self.POSTINGS_CACHE and len(self._postings) > 1:
            _, (old, _) = self._postings.popitem(last=False)
            self._postings_held -= len(old)
        return ids, weights

    def term(self, field: str, text: str | bytes) -> DocSet:
        return set(self.postings(field, text)[0])

    def top(self, query: q.Query, docs: DocSet, limit: int) -> list[tuple[int, float]] | None:
        """The ``limit`` best of ``docs`` by Whoosh's BM25F score, computed from the cached
        postings for the documents that matched; None when only Whoosh can score ``query``."""
        scored = _scored_terms(query)
        if scored is None:
            return None
        terms, constant = scored
        scores: dict[int, float] = dict.fromkeys(docs, constant) if constant else {}
        for term in terms:
            field = term.fieldname
            if not self.searcher.schema[field].scorable:
                return None
            idf = self.searcher.idf(field, term.text)
            avgfl = self.searcher.avg_field_length(field) or 1
            lengths = self._lengths(field)
            ids, weights = self.postings(field, term.text)
            for docnum, weight in zip(ids, weights, strict=True):
                if docnum in docs:
                    # whoosh.scoring.bm25 with its defaults B=0.75, K1=1.2
                    norm = 0.25 + 0.75 * lengths[docnum] / avgfl
                    scores[docnum] = scores.get(docnum, 0.0) + idf * weight * 2.2 / (
                        weight + 1.2 * norm
                    )
        return heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))

    def _lengths(self, field: str) -> list[int]:
        """Each document's length of ``field`` (as Whoosh stores it), by document number."""
        if field not in self._field_lengths:
            lengths: list[int] = []
            for reader, _ in self._leaves:
                column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
                if column is None:
                    lengths += [1] * reader.doc_count_all()
                else:
                    lengths += [_LENGTH_OF_BYTE[b] for b in column]
            self._field_lengths[field] = lengths
        return self._field_lengths[field]

    def matching(self, query: q.Query) -> DocSet:
        """Documents matching ``query`` (may include deleted ones: intersect with live)."""
        if isinstance(query, q.Term):
            return self.term(query.fieldname, query.text)
        if isinstance(query, q.Or):
            found: DocSet = set()
            for sub in query.subqueries:
                found |= self.matching(sub)
            return found
        if isinstance(query, q.And):
            wanted = [s for s in query.subqueries if not isinstance(s, q.Not)]
            unwanted = [s.query for s in query.subqueries if isinstance(s, q.Not)]
            sets = sorted((self.matching(s) for s in wanted), key=len)
            found = set(sets[0]) if sets else set(self.live())
            for other in sets[1:]:
                found &= other
            for sub in unwanted:
                found -= self.matching(sub)
            return found
        if isinstance(query, q.AndNot):
            return self.matching(query.a) - self.matching(query.b)
        if isinstance(query, q.Not):
            return self.live() - self.matching(query.query)
        if isinstance(query, q.Every):
            return set(self.live())
        if query is q.NullQuery:
            return set()
        # Phrases, ranges and the rest: Whoosh's own matchers (these skip deleted docs).
        return set(self.searcher.docs_for_query(query))

    def allowed(self, restrictions: list[q.Query]) -> DocSet:
        """Live documents passing every restriction (permissions, filters), cached."""
        key = repr(restrictions)
        docs = self._filters.get(key)
        if docs is None:
            docs = self.live()
            for restriction in restrictions:
                docs = docs & self.matching(restriction)
            self._filters[key] = docs
            if len(self._filters) > self.FILTER_CACHE:
                self._filters.popitem(last=False)
        else:
            self._filters.move_to_end(key)
        return docs

    def facet_counts(self, field: str, docs: DocSet) -> dict[str, int]:
        """value → how many of ``docs`` have it (values with none are left out).

        Each facet field holds one value per document. Counting walks whichever is smaller:
        the matched documents (looking each one's value up) or the values' member sets."""
        facet = self._facets.get(field)
        if facet is None:
            facet = self._facets[field] = self._facet(field)
        values, members, value_of = facet
        if len(docs) < sum(min(len(docs), len(m)) for m in members):
            counted = Counter(map(value_of.__getitem__, docs))
            return {values[i]: n for i, n in counted.items() if i >= 0}
        counts = {value: len(docs & m) for value, m in zip(values, members, strict=True)}
        return {value: count for value, count in counts.items() if count}

    def _facet(self, field: str) -> tuple[list[str], list[DocSet], list[int]]:
        """A facet field's values, each value's documents, and each document's value."""
        by_value: dict[str, DocSet] = {}
        for reader, _ in self._leaves:
            for value in reader.lexicon(field):
                text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
                if text and text not in by_value:
                    by_value[text] = self.term(field, value)
        value_of = [-1] * self.searcher.reader().doc_count_all()
        for index, members in enumerate(by_value.values()):
            for docnum in members:
                value_of[docnum] = index
        return list(by_value), list(by_value.values()), value_of

    def newest_first(self, docs: DocSet, limit: int) -> list[int]:
        """The first ``limit`` of ``docs`` by filing date, newest first."""
        if self._filed is None or self._newest_first is None:
            filed = self._filed = list(self.searcher.reader().column_reader("filed"))
            self._newest_first = sorted(
                range(len(filed)), key=lambda d: (filed[d], d), reverse=True
            )
        filed = self._filed
        if len(docs) * 8 < len(filed):  # few matches: sort just those
            return sorted(docs, key=lambda d: (filed[d], d), reverse=True)[:limit]
        return list(itertools.islice((d for d in self._newest_first if d in docs), limit))
