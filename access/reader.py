"""The gated reader: the only way content leaves the archive.

Every attempt is decided by :mod:`access.policy` and written to the access log, allowed or
refused, before a byte is served. ``view`` and ``print`` of a PDF (or of a scan's OCR'd PDF,
or of an office document's PDF rendition) are stamped on every page with the reader's name,
address and time; a plain-text file is viewed as written (decoded, its lines and punctuation
as they are: the normalised text is the index's) and other formats as their extracted text,
under the same stamp. ``download`` and ``external`` give the
original file named by its canonical name, streamed: each decrypted segment is handed to the
web server as it is, with the version's size as the length.

Two steps, so that no reader holds the database's write lock while content is fetched and
stamped (on SQLite that lock is the whole database's): :func:`prepare` decides and prepares
in a read session; :func:`commit_read` decides again in the write transaction, a few quick
queries, and writes the log line, so a grant revoked in between still refuses.
"""

from __future__ import annotations

import codecs
import mimetypes
import uuid
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from access.grants import grants_of
from access.policy import Decision, may_know, may_read
from access.watermark import CannotStamp, watermark_pdf
from archive.accesslog import ALLOWED, REFUSED, Client, log_access
from archive.content import ContentDestroyed, read_content
from archive.core import Archive
from archive.crypto.stream import ContentIntegrityError
from archive.db import LOCAL_TIME
from archive.models import Rendition, RenditionRole, Scope, User, Version
from archive.storage import BlobNotFound, StorageError
from ingest.textfile import SAMPLE_BYTES, detect_encoding

PDF = "application/pdf"
MAX_STAMPED_BYTES = 512 * 1024**2  # a PDF is stamped in memory
WHOLE_TEXT_BYTES = 16 * 1024**2  # a text up to this is decoded whole, to send its length


#: A version with its record (the policy needs it on every read) in one query, built once:
#: a statement object used again skips SQLAlchemy's per-call building and cache-key work.
_VERSION = (
    select(Version).options(joinedload(Version.record)).where(Version.id == bindparam("version_id"))
)


class TooLargeToStamp(Exception):
    """A PDF is stamped in memory; beyond the limit it can only be downloaded."""


@dataclass(frozen=True)
class Served:
    """What to send: ``body`` may hold an open blob, so whoever takes it must iterate it to
    the end or close it (a WSGI server does both); ``length`` is its size when known."""

    body: Iterable[bytes]
    media_type: str
    filename: str
    inline: bool
    length: int | None = None


@dataclass(frozen=True)
class Refused:
    """What the caller is told. ``reason``: the log's words for it (a page says them in the
    reader's language; none for a 404, whose log reason may say "beyond view");
    ``record_id``: only for a refusal of a record the caller may know of (403), so a page
    can offer its request form."""

    status: int
    message: str
    reason: str = ""
    record_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Refusal:
    """A refusal decided but not yet logged: what the caller is told, and the log's reason."""

    status: int
    message: str
    reason: str
    record_id: uuid.UUID | None = None


#: What can go wrong fetching content, and how the reader answers and logs it (in order:
#: a missing blob is a kind of storage error).
CONTENT_REFUSALS: tuple[tuple[type[Exception], int, str, str], ...] = (
    (ContentDestroyed, 410, "the content was destroyed", "content destroyed"),
    (
        BlobNotFound,
        500,
        "the stored content is missing: tell the records manager (a fixity failure)",
        "content missing",
    ),
    (
        StorageError,
        503,
        "the archive's storage cannot be reached right now; try again shortly",
        "storage unavailable",
    ),
    (
        ContentIntegrityError,
        500,
        "the stored content is damaged: tell the records manager (a fixity failure)",
        "content damaged",
    ),
    (TooLargeToStamp, 413, "too large to view in the browser", "too large to stamp"),
    (
        CannotStamp,
        422,
        "this PDF cannot be stamped, so it cannot be viewed in the browser",
        "cannot stamp",
    ),
)


def stamp_lines(user: User, client: Client, at: datetime) -> list[str]:
    named = user.display_name and user.display_name != user.username
    who = f"{user.display_name} ({user.username})" if named else user.username
    local = at.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S")
    return [f"{who}  {client.ip or '-'}", f"{local} 北京时间  仅供查阅 严禁外传"]


