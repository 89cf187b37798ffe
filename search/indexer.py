"""The one index writer: turns outbox rows (``record_changes``) into index updates, in batches.

A record is indexed as its latest version: metadata, and the text kept as the version's
``text`` rendition (decrypted here; the index lives on the archive's own disk). A record
whose content was destroyed, or that has no version, leaves the index.

The text is indexed in pieces of about a page (:mod:`search.blocks`), and a search snippet
reads back only the piece its match is in (:func:`snippet_text`): the segments of the
encrypted rendition that hold it, never the whole text.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from archive.content import ContentDestroyed, read_content
from archive.content.read import SealedText, read_sealed_range, sealed_renditions
from archive.core import Archive
from archive.crypto.keyring import INDEX_PURPOSE
from archive.models import (
    Record,
    RecordChange,
    RecordState,
    Rendition,
    RenditionRole,
    RetentionSchedule,
    Version,
)
from archive.refcode import effective_period
from search import blocks
from search.index import DESCRIBED, MERGE_DELETED_SHARE, IndexDoc, SearchIndex

MAX_TEXT_BYTES = 20 * 1024 * 1024  # what is indexed of a very long text


_OPEN: dict[Path, SearchIndex] = {}


def open_index(arc: Archive) -> SearchIndex:
    """This process's handle on the archive's index (it keeps a searcher open), its terms
    keyed by the keyring's index secret."""
    directory = arc.settings.index_dir
    key = arc.keyring.secret(INDEX_PURPOSE)
    held = _OPEN.get(directory)
    if held is None or not held.keyed_by(key):
        if held is not None:
            held.close()
        held = _OPEN[directory] = SearchIndex(directory, key)
    return held


def _latest(session: Session, record_id: uuid.UUID) -> Version | None:
    return session.scalar(
        select(Version)
        .where(Version.record_id == record_id)
        .order_by(Version.major.desc(), Version.minor.desc())
        .limit(1)
    )


def _has_text(session: Session, version: Version) -> bool:
    return (
        session.scalar(
            select(Rendition.id).where(
                Rendition.version_id == version.id, Rendition.role == RenditionRole.TEXT
            )
        )
        is not None
    )


def _text(arc: Archive, session: Session, version: Version) -> bytes | None:
    """The version's extracted text (what is indexed of it); None when its content was
    destroyed."""
    if not _has_text(session, version):
        return b""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in read_content(arc, session, version, RenditionRole.TEXT):
            chunks.append(chunk)
            size += len(chunk)
            if size >= MAX_TEXT_BYTES:
                break
    except ContentDestroyed:
        return None
    return b"".join(chunks)[:MAX_TEXT_BYTES]


def snippet_texts(
    arc: Archive, session: Session, wanted: Sequence[tuple[uuid.UUID, int | None]]
) -> list[str | None]:
    """For each (version id, block), the text a snippet is cut from: its piece ``block``
    (see :mod:`search.blocks`), or with no block map its first few KiB; None if it has no
    text or its content is gone. Where the texts are is found in one query for all of them;
    only the segments of each encrypted text that hold its piece are read. The caller
    checks access."""
    sealed = sealed_renditions(
        session, {version_id for version_id, _ in wanted}, RenditionRole.TEXT
    )
    return [_piece(arc, sealed.get(version_id), block) for version_id, block in wanted]


def snippet_text(
    arc: Archive, session: Session, version_id: uuid.UUID, block: int | None
) -> str | None:
    """One version's snippet text (see :func:`snippet_texts`)."""
    return snippet_texts(arc, session, [(version_id, block)])[0]


def _piece(arc: Archive, sealed: SealedText | None, block: int | None) -> str | None:
    if sealed is None:
        return None
    start, length = blocks.wanted(block) if block is not None else (0, blocks.PREFIX_BYTES)
    read = read_sealed_range(arc, sealed, RenditionRole.TEXT, start, length)
    end = min(read.size, MAX_TEXT_BYTES)  # the pieces were cut on what was indexed
    if block is None:
        return blocks.prefix(read.data[: end - read.start])
    if start >= end:  # the text is not the one indexed: nothing to show
        return None
    return blocks.piece(read.data[: end - read.start], read.start, block, end)


def document(arc: Archive, session: Session, record_id: uuid.UUID) -> IndexDoc | None:
    """The record as the index should hold it, or None if it should not be there."""
    record = session.get(Record, record_id)
    if record is None or record.state in (RecordState.DISPOSED,):
        return None
    version = _latest(session, record_id)
    if version is None:
        return None
    data = _text(arc, session, version)
    if data is None:
        return None
    text, starts = blocks.pieces(data)
    return IndexDoc(
        record_id=str(record.id),
        version_id=str(version.id),
        title=record.title,
        content=text,
        name=version.name,
        project=record.project.name,
        department=record.department.code if record.department else "",
        sensitivity=record.sensitivity.value,
        filed=datetime.combine(record.filed_on, time()),  # what 文件日期 filters and sorts by
        dated=record.document_date,
        retention_code=_retention_code(session, record),
        process=record.process or "",
        stage=record.stage or "",
        record_type=record.record_type or "",
        reference_code=record.reference_code or "",
        size=version.size,
        author=record.author or "",
        doc_number=record.doc_number or "",
        remarks=record.remarks or "",
        blocks=tuple(starts),
    )


