"""What the facade needs of Whoosh's segments beyond Whoosh's own API: reading the table of
contents while another process commits, a segment reader that sees new deletions but keeps
its terms, and merging small segments without moving the large ones."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from whoosh.reading import SegmentReader
from whoosh.writing import MERGE_SMALL

T = TypeVar("T")


def retrying(read: Callable[[], T], attempts: int = 20) -> T:
    """``read`` of the index's table of contents, again when a commit in another process
    replaced the file between listing and opening it (FileNotFoundError; Whoosh's own
    readers retry the same way)."""
    for _ in range(attempts - 1):
        try:
            return read()
        except FileNotFoundError:
            time.sleep(0.01)
    return read()


def with_deletions(reader: Any, segment: Any) -> Any:
    """``reader`` for ``segment``, the same segment with more deletions: its terms (and
    open files) kept, a new per-document reader (deletions, stored fields, lengths). The
    old reader's per-document reader is closed; the old reader is not used again."""
    fresh = SegmentReader.__new__(SegmentReader)
    fresh.__dict__.update(
        {k: v for k, v in reader.__dict__.items() if k != "deleted_docs_set"}  # cached
    )
    fresh._segment = segment
    fresh._perdoc = reader._codec.per_document_reader(reader._storage, segment)
    reader._perdoc.close()
    return fresh


def merge_small_in_order(writer: Any, segments: list[Any]) -> list[Any]:
    """Whoosh's merge of small segments, but the segments it keeps stay in their order
    (Whoosh's own returns them sorted by size): a segment's document numbers start where the
    segments before it end, and the caches of :mod:`search.docsets` are kept per segment at
    its offset, so the large old segments must not move when small new ones are merged."""
    kept = {segment.segment_id() for segment in MERGE_SMALL(writer, segments)}
    return [segment for segment in segments if segment.segment_id() in kept]
