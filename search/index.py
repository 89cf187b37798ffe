"""The search facade: index, remove and query records; the only module that opens Whoosh.

One writer: callers batch documents into :meth:`SearchIndex.write` (one commit per batch),
and lock errors are retried with backoff. Permissions are part of the query, never a filter
applied to results afterwards, so hits, totals and facets only ever count what the caller
may know exists.

The index holds keyed hashes of the terms, never words (``search.analysis.TermHasher``):
documents are analysed and hashed here, before the writer (so the key never reaches its
helper processes or job files), queries are parsed with the keyed analyzer. The directory
keeps a fingerprint of the key; another key means a rebuild.
"""

from __future__ import annotations

import hmac
import multiprocessing
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from whoosh import highlight
from whoosh import index as whoosh_index
from whoosh import query as q
from whoosh.index import FileIndex, LockError

from search.analysis import TermHasher, fingerprint, fold, keyed_analyzer
from search.docsets import DocSets
from search.query import SEARCHED, parse_query
from search.query import QueryError as QueryError  # the callers' name for it
from search.schema import SCHEMA_VERSION, make_schema

FACETS = (
    "project",
    "department",
    "process",
    "stage",
    "record_type",
    "sensitivity",
    "retention_code",
)
MAX_RESULT_WINDOW = 10_000  # deep paging costs a top-N of this size; narrow the query instead
_VERSION_FILE = "schema_version"
_KEY_FILE = "key_fingerprint"  # a keyed hash of a constant, never the key


@dataclass(frozen=True)
class IndexDoc:
    record_id: str
    version_id: str
    title: str
    content: str
    name: str
    project: str
    department: str
    sensitivity: str
    filed: datetime
    process: str = ""
    stage: str = ""
    record_type: str = ""
    reference_code: str = ""
    retention_code: str = ""
    size: int = 0


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


#: Given a hit the caller may read right now, its text (else None: metadata only).
SnippetSource = Callable[[Hit], str | None]


