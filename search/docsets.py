"""Document-number sets, read straight from posting blocks, for totals, facets and filters.

Whoosh walks postings one Python call per document; a common word at 100,000 records is
tens of thousands of calls before anything is scored. Counting and faceting need only *which*
documents match, so here a term's postings are read a block at a time into a Python set and
the boolean query is evaluated with set operations (C speed). Scoring the top N stays with
Whoosh.

The caches are per segment (:mod:`search.segment_cache`: a :class:`SegmentStore` that
outlives searchers): a Whoosh segment never changes once written, except for its deletion
set, so decoded postings, permission and filter sets, facet values, field lengths and filing
dates computed for it stay valid for every later searcher that has the segment at the same
document offset. Reopening after a commit computes them only for the new segments; caches of
segments that went away (merged) are dropped. Deletions are kept apart: cached sets are raw
(they may hold deleted documents), and each searcher intersects every result with its own
live-document set before anyone sees it.
"""

from __future__ import annotations

import heapq
import itertools
from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from whoosh import query as q

from search.query import TEXT_FIELDS, touches_text, without_text
from search.segment_cache import DocSet, Postings, SegmentStore, evaluate


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


class Statistics(Protocol):
    """What BM25 scores with (:class:`search.population.Population`)."""

    @property
    def text_in(self) -> DocSet | None: ...

    def bm25(
        self, field: str, text: str | bytes, ids: Iterable[int] | None = None
    ) -> tuple[float, float]: ...


def _concat(parts: Iterable[Sequence[Any]]) -> list[Any]:
    return list(itertools.chain.from_iterable(parts))


