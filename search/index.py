"""The search facade: index, remove and query records; the only module that opens Whoosh.

One writer: callers batch documents into :meth:`SearchIndex.write` (one commit per batch),
and lock errors are retried with backoff. Permissions are part of the query, never a filter
applied to results afterwards, so hits, totals and facets only ever count what the caller
may know exists.

The index holds keyed hashes of the terms, never words (``search.analysis.TermHasher``):
documents are hashed here, before the writer (so the key never reaches its helper processes
or job files), queries are parsed with the keyed analyzer. The directory keeps a fingerprint
of the key; another key means a rebuild.

Analysis (normalisation, OpenCC, jieba) is most of the CPU of indexing a document, and the
live writer is one process: :meth:`SearchIndex.write` has a batch's texts analysed by a pool
of helper processes (one per core but one), which send back words; this process only hashes them
and writes, while the pool analyses the next documents.
"""

from __future__ import annotations

import contextlib
import hmac
import multiprocessing
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as q
from whoosh.index import FileIndex, LockError
from whoosh.reading import MultiReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter

from archive.description import doc_number_key
from search.analysis import TermHasher, chinese_words, fingerprint, fold, keyed_analyzer
from search.docsets import DocSets
from search.documents import IndexDoc as IndexDoc  # the callers' name for it
from search.documents import texts_of, whoosh_fields
from search.pool import analyse, analysed_texts
from search.population import Population
from search.query import QueryError as QueryError  # the callers' name for it
from search.query import parse_query
from search.ranking import whoosh_top
from search.results import Hit as Hit
from search.results import Results as Results
from search.results import SnippetSource as SnippetSource
from search.results import Visibility as Visibility
from search.results import hit_from
from search.results import one_by_one as one_by_one
from search.schema import SCHEMA_VERSION, make_schema
from search.segment_cache import SegmentStore
from search.segments import merge_small_in_order, retrying, with_deletions
from search.snippet_place import snippet_place, wanted_terms
from search.snippets import snippet_html

FACETS = (
    "project",
    "department",
    "process",
    "stage",
    "record_type",
    "sensitivity",
    "retention_code",
)
#: What a search may be narrowed by: the facets, and 责任者 and 文号 (exact; too many
#: values to count as facets). A 文号 matches however its brackets and widths are written.
FILTERS = (*FACETS, "author", "doc_number")
#: What ``archive index check`` compares with the database beside the version: what is
#: searched, filtered and counted by.
DESCRIBED = ("version_id", "title", "name", "reference_code", *FILTERS)
MAX_RESULT_WINDOW = 10_000  # deep paging costs a top-N of this size; narrow the query instead
_SPACES = re.compile(r"\s+")
_VERSION_FILE = "schema_version"
_KEY_FILE = "key_fingerprint"  # a keyed hash of a constant, never the key
#: Segments with at least this share of deleted documents are rewritten by
#: :meth:`SearchIndex.merge_deletions` (the scheduled merge).
MERGE_DELETED_SHARE = 0.1


