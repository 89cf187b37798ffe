"""What a search is asked with (who may know what) and what it answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from whoosh import query as q


@dataclass(frozen=True)
class Visibility:
    """What a caller may know exists, as the access layer decides it.

    ``everywhere``: sensitivities visible in every department; ``in_department``: more that
    are visible within ``department``; ``records``: records granted individually.
    ``everything`` is for the rare role that may know of all records.
    """

    everywhere: frozenset[str] = frozenset()
    department: str | None = None
    in_department: frozenset[str] = frozenset()
    records: frozenset[str] = frozenset()
    everything: bool = False

    def as_query(self) -> q.Query | None:
        if self.everything:
            return None
        allowed: list[q.Query] = [q.Term("sensitivity", s) for s in sorted(self.everywhere)]
        if self.department and self.in_department:
            allowed.append(
                q.And(
                    [
                        q.Term("department", self.department),
                        q.Or([q.Term("sensitivity", s) for s in sorted(self.in_department)]),
                    ]
                )
            )
        allowed += [q.Term("record_id", r) for r in sorted(self.records)]
        return q.Or(allowed) if allowed else q.NullQuery


@dataclass(frozen=True)
class Hit:
    record_id: str
    version_id: str
    title: str
    name: str
    project: str
    department: str
    sensitivity: str
    filed: datetime
    score: float
    snippet: str | None = None  # only for records the caller may read right now
    author: str = ""
    doc_number: str = ""
    reference_code: str = ""  # 档号, once numbered
    dated: str = ""  # the document's date as given (2014-06, 2014-06-03)


#: Given the hits of a page, each with the block of its text holding the first match
#: (:mod:`search.blocks`; None when the index has no block map for it), for each the text to
#: cut its snippet from: that block's piece, or a bounded prefix; None for a hit the caller
#: may not read right now (metadata only). All at once, so the caller looks them up together.
SnippetSource = Callable[[list[tuple[Hit, int | None]]], list[str | None]]


def one_by_one(source: Callable[[Hit, int | None], str | None]) -> SnippetSource:
    """A :data:`SnippetSource` from a function of one hit."""
    return lambda wanted: [source(hit, block) for hit, block in wanted]


@dataclass(frozen=True)
class Results:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


def hit_from(stored: dict[str, Any], score: float) -> Hit:
    return Hit(
        record_id=stored["record_id"],
        version_id=stored["version_id"],
        title=stored.get("title", ""),
        name=stored.get("name", ""),
        project=stored.get("project", ""),
        department=stored.get("department", ""),
        sensitivity=stored.get("sensitivity", ""),
        filed=stored["filed"],
        score=score,
        author=stored.get("author", ""),
        doc_number=stored.get("doc_number", ""),
        reference_code=stored.get("reference_code") or "",
        dated=stored.get("dated") or "",
    )