class DocSets:
    """Set-valued evaluation for one searcher over its segments' caches (call under the
    index's lock). What spans segments (live documents, unions) is composed per searcher at
    C speed from the segments' cached parts, on first use."""

    FILTER_CACHE = 64

    def __init__(self, searcher: Any, store: SegmentStore | None = None) -> None:
        self.searcher = searcher
        self.store = store or SegmentStore()
        self.leaves = self.store.attach(searcher)
        self._total = searcher.reader().doc_count_all()
        self._live: DocSet | None = None
        self._filters: OrderedDict[str, DocSet] = OrderedDict()
        self._facets: dict[str, tuple[list[str], dict[str, int]]] = {}
        self._value_of: dict[str, list[str | None]] = {}
        self._field_lengths: dict[str, list[int]] = {}
        self._averages: dict[tuple[str, str], float] = {}
        self._filed: list[Any] | None = None

    def live(self) -> DocSet:
        """Every document not deleted."""
        if self._live is None:
            live = set(range(self._total))
            for cache in self.leaves:
                if cache.reader.has_deletions():
                    offset = cache.offset
                    live.difference_update(offset + d for d in cache.reader.deleted_docs_set)
            self._live = live
        return self._live

    def postings(self, field: str, text: str | bytes) -> Postings:
        """A term's (document numbers, weights) over all segments (deletions not applied)."""
        parts = [cache.postings(field, text) for cache in self.leaves]
        if len(parts) == 1:
            return parts[0]
        ids: array[int] = array("l")
        weights: array[float] = array("f")
        for part_ids, part_weights in parts:
            ids.extend(part_ids)
            weights.extend(part_weights)
        return ids, weights

    def term(self, field: str, text: str | bytes) -> DocSet:
        found: DocSet = set()
        for cache in self.leaves:
            found.update(cache.postings(field, text)[0])
        return found

    def top(
        self, query: q.Query, docs: DocSet, limit: int, population: Statistics
    ) -> list[tuple[int, float]] | None:
        """The ``limit`` best of ``docs`` by Whoosh's BM25F score with the ``population``'s
        statistics, computed from the cached postings for the documents that matched; None
        when only Whoosh can score ``query``. A document's text adds to its score only if
        the population may search it."""
        scored = _scored_terms(query)
        if scored is None:
            return None
        terms, constant = scored
        text_in = population.text_in
        scores: dict[int, float] = dict.fromkeys(docs, constant) if constant else {}
        for term in terms:
            field = term.fieldname
            if not self.searcher.schema[field].scorable:
                return None
            ids, weights = self.postings(field, term.text)
            idf, avgfl = population.bm25(field, term.text, ids)
            lengths = self._lengths(field)
            scored_here = docs if text_in is None or field not in TEXT_FIELDS else docs & text_in
            for docnum, weight in zip(ids, weights, strict=True):
                if docnum in scored_here:
                    # whoosh.scoring.bm25 with its defaults B=0.75, K1=1.2
                    norm = 0.25 + 0.75 * lengths[docnum] / avgfl
                    scores[docnum] = scores.get(docnum, 0.0) + idf * weight * 2.2 / (
                        weight + 1.2 * norm
                    )
        return heapq.nlargest(limit, scores.items(), key=lambda item: (item[1], -item[0]))

    def average_length(self, field: str, restrictions: list[q.Query]) -> float:
        """The mean length of ``field`` over the live documents passing ``restrictions``:
        each segment's total is cached with the segment, its deletions taken off here."""
        key = repr(restrictions)
        average = self._averages.get((field, key))
        if average is None:
            total = count = 0
            for cache in self.leaves:
                part_total, part_count = cache.length_total(field, key, restrictions)
                total, count = total + part_total, count + part_count
                if cache.reader.has_deletions():
                    part, lengths = cache.filtered(key, restrictions), cache.lengths(field)
                    for deleted in cache.reader.deleted_docs_set:
                        if cache.offset + deleted in part:
                            total, count = total - lengths[deleted], count - 1
            average = self._averages[(field, key)] = total / count if count else 0.0
        return average

    def _lengths(self, field: str) -> list[int]:
        """Each document's length of ``field`` (as Whoosh stores it), by document number."""
        if field not in self._field_lengths:
            self._field_lengths[field] = _concat(c.lengths(field) for c in self.leaves)
        return self._field_lengths[field]

    def matching(self, query: q.Query, text_in: DocSet | None = None) -> DocSet:
        """Documents matching ``query`` (may include deleted ones: intersect with live).
        With ``text_in``, words and phrases match a document's text only for the documents
        in that set; the others match by their description alone."""

        def docs(query: q.Query) -> DocSet:
            return set(self.searcher.docs_for_query(query))

        if text_in is None:
            return evaluate(query, self.term, self.live, docs)

        def term(field: str, text: str | bytes) -> DocSet:
            found = self.term(field, text)
            return found & text_in if field in TEXT_FIELDS else found

        def fallback(query: q.Query) -> DocSet:  # a phrase, mostly
            if not touches_text(query):
                return docs(query)
            return (docs(query) & text_in) | (docs(without_text(query)) - text_in)

        return evaluate(query, term, self.live, fallback)

    def allowed(self, restrictions: list[q.Query]) -> DocSet:
        """Live documents passing every restriction (permissions, filters): each segment's
        part cached with the segment, their union per searcher."""
        key = repr(restrictions)
        docs = self._filters.get(key)
        if docs is None:
            docs = set()
            for cache in self.leaves:
                docs |= cache.filtered(key, restrictions)
            docs &= self.live()
            self._filters[key] = docs
            if len(self._filters) > self.FILTER_CACHE:
                self._filters.popitem(last=False)
        else:
            self._filters.move_to_end(key)
        return docs

    def _sizes(self, field: str) -> tuple[list[str], dict[str, int]]:
        """A facet field's values and how many documents (deleted too) have each."""
        if field not in self._facets:
            sizes: dict[str, int] = {}
            for cache in self.leaves:
                for value, members in cache.facet(field)[0].items():
                    sizes[value] = sizes.get(value, 0) + len(members)
            self._facets[field] = (list(sizes), sizes)
        return self._facets[field]

    def _values(self, field: str) -> list[str | None]:
        if field not in self._value_of:
            self._value_of[field] = _concat(c.facet(field)[1] for c in self.leaves)
        return self._value_of[field]

    def facet_counts(self, field: str, docs: DocSet) -> dict[str, int]:
        """value → how many of ``docs`` have it (values with none are left out).

        Each facet field holds one value per document. Counting walks whichever is smaller:
        the matched documents (looking each one's value up) or the values' member sets."""
        _, sizes = self._sizes(field)
        if len(docs) < sum(min(len(docs), n) for n in sizes.values()):
            counted = Counter(map(self._values(field).__getitem__, docs))
            counted.pop(None, None)
            return dict(counted)  # type: ignore[arg-type]
        counts: dict[str, int] = {}
        for cache in self.leaves:  # each segment's part of a value's members: no union
            for value, part in cache.facet(field)[0].items():
                counts[value] = counts.get(value, 0) + len(docs & part)
        return {value: count for value, count in counts.items() if count}

    def newest_first(self, docs: DocSet, limit: int) -> list[int]:
        """The first ``limit`` of ``docs`` by filing date, newest first."""
        if self._filed is None:
            self._filed = _concat(cache.filed() for cache in self.leaves)
        filed = self._filed

        def order(d: int) -> tuple[Any, int]:
            return (filed[d], d)

        if len(docs) * 8 < len(filed):  # few matches: sort just those
            return sorted(docs, key=order, reverse=True)[:limit]
        merged = heapq.merge(*(cache.newest() for cache in self.leaves), key=order, reverse=True)
        return list(itertools.islice((d for d in merged if d in docs), limit))