class SearchIndex:
    """One index directory. Keeps one searcher open (reopened when the index changes) and
    caches permission filters, facet values and lengths as document-number sets per
    segment (:mod:`search.docsets`), since the same few visibilities recur on every query
    and a commit adds a small segment beside large unchanged ones. ``key`` keys the term
    hashes (the keyring's ``INDEX_PURPOSE`` secret); it stays in this object's memory."""

    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory = directory
        self._hasher = TermHasher(key)
        self._queries = make_schema(keyed_analyzer(self._hasher))  # in memory only
        self._highlighter = keyed_analyzer(self._hasher, folded=True)  # on folded text
        self._lock = threading.RLock()  # create() may run inside a locked search
        self._searcher: Any = None
        self._sets: DocSets | None = None
        self._segments = SegmentStore()  # outlives searchers: per-segment caches

    # -- opening -------------------------------------------------------------------------
    def keyed_by(self, key: bytes) -> bool:
        """Whether this handle hashes terms with ``key``."""
        return hmac.compare_digest(fingerprint(key), self._hasher.fingerprint)

    def _version_on_disk(self) -> int | None:
        path = self.directory / _VERSION_FILE
        try:
            return int(path.read_text().strip())
        except (OSError, ValueError):
            return None

    def _fingerprint_on_disk(self) -> str | None:
        try:
            return (self.directory / _KEY_FILE).read_text().strip()
        except OSError:
            return None

    def needs_rebuild(self) -> bool:
        """No index, another schema version, or terms hashed with another key."""
        return (
            not retrying(lambda: whoosh_index.exists_in(str(self.directory)))
            or self._version_on_disk() != SCHEMA_VERSION
            or self._fingerprint_on_disk() != self._hasher.fingerprint
        )

    def create(self) -> None:
        """A new, empty index (an old one with another schema version is discarded)."""
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True, mode=0o700)
        whoosh_index.create_in(str(self.directory), make_schema())
        (self.directory / _KEY_FILE).write_text(f"{self._hasher.fingerprint}\n")
        (self.directory / _VERSION_FILE).write_text(f"{SCHEMA_VERSION}\n")

    def _open(self) -> FileIndex:
        if self.needs_rebuild():
            self.create()
        return retrying(lambda: whoosh_index.open_dir(str(self.directory)))

    def _current_searcher(self) -> tuple[Any, DocSets]:
        """The open searcher and its set caches, reopened if the index changed (call locked).

        The new searcher's :class:`DocSets` reuses the caches of every segment it shares
        with the old one (:class:`SegmentStore`), so a reopen after a small commit computes
        only the new segments'."""
        if self._searcher is not None and self.needs_rebuild():
            self._searcher.close()
            self._searcher = None
        if self._searcher is not None and not self._searcher.up_to_date():
            self._searcher = self._reopen(self._searcher)
            self._sets = DocSets(self._searcher, self._segments)
        if self._searcher is None or self._sets is None:
            self._searcher = self._open().searcher()
            self._sets = DocSets(self._searcher, self._segments)
        return self._searcher, self._sets

    def _reopen(self, old: Any) -> Any:
        """A searcher on the latest commit that keeps ``old``'s readers of the segments it
        still has. Opening a segment's terms copies its term file into memory (tens of MB
        for a large segment), so a reopen would cost in proportion to the index.
        Not Whoosh's Searcher.refresh(): that reuses a reader whose segment has new
        deletions as it was, so removed records would still be found; here such a reader
        gets the segment's new deletions (a new per-document reader) and keeps its terms."""
        ix = self._open()
        held = {
            reader.segment().segment_id(): reader
            for reader, _ in old.reader().leaf_readers()
            if isinstance(reader, SegmentReader)
        }
        readers, opened = [], []
        try:
            toc = ix._read_toc()
            for segment in toc.segments:
                reader = held.pop(segment.segment_id(), None)
                if reader is None:
                    reader = SegmentReader(ix.storage, toc.schema, segment, toc.generation)
                    opened.append(reader)
                elif reader.segment().deleted_count() != segment.deleted_count():
                    reader = with_deletions(reader, segment)
                reader._gen = toc.generation
                readers.append(reader)
        except OSError:  # a writer removed a merged segment's files meanwhile: open afresh
            for reader in [*opened, old]:
                with contextlib.suppress(Exception):
                    reader.close()
            return ix.searcher()  # Whoosh retries that case
        for gone in held.values():  # merged away
            gone.close()
        if not readers:
            return ix.searcher()
        top = readers[0] if len(readers) == 1 else MultiReader(readers, generation=toc.generation)
        return Searcher(top, fromindex=ix)

    # -- writing -------------------------------------------------------------------------
    def _writer(self, ix: FileIndex, retries: int, **options: Any) -> IndexWriter:
        """The index's one writer, waiting for the lock with backoff."""
        for attempt in range(retries):
            try:
                return ix.writer(timeout=2.0, **options)
            except LockError:
                if attempt == retries - 1:
                    raise
                time.sleep(min(2.0, 0.05 * 2**attempt))
        raise LockError("no attempt made")

    def write(
        self,
        docs: Iterable[IndexDoc] = (),
        remove: Iterable[str] = (),
        retries: int = 8,
        parallel: bool | None = None,
    ) -> int:
        """Add or replace ``docs`` and remove record ids ``remove`` in one commit. The texts
        are analysed by the helper pool when there is enough of them (``parallel``: always,
        or never); the pool starts on them before the writer lock is taken."""
        batch, gone = list(docs), list(remove)
        if not batch and not gone:
            return 0
        analysed = analysed_texts([texts_of(doc) for doc in batch], parallel)
        ix = self._open()
        writer = self._writer(ix, retries)
        try:
            for record_id in gone:
                writer.delete_by_term("record_id", record_id)
            for doc, texts in zip(batch, analysed, strict=True):
                writer.update_document(**whoosh_fields(doc, texts, self._hasher.word))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=merge_small_in_order)
        return len(batch) + len(gone)

    def merge_deletions(self, share: float = MERGE_DELETED_SHARE, retries: int = 8) -> int:
        """Rewrite the segments in which at least ``share`` of the documents are deleted
        (updates delete the old document): their postings still hold the deleted ones, so
        without this the index grows with every update and queries read past them. Whoosh's
        own merges only take small segments. Returns how many deleted documents went."""
        ix = self._open()
        writer = self._writer(ix, retries)

        def wanted(segment: Any) -> bool:
            deleted = segment.deleted_count()
            return bool(deleted) and deleted >= share * segment.doc_count_all()

        def policy(writer: Any, segments: list[Any]) -> list[Any]:
            for segment in filter(wanted, segments):
                reader = SegmentReader(writer.storage, writer.schema, segment)
                writer.add_reader(reader)  # copies the live documents only
                reader.close()
            return [segment for segment in segments if not wanted(segment)]

        try:
            purged = int(sum(s.deleted_count() for s in writer.segments if wanted(s)))
            if not purged:  # no new generation: searchers stay as they are
                writer.cancel()
                return 0
            writer.commit(mergetype=policy)
        except BaseException:
            writer.cancel()
            raise
        return purged

    def bulk_load(self, docs: Iterable[IndexDoc], procs: int | None = None) -> int:
        """Fill a fresh index (after :meth:`create`) in one commit, analysed by ``procs``
        processes; memory stays bounded by the writers' buffers, not by the number of docs.
        Until the commit, searches see the index as it was. Documents are analysed and hashed
        in this process (the helpers only get hashes): on two cores the helpers' posting
        work, not the analysis, is the limit."""
        procs = procs or os.cpu_count() or 1
        if multiprocessing.current_process().daemon:  # e.g. a pool child: no children
            procs = 1
        ix = self._open()
        options: dict[str, Any] = {"limitmb": 128}
        if procs > 1:
            options.update(procs=procs, multisegment=True)  # one segment per process
        writer = ix.writer(timeout=2.0, **options)
        added = 0
        try:
            for doc in docs:
                writer.add_document(**whoosh_fields(doc, analyse(texts_of(doc)), self._hasher.word))
                added += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return added

    def parse_query(self, text: str) -> q.Query:
        """``text`` as a query on the hashed terms (see :func:`search.query.parse_query`)."""
        return parse_query(text, self._queries)

    def _marked(
        self, hit: Hit, text: str | None, hashed: frozenset[str], chinese: frozenset[str]
    ) -> Hit:
        """The hit with its snippet cut from ``text`` and marked, outside the lock."""
        if not text:
            return hit

        # Offsets are in the folded text, so the folded text is cut and marked; the keyed
        # analyzer names the words whose hashes the query holds. A few lines, one window.
        def tokens(piece: str) -> Iterator[tuple[str, int, int]]:
            for token in self._highlighter(piece, chars=True, only=chinese):
                yield token.text, token.startchar, token.endchar

        fragment = snippet_html(fold(_SPACES.sub(" ", text)), hashed, tokens)
        return replace(hit, snippet=fragment.strip() or None)

    # -- reading -------------------------------------------------------------------------
    def search(
        self,
        text: str,
        visibility: Visibility,
        filters: dict[str, str] | None = None,
        page: int = 1,
        per_page: int = 20,
        sort: str = "relevance",
        filed_from: datetime | None = None,
        filed_to: datetime | None = None,
        snippets: SnippetSource | None = None,
        facets: bool = True,
        readable: Visibility | None = None,
    ) -> Results:
        """Records the caller may know of (``visibility``) that match ``text`` and the
        filters. ``readable``: what the caller may read; only there do the words reach a
        record's text (and its score), so a record one may not read is found by its
        description alone and its text cannot be tested word by word."""
        # 责任者 or 文号 alone is a search: every record with it (that the caller may know).
        # No words: every record the caller may know of (browsing), newest first; with
        # filters, every record that has them (责任者 or 文号 alone is a search).
        browsing = not text.strip()
        user_query = q.Every() if browsing else self.parse_query(text)
        if browsing:
            sort = "date"
        restrictions: list[q.Query] = [_filter(k, v) for k, v in sorted((filters or {}).items())]
        if filed_from is not None or filed_to is not None:
            restrictions.append(
                q.DateRange(
                    "filed",
                    filed_from.replace(tzinfo=None) if filed_from else None,
                    filed_to.replace(tzinfo=None) if filed_to else None,
                )
            )
        allowed = visibility.as_query()
        if allowed is not None:
            restrictions.append(allowed)
        start = (max(page, 1) - 1) * min(max(per_page, 1), 100)
        stop = start + min(max(per_page, 1), 100)
        if stop > MAX_RESULT_WINDOW:
            raise QueryError(
                f"only the first {MAX_RESULT_WINDOW} results can be paged; narrow the search"
            )
        with self._lock:  # one query at a time per process shares the open searcher
            searcher, sets = self._current_searcher()
            # Totals and facets from sets, under the caller's permissions: what the caller
            # may not know of is never counted.
            reads = readable.as_query() if readable is not None else None
            # Scored on what the caller may know of and read: see search.population.
            known = [] if allowed is None else [allowed]
            # The text's figures over what the caller may read *and* know of: a record one
            # reads by standing but may not know of (a supervisor cleared above what their
            # role may know) is never counted either.
            population = Population(sets, known, None if reads is None else [reads, *known])
            text_in = population.text_in
            matched = sets.matching(user_query, text_in) & sets.allowed(restrictions)
            counted = {name: sets.facet_counts(name, matched) for name in FACETS} if facets else {}
            if start >= len(matched):
                return Results(total=len(matched), hits=[], facets=counted)
            if sort == "date":
                scored = [(docnum, 0.0) for docnum in sets.newest_first(matched, stop)[start:]]
            else:
                best = sets.top(user_query, matched, stop, population)
                if best is None:  # phrases and the like: Whoosh's matchers score them
                    best = whoosh_top(searcher, user_query, matched, stop, population)
                scored = best[start:]
            hashed = wanted_terms(user_query) if snippets is not None else frozenset()
            placed = []
            for docnum, score in scored:
                stored = searcher.stored_fields(docnum)
                # A text the caller may not search is not looked into for a snippet either.
                cut = text_in is None or docnum in text_in
                place = snippet_place(searcher, docnum, hashed, stored) if cut else None
                placed.append((hit_from(stored, score), place))
        # Snippets read content (a ranged GET on S3) and mark it: other searches need not wait.
        wanted = [(hit, place.block) for hit, place in placed if place is not None]
        texts = snippets(wanted) if snippets is not None and wanted else []
        text_of = {id(hit): piece for (hit, _), piece in zip(wanted, texts, strict=True)}
        chinese = chinese_words(text)  # the query's words, for marking
        hits = [self._marked(hit, text_of.get(id(hit)), hashed, chinese) for hit, _ in placed]
        return Results(total=len(matched), hits=hits, facets=counted)

    def close(self) -> None:
        """Close the searcher and drop every cache (the next search starts cold)."""
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
            self._segments = SegmentStore()

    def doc_count(self) -> int:
        with self._open().searcher() as searcher:
            return int(searcher.doc_count())

    def indexed_versions(self) -> dict[str, str]:
        """record id → indexed version id, for comparing with the database."""
        return {rid: fields["version_id"] for rid, fields in self.indexed_descriptions().items()}

    def indexed_descriptions(self) -> dict[str, dict[str, str]]:
        """record id → what the index keeps of it (:data:`DESCRIBED`), as text."""
        with self._open().searcher() as searcher:
            return {
                fields["record_id"]: {name: str(fields.get(name) or "") for name in DESCRIBED}
                for fields in searcher.all_stored_fields()
            }


def _filter(name: str, value: str) -> q.Query:
    """A filter as a term; a 文号 on its folded form (``[2025]`` finds ``〔2025〕``)."""
    if name == "doc_number":
        return q.Term("doc_number_key", doc_number_key(value) or "")
    return q.Term(name, value)