#: The extension of each format the archive keeps (ingest's sniffer decides the format).
EXTENSIONS = {
    PDF: ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.presentation": ".odp",
    "application/ofd": ".ofd",
    "text/plain": ".txt",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
}


def extension(media_type: str) -> str:
    """The extension of what is served, from its (sniffed) media type alone."""
    base = media_type.split(";", 1)[0].strip().lower()
    return EXTENSIONS.get(base) or mimetypes.guess_extension(base) or ".bin"


def filename(version: Version, media_type: str) -> str:
    """The canonical name with the extension of what is served. The name the uploader gave
    says nothing here: a PDF uploaded as ``evil.html`` is served as ``….pdf``."""
    return version.name + extension(media_type)


def _decide(
    session: Session, user: User, version_id: uuid.UUID, action: Scope, now: datetime
) -> tuple[Version, Decision] | Refusal:
    version = session.scalars(_VERSION, {"version_id": version_id}).one_or_none()
    if version is None:
        return Refusal(404, "no such version", "no such version")
    record = version.record
    grants = grants_of(session, user, record.id)
    if not may_know(user, record, grants, now):
        return Refusal(404, "no such version", "the record is beyond the caller's view", record.id)
    decision = may_read(user, record, action, grants, now)
    if not decision.allowed:
        return Refusal(403, f"no access: {decision.reason}", decision.reason, record.id)
    return version, decision


def prepare(
    arc: Archive,
    session: Session,
    user: User,
    client: Client,
    version_id: uuid.UUID,
    action: Scope,
    now: datetime,
) -> Served | Refusal:
    """Decide, and if allowed prepare the content (open the blob, stamp the PDF): the slow
    part, in a read session. Nothing is logged and nothing may be sent yet."""
    decided = _decide(session, user, version_id, action, now)
    if isinstance(decided, Refusal):
        return decided
    version = decided[0]
    try:
        return _content(arc, session, user, client, version, action, now)
    except tuple(kind for kind, *_ in CONTENT_REFUSALS) as exc:
        status, message, reason = next(r[1:] for r in CONTENT_REFUSALS if isinstance(exc, r[0]))
        return Refusal(status, message, reason, version.record_id)


def commit_read(
    session: Session,
    user: User,
    client: Client,
    version_id: uuid.UUID,
    action: Scope,
    prepared: Served | Refusal,
    now: datetime,
) -> Served | Refused:
    """Log what :func:`prepare` found, in the write transaction; an allowed read is decided
    again here first, so the log line states what the policy says as it is written. Only
    database work (it may run in a transaction shared with other reads, and again on its own
    if that one fails): the caller discards a prepared body that is refused or not logged."""
    outcome: tuple[Version, Decision] | Refusal = (
        prepared
        if isinstance(prepared, Refusal)
        else _decide(session, user, version_id, action, now)
    )
    if isinstance(outcome, Refusal):
        log_access(
            session,
            user,
            client,
            action.value,
            REFUSED,
            record_id=outcome.record_id,
            version_id=version_id,
            reason=outcome.reason,
        )
        if outcome.status == 404:  # beyond view or absent: one answer, naming nothing
            return Refused(404, outcome.message)
        known = outcome.record_id if outcome.status == 403 else None
        return Refused(outcome.status, outcome.message, outcome.reason, known)
    assert isinstance(prepared, Served)  # noqa: S101 - a refusal returned above
    version, decision = outcome
    log_access(
        session,
        user,
        client,
        action.value,
        ALLOWED,
        record_id=version.record_id,
        version_id=version.id,
        grant_id=decision.grant.id if decision.grant else None,
        reason=decision.reason,
    )
    return prepared


def discard(served: Served) -> None:
    """Close a body that will not be sent (it may hold an open blob)."""
    close = getattr(served.body, "close", None)
    if close is not None:
        close()


