"""BM25's collection statistics, taken over what the caller may know of.

BM25 weighs a word by how many documents hold it (its idf) and a field's length against the
average length. Taken over the whole index, those figures count documents the caller may not
know exist, or whose text they may not read; a hit's score (the API returns it, the order of
the hits shows it) would then tell how many such documents hold a word. Here they are taken
over the documents the caller may know of and, for a document's text, over those whose text
they may read: a score depends on nothing the caller could not find by searching.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import log
from typing import Any

from whoosh import query as q
from whoosh.scoring import BM25F, BM25FScorer, WeightScorer

from search.docsets import DocSets
from search.query import TEXT_FIELDS
from search.segment_cache import DocSet

B, K1 = 0.75, 1.2  # whoosh.scoring.BM25F's defaults


class Population:
    """The documents whose statistics score a query for one caller: those passing
    ``known`` (what they may know of; empty: everything) and, for a document's text,
    ``text_in`` (what they may search the text of; None: all they know of)."""

    def __init__(
        self, sets: DocSets, known: list[q.Query], text_in: list[q.Query] | None = None
    ) -> None:
        self.sets = sets
        self._known = known
        self._text = text_in

    @property
    def known(self) -> DocSet:
        return self.sets.allowed(self._known)

    @property
    def text_in(self) -> DocSet | None:
        return None if self._text is None else self.sets.allowed(self._text)

    def _restrictions(self, field: str) -> list[q.Query]:
        if field in TEXT_FIELDS and self._text is not None:
            return self._text
        return self._known

    def idf(self, field: str, text: str | bytes, ids: Iterable[int] | None = None) -> float:
        """As :meth:`whoosh.scoring.WeightingModel.idf`, over the population; ``ids``: the
        term's postings when the caller holds them already."""
        among = self.sets.allowed(self._restrictions(field))
        if not among:
            return 1.0  # nothing here is scored on this field
        held = len(among.intersection(self.sets.postings(field, text)[0] if ids is None else ids))
        return log(len(among) / (held + 1)) + 1

    def average_length(self, field: str) -> float:
        return self.sets.average_length(field, self._restrictions(field)) or 1.0

    def bm25(
        self, field: str, text: str | bytes, ids: Iterable[int] | None = None
    ) -> tuple[float, float]:
        """(idf, average length) of a term in ``field``."""
        return self.idf(field, text, ids), self.average_length(field)

    def weighting(self) -> BM25F:
        """Whoosh's BM25F with these statistics, for the queries only its matchers score."""
        return _Weighting(self)


class _Scorer(BM25FScorer):  # type: ignore[misc]
    def __init__(
        self, searcher: Any, field: str, text: Any, population: Population, qf: int = 1
    ) -> None:
        self.idf, self.avgfl = population.bm25(field, text)
        self.B, self.K1, self.qf = B, K1, qf
        self.setup(searcher, field, text)


class _Weighting(BM25F):  # type: ignore[misc]
    def __init__(self, population: Population) -> None:
        super().__init__(B=B, K1=K1)
        self.population = population

    def scorer(self, searcher: Any, fieldname: str, text: Any, qf: int = 1) -> Any:
        if not searcher.schema[fieldname].scorable:
            return WeightScorer.for_(searcher, fieldname, text)
        return _Scorer(searcher, fieldname, text, self.population, qf=qf)
