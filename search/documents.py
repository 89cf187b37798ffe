"""A record's version as the index takes it: the texts to analyse, and the fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archive.description import doc_number_key
from search.blocks import encode_map


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
    filed: datetime  # the document's date (filters, sort, newest first), at midnight
    process: str = ""
    stage: str = ""
    record_type: str = ""
    reference_code: str = ""
    retention_code: str = ""
    size: int = 0
    author: str = ""  # 责任者
    doc_number: str = ""  # 文号 as written
    remarks: str = ""  # 备注: searched, never stored
    dated: str = ""  # the document's date as given: 2014-06 when only the month is known
    #: Character offsets in ``content`` where its pieces begin (:func:`search.blocks.pieces`):
    #: the content is analysed piece by piece and the block map stored. Empty: analysed whole,
    #: no map (a snippet then reads a bounded prefix).
    blocks: tuple[int, ...] = ()


#: How many of :func:`texts_of` come before the content's pieces.
FIELD_TEXTS = 6


def texts_of(doc: IndexDoc) -> list[str]:
    """The texts of a document that are analysed: title, name, project, its description
    (责任者, 文号, 备注: each alone, since the normaliser joins Chinese across a space and
    "…综合组 沪销发…" would segment as "组沪销"), then its content piece by piece
    (:mod:`search.blocks`; one piece without a block map)."""
    starts = doc.blocks or (0,)
    ends = [*starts[1:], len(doc.content)]
    return [
        doc.title,
        doc.name,
        doc.project,
        doc.author,
        doc.doc_number,
        doc.remarks,
        *(doc.content[begin:end] for begin, end in zip(starts, ends, strict=True)),
    ]


def whoosh_fields(
    doc: IndexDoc, analysed: Sequence[str], word: Callable[[str], str]
) -> dict[str, Any]:
    """The document as Whoosh takes it; ``analysed`` is :func:`search.pool.analyse` of
    :func:`texts_of` it (words), hashed here by ``word``."""

    def text(analysed: str) -> str:
        return " ".join([word(w) for w in analysed.split()])

    title, name, project, *described = analysed[:FIELD_TEXTS]
    pieces = analysed[FIELD_TEXTS:]
    blocks: dict[str, bytes] = {}
    if doc.blocks:
        hashed: list[str] = []
        starts: list[int] = []
        for piece in pieces:
            starts.append(len(hashed))
            hashed.extend([word(w) for w in piece.split()])
        content = " ".join(hashed)
        blocks["blocks"] = encode_map(starts)
    else:
        content = text(pieces[0])
    return {
        **blocks,
        "record_id": doc.record_id,
        "version_id": doc.version_id,
        "title": text(title),
        "_stored_title": doc.title,
        "content": content,
        "content_terms": content,  # the same string: analysed and hashed once
        "name": doc.name,
        "name_text": text(name),
        "reference_code": doc.reference_code,
        "project": doc.project,
        "project_text": text(project),
        "author": doc.author,
        "doc_number": doc.doc_number,
        "doc_number_key": doc_number_key(doc.doc_number) or "",
        "description_text": text(" ".join(described)),
        "department": doc.department,
        "process": doc.process,
        "stage": doc.stage,
        "record_type": doc.record_type,
        "sensitivity": doc.sensitivity,
        "retention_code": doc.retention_code,
        "filed": doc.filed.replace(tzinfo=None),
        "dated": doc.dated or doc.filed.date().isoformat(),
        "size": doc.size,
    }