def _content(
    arc: Archive,
    session: Session,
    user: User,
    client: Client,
    version: Version,
    action: Scope,
    now: datetime,
) -> Served:
    """The body of an allowed read. Nothing is sent from here: the blob is opened (so a
    missing one is refused and logged as such) and decrypted as the server sends it."""
    if action in (Scope.DOWNLOAD, Scope.EXTERNAL):
        return Served(
            read_content(arc, session, version),
            version.media_type,
            filename(version, version.media_type),
            inline=False,
            length=version.size,
        )
    lines = stamp_lines(user, client, now)
    sizes = _rendition_sizes(session, version)
    source = paged_source(version, sizes)
    size = version.size if source == RenditionRole.ORIGINAL else sizes.get(source or "", 0)
    if source is not None:
        if size > MAX_STAMPED_BYTES:  # before decrypting any of it
            raise TooLargeToStamp
        data = b"".join(read_content(arc, session, version, source))
        stamped = watermark_pdf(data, lines)
        return Served([stamped], PDF, filename(version, PDF), inline=True, length=len(stamped))
    header = ("\n".join(lines) + "\n" + "─" * 40 + "\n\n").encode()
    if version.media_type == "text/plain":  # as written, not the index's normalised text
        written = AsWritten(read_content(arc, session, version))
        if version.size > WHOLE_TEXT_BYTES:  # streamed, without a length
            body: Iterable[bytes] = _Chained(header, written)
            return Served(body, "text/plain; charset=utf-8", filename(version, "text/plain"), True)
        return _stamped_text(version, header, b"".join(written))
    text = b""
    if RenditionRole.TEXT in sizes:
        text = b"".join(read_content(arc, session, version, RenditionRole.TEXT))
    return _stamped_text(version, header, text)


def _rendition_sizes(session: Session, version: Version) -> dict[str, int]:
    """Each rendition's size by role; a PDF needs no look at its renditions."""
    if version.media_type == PDF:
        return {}
    rows = session.execute(
        select(Rendition.role, Rendition.size).where(Rendition.version_id == version.id)
    )
    return {role: rendition_size for role, rendition_size in rows}


def paged_source(version: Version, sizes: dict[str, int]) -> str | None:
    """Which PDF the view stamps page by page, or None when it shows text under a header."""
    if version.media_type == PDF:
        return RenditionRole.ORIGINAL
    laid_out = (RenditionRole.OCR_PDF, RenditionRole.OFFICE_PDF)
    return next((role for role in laid_out if role in sizes), None)


def shown_paged(session: Session, version: Version) -> bool:
    """Whether the view is a stamped PDF (the stamp on every page) or a text (at its top)."""
    return paged_source(version, _rendition_sizes(session, version)) is not None


def _stamped_text(version: Version, header: bytes, text: bytes) -> Served:
    """A whole text under its stamp, with its length."""
    return Served(
        [header, text],
        "text/plain; charset=utf-8",
        filename(version, "text/plain"),
        inline=True,
        length=len(header) + len(text),
    )


class AsWritten(Iterator[bytes]):
    """A plain-text original as UTF-8, decoded as it streams: the encoding is chosen from
    the first piece as at ingest (GB18030, Big5, UTF-16 …), and closing closes the blob."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._source = chunks
        self._decoded = _decoded(chunks)  # no cycle back to self: dropped unread, it closes

    def __next__(self) -> bytes:
        return next(self._decoded)

    def close(self) -> None:
        self._decoded.close()
        close = getattr(self._source, "close", None)
        if close is not None:
            close()


class _Chained(Iterator[bytes]):
    """The stamp, then a body that must be closed whether or not it was read."""

    def __init__(self, first: bytes, rest: AsWritten) -> None:
        self._first: bytes | None = first
        self._rest = rest

    def __next__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return next(self._rest)

    def close(self) -> None:
        self._rest.close()


def _decoded(chunks: Iterator[bytes]) -> Generator[bytes, None, None]:
    sample, ended = b"", False
    while len(sample) < SAMPLE_BYTES:
        chunk = next(chunks, None)
        if chunk is None:
            ended = True
            break
        sample += chunk
    decoder = codecs.getincrementaldecoder(detect_encoding(sample, complete=ended))("replace")
    yield decoder.decode(sample, final=ended).encode("utf-8")
    for chunk in chunks:
        yield decoder.decode(chunk).encode("utf-8")
    if not ended:
        yield decoder.decode(b"", final=True).encode("utf-8")
