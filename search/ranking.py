"""Scoring what the permission sets cannot: phrases and the like, through Whoosh's matchers."""

from __future__ import annotations

import heapq

from whoosh import query as q
from whoosh.searching import Searcher

from search.population import Population
from search.query import without_text


def whoosh_top(
    searcher: Searcher, query: q.Query, matched: set[int], limit: int, population: Population
) -> list[tuple[int, float]]:
    """The best ``limit`` of ``matched`` as Whoosh's matchers score ``query`` with the
    ``population``'s statistics; where the text may not be searched, as they score it
    without the text."""
    text_in = population.text_in
    parts = (
        [(query, matched)]
        if text_in is None
        else [
            (query, matched & text_in),
            (without_text(query), matched - text_in),
        ]
    )
    context = searcher.context(weighting=population.weighting())
    best: list[tuple[int, float]] = []
    for asked, among in parts:
        # Whoosh reads an empty filter as "no filter": an empty part is skipped.
        if among and asked is not q.NullQuery:
            collector = searcher.collector(limit=limit, filter=among)
            searcher.search_with_collector(asked, collector, context=context)
            best += [(hit.docnum, float(hit.score or 0.0)) for hit in collector.results()]
    if len(best) < min(limit, len(matched)):  # a part Whoosh found nothing to score in
        unscored = matched - {docnum for docnum, _ in best}
        best += [(docnum, 0.0) for docnum in heapq.nsmallest(limit, unscored)]
    return heapq.nlargest(limit, best, key=lambda item: (item[1], -item[0]))