def _retention_code(session: Session, record: Record) -> str:
    """The 保管期限 code (Y, D30…) the record is kept for, for the facet and filter: its
    schedule's, or its 档号's when longer."""
    schedule = session.get(RetentionSchedule, record.schedule_id) if record.schedule_id else None
    return effective_period(schedule.code if schedule is not None else "", record.reference_code)


@dataclass(frozen=True)
class FlushReport:
    indexed: int
    removed: int
    pending: int


def flush(arc: Archive, index: SearchIndex | None = None, batch: int = 500) -> FlushReport:
    """Index up to ``batch`` changed records in one commit; delete their outbox rows after.
    The texts are read here and analysed by :meth:`SearchIndex.write`'s helper pool, so
    this process (the one writer) mostly hashes and writes."""
    index = index or open_index(arc)
    if index.needs_rebuild():
        # A new schema version (or a lost index): rebuild from the database, which also
        # covers every queued change.
        rebuild(arc)
    with arc.sessions() as session:
        rows = session.execute(
            select(RecordChange.id, RecordChange.record_id).order_by(RecordChange.id).limit(batch)
        ).all()
        if not rows:
            return FlushReport(0, 0, 0)
        record_ids = list(dict.fromkeys(record_id for _, record_id in rows))
        docs, gone = [], []
        for record_id in record_ids:
            doc = document(arc, session, record_id)
            if doc is None:
                gone.append(str(record_id))
            else:
                docs.append(doc)
    index.write(docs, gone)
    with arc.transaction() as session:
        session.execute(delete(RecordChange).where(RecordChange.id.in_([i for i, _ in rows])))
        pending = session.scalar(select(func.count()).select_from(RecordChange)) or 0
    return FlushReport(len(docs), len(gone), pending)


def merge_deletions(
    arc: Archive, index: SearchIndex | None = None, share: float = MERGE_DELETED_SHARE
) -> int:
    """Rewrite the index segments where updates and removals left at least ``share`` of the
    documents deleted (:meth:`SearchIndex.merge_deletions`); how many deleted documents went."""
    index = index or open_index(arc)
    if index.needs_rebuild():
        return 0  # the next flush rebuilds it
    return index.merge_deletions(share)


def flush_all(arc: Archive, index: SearchIndex | None = None) -> FlushReport:
    """Flush batch after batch until the outbox is empty; the totals of all batches."""
    indexed = removed = 0
    while True:
        report = flush(arc, index)
        indexed, removed = indexed + report.indexed, removed + report.removed
        if not report.pending:
            return FlushReport(indexed, removed, 0)


def all_record_ids(arc: Archive, chunk: int = 1000) -> Iterator[list[uuid.UUID]]:
    """Every record id, in chunks, without loading them all at once."""
    last: uuid.UUID | None = None
    while True:
        with arc.sessions() as session:
            query = select(Record.id).order_by(Record.id).limit(chunk)
            if last is not None:
                query = query.where(Record.id > last)
            ids = list(session.scalars(query))
        if not ids:
            return
        yield ids
        last = ids[-1]


def rebuild(
    arc: Archive,
    progress: Callable[[int], None] = lambda n: None,
    chunk: int = 500,
    procs: int | None = None,
) -> int:
    """A fresh index from the database: records streamed in chunks (bounded memory),
    analysed by ``procs`` processes, one commit. Changes made meanwhile stay in the outbox
    for the next flush."""
    index = open_index(arc)
    index.create()

    def documents() -> Iterator[IndexDoc]:
        for ids in all_record_ids(arc, chunk):
            with arc.sessions() as session:
                docs = [d for d in (document(arc, session, i) for i in ids) if d is not None]
            yield from docs
            progress(len(ids))

    return index.bulk_load(documents(), procs=procs)


@dataclass(frozen=True)
class CheckReport:
    missing: list[str]  # in the database, not in the index
    stale: list[str]  # indexed with an older version or an older description
    extra: list[str]  # in the index, should not be

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.extra)


def check(arc: Archive, fix: bool = False) -> CheckReport:
    """Compare index and database; with ``fix``, queue every difference for the writer."""
    index = open_index(arc)
    indexed = index.indexed_descriptions()
    missing, stale = [], []
    expected: set[str] = set()
    for ids in all_record_ids(arc):
        with arc.sessions() as session:
            for record_id in ids:
                doc = document(arc, session, record_id)
                if doc is None:
                    continue
                expected.add(doc.record_id)
                if doc.record_id not in indexed:
                    missing.append(doc.record_id)
                elif any(
                    indexed[doc.record_id][name] != str(getattr(doc, name) or "")
                    for name in DESCRIBED
                ):  # an older version, or a description changed since (a 保管期限, say)
                    stale.append(doc.record_id)
    extra = sorted(set(indexed) - expected)
    report = CheckReport(sorted(missing), sorted(stale), extra)
    if fix and not report.ok:
        with arc.transaction() as session:
            for changed in [*report.missing, *report.stale, *report.extra]:
                session.add(RecordChange(record_id=uuid.UUID(changed)))
        flush_all(arc, index)
    return report