@dataclass(frozen=True)
class Results:
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class SearchIndex:
    """One index directory. Keeps one searcher open (refreshed when the index changes) and
    caches permission filters as document-number sets per searcher, since the same few
    visibilities recur on every query. ``key`` keys the term hashes (the keyring's
    ``INDEX_PURPOSE`` secret); it stays in this object's memory."""

    def __init__(self, directory: Path, key: bytes) -> None:
        self.directory = directory
        self._hasher = TermHasher(key)
        self._queries = make_schema(keyed_analyzer(self._hasher))  # in memory only
        self._lock = threading.RLock()  # create() may run inside a locked search
        self._searcher: Any = None
        self._sets: DocSets | None = None

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
            not whoosh_index.exists_in(str(self.directory))
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
        return whoosh_index.open_dir(str(self.directory))

    def _current_searcher(self) -> tuple[Any, DocSets]:
        """The open searcher and its set caches, reopened if the index changed (call locked)."""
        if self._searcher is not None and (self.needs_rebuild() or not self._searcher.up_to_date()):
            # Reopened, not Searcher.refresh(): that reuses segment readers, and a reused
            # segment keeps its old deletion set, so removed records would still be found.
            self._searcher.close()
            self._searcher = None
        if self._searcher is None or self._sets is None:
            self._searcher = self._open().searcher()
            self._sets = DocSets(self._searcher)
        return self._searcher, self._sets

    # -- writing -------------------------------------------------------------------------
    def write(
        self,
        docs: Iterable[IndexDoc] = (),
        remove: Iterable[str] = (),
        retries: int = 8,
    ) -> int:
        """Add or replace ``docs`` and remove record ids ``remove`` in one commit."""
        batch, gone = list(docs), list(remove)
        if not batch and not gone:
            return 0
        ix = self._open()
        for attempt in range(retries):
            try:
                writer = ix.writer(timeout=2.0)
                break
            except LockError:
                if attempt == retries - 1:
                    raise
                time.sleep(min(2.0, 0.05 * 2**attempt))
        try:
            for record_id in gone:
                writer.delete_by_term("record_id", record_id)
            for doc in batch:
                writer.update_document(**self._fields(doc))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return len(batch) + len(gone)

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
                writer.add_document(**self._fields(doc))
                added += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return added

    # -- terms -------------------------------------------------------------------------
    def _fields(self, doc: IndexDoc) -> dict[str, Any]:
        text = self._hasher.text
        content = text(doc.content)
        return {
            "record_id": doc.record_id,
            "version_id": doc.version_id,
            "title": text(doc.title),
            "_stored_title": doc.title,
            "content": content,
            "content_terms": content,  # the same string: analysed and hashed once
            "name": doc.name,
            "name_text": text(doc.name),
            "reference_code": doc.reference_code,
            "project": doc.project,
            "project_text": text(doc.project),
            "department": doc.department,
            "process": doc.process,
            "stage": doc.stage,
            "record_type": doc.record_type,
            "sensitivity": doc.sensitivity,
            "retention_code": doc.retention_code,
            "filed": doc.filed.replace(tzinfo=None),
            "size": doc.size,
        }

    def parse_query(self, text: str) -> q.Query:
        """``text`` as a query on the hashed terms (see :func:`search.query.parse_query`)."""
        return parse_query(text, self._queries)

    def _with_snippet(self, query: q.Query, hit: Hit, snippets: SnippetSource | None) -> Hit:
        if snippets is None:
            return hit
        text = snippets(hit)
        if not text:
            return hit
        hashed = {
            term.decode("utf-8") if isinstance(term, bytes) else str(term)
            for field, term in query.iter_all_terms()
            if field in SEARCHED
        }
        # Offsets are in the folded text, so highlight the folded text; the keyed analyzer
        # marks the words whose hashes the query holds.
        fragment = highlight.highlight(
            fold(text),
            frozenset(hashed),
            self._queries["content"].analyzer,
            highlight.ContextFragmenter(maxchars=160, surround=40),
            highlight.HtmlFormatter(tagname="mark", between=" … "),
            top=2,
        )
        return replace(hit, snippet=fragment or None)

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
    ) -> Results:
        user_query = self.parse_query(text)
        restrictions: list[q.Query] = [q.Term(k, v) for k, v in sorted((filters or {}).items())]
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
            matched = sets.matching(user_query) & sets.allowed(restrictions)
            counted = {name: sets.facet_counts(name, matched) for name in FACETS} if facets else {}
            if start >= len(matched):
                return Results(total=len(matched), hits=[], facets=counted)
            if sort == "date":
                scored = [(docnum, 0.0) for docnum in sets.newest_first(matched, stop)[start:]]
            else:
                best = sets.top(user_query, matched, stop)
                if best is None:  # phrases and the like: Whoosh's matchers score them
                    # matched is non-empty here, which matters: Whoosh reads an empty
                    # filter as "no filter".
                    found = searcher.search(user_query, limit=stop, filter=matched, terms=False)
                    best = [(hit.docnum, float(hit.score or 0.0)) for hit in found]
                scored = best[start:]
            hits = [
                self._with_snippet(
                    user_query, _hit(searcher.stored_fields(docnum), score), snippets
                )
                for docnum, score in scored
            ]
            return Results(total=len(matched), hits=hits, facets=counted)

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    def doc_count(self) -> int:
        with self._open().searcher() as searcher:
            return int(searcher.doc_count())

    def indexed_versions(self) -> dict[str, str]:
        """record id → indexed version id, for comparing with the database."""
        with self._open().searcher() as searcher:
            return {
                fields["record_id"]: fields["version_id"] for fields in searcher.all_stored_fields()
            }


def _hit(stored: dict[str, Any], score: float) -> Hit:
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
    )
