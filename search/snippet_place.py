"""Where a hit's snippet comes from: the query's wanted words, found by their positions in
the index, name the one block of text to decrypt (see :mod:`search.blocks`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from whoosh import query as q

from search.blocks import block_of, decode_map
from search.query import SEARCHED


@dataclass(frozen=True)
class Place:
    """Where a hit's snippet is cut from: its block of text, or the text's start (None) when
    it was indexed without a block map."""

    block: int | None


def wanted_terms(query: q.Query) -> frozenset[str]:
    """The hashed words a hit is wanted for: the query's terms in the searched fields and
    its phrases' words, less those under NOT."""
    if isinstance(query, q.Not):
        return frozenset()
    if isinstance(query, q.AndNot):
        return wanted_terms(query.a)
    if query.is_leaf():
        return frozenset(
            term.decode("utf-8") if isinstance(term, bytes) else str(term)
            for field, term in query.iter_all_terms()
            if field in SEARCHED or field == "content"
        )
    return frozenset().union(*(wanted_terms(child) for child in query.children()))


def first_position(reader: Any, docnum: int, terms: frozenset[str]) -> int | None:
    """The first position in document ``docnum``'s ``content`` of any of ``terms``."""
    first: int | None = None
    for term in terms:
        if ("content", term) not in reader:
            continue
        postings = reader.postings("content", term)
        postings.skip_to(docnum)
        if postings.is_active() and postings.id() == docnum:
            positions = postings.value_as("positions")
            if positions and (first is None or positions[0] < first):
                first = positions[0]
    return first


def snippet_place(
    searcher: Any, docnum: int, hashed: frozenset[str], stored: dict[str, Any]
) -> Place | None:
    """Where a hit's snippet is to be cut from (its block, from the index's positions),
    or None when it gets none: under the index's lock, as it needs the searcher."""
    if not hashed:  # no snippets asked, browsing, or only NOT words: nothing decrypted
        return None
    starts = decode_map(stored.get("blocks"))
    if starts is None:
        return Place(None)
    first = first_position(searcher.reader(), docnum, hashed)
    if first is None:  # the text holds none of the words: nothing to show, no read
        return None
    return Place(block_of(starts, first))
