"""The gated reader: the only way content leaves the archive.

Every attempt is decided by :mod:`access.policy` and written to the access log, allowed or
refused, before a byte is served. ``view`` and ``print`` of a PDF (or of a scan's OCR'd PDF)
are stamped on every page with the reader's name, address and time; other formats are viewed
as their extracted text under the same stamp. ``download`` and ``external`` give the
original file named by its canonical name.
"""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.policy import may_know, may_read
from access.requests import grants_of
from access.watermark import watermark_pdf
from archive.accesslog import ALLOWED, REFUSED, Client, log_access
from archive.content import ContentDestroyed, read_content
from archive.core import Archive
from archive.db import LOCAL_TIME, utcnow
from archive.models import Rendition, RenditionRole, Scope, User, Version
from archive.storage import BlobNotFound, StorageError

PDF = "application/pdf"
MAX_STAMPED_BYTES = 512 * 1024**2  # a PDF is stamped in memory


class TooLargeToStamp(Exception):
    """A PDF is stamped in memory; beyond the limit it can only be downloaded."""


@dataclass(frozen=True)
class Served:
    body: Iterable[bytes]
    media_type: str
    filename: str
    inline: bool


@dataclass(frozen=True)
class Refused:
    status: int
    message: str


def _refuse(
    session: Session,
    user: User,
    client: Client,
    action: Scope,
    status: int,
    message: str,
    reason: str,
    version_id: uuid.UUID,
    record_id: object = None,
) -> Refused:
    log_access(
        session,
        user,
        client,
        action.value,
        REFUSED,
        record_id=record_id,
        version_id=version_id,
        reason=reason,
    )
    return Refused(status, message)


def stamp_lines(user: User, client: Client, at: datetime) -> list[str]:
    named = user.display_name and user.display_name != user.username
    who = f"{user.display_name} ({user.username})" if named else user.username
    local = at.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S")
    return [f"{who}  {client.ip or '-'}", f"{local} 北京时间  仅供查阅 严禁外传"]


#: The extension of each format the archive keeps (ingest's sniffer decides the format).
EXTENSIONS = {
    PDF: ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
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


def serve(
    arc: Archive,
    session: Session,
    user: User,
    client: Client,
    version_id: uuid.UUID,
    action: Scope,
) -> Served | Refused:
    """Decide, log, and (if allowed) prepare the content; the caller commits the session."""
    now = utcnow()
    version = session.get(Version, version_id)
    if version is None:
        return _refuse(
            session, user, client, action, 404, "no such version", "no such version", version_id
        )
    record = version.record
    grants = grants_of(session, user, record.id)
    if not may_know(user, record, grants, now):
        return _refuse(
            session,
            user,
            client,
            action,
            404,
            "no such version",
            "the record is beyond the caller's view",
            version_id,
            record.id,
        )
    decision = may_read(user, record, action, grants, now)
    if not decision.allowed:
        return _refuse(
            session,
            user,
            client,
            action,
            403,
            f"no access: {decision.reason}",
            decision.reason,
            version_id,
            record.id,
        )
    try:
        served = _content(arc, session, user, client, version, action, now)
    except ContentDestroyed:
        return _refuse(
            session,
            user,
            client,
            action,
            410,
            "the content was destroyed",
            "content destroyed",
            version_id,
            record.id,
        )
    except BlobNotFound:
        return _refuse(
            session,
            user,
            client,
            action,
            500,
            "the stored content is missing: tell the records manager (a fixity failure)",
            "content missing",
            version_id,
            record.id,
        )
    except StorageError:  # logged as an attempt that got nothing, with the reason
        return _refuse(
            session,
            user,
            client,
            action,
            503,
            "the archive's storage cannot be reached right now; try again shortly",
            "storage unavailable",
            version_id,
            record.id,
        )
    except TooLargeToStamp:
        return _refuse(
            session,
            user,
            client,
            action,
            413,
            "too large to view in the browser",
            "too large to stamp",
            version_id,
            record.id,
        )
    log_access(
        session,
        user,
        client,
        action.value,
        ALLOWED,
        record_id=record.id,
        version_id=version.id,
        grant_id=decision.grant.id if decision.grant else None,
        reason=decision.reason,
    )
    return served


def _content(
    arc: Archive,
    session: Session,
    user: User,
    client: Client,
    version: Version,
    action: Scope,
    now: datetime,
) -> Served:
    if action in (Scope.DOWNLOAD, Scope.EXTERNAL):
        return Served(
            read_content(arc, session, version),
            version.media_type,
            filename(version, version.media_type),
            inline=False,
        )
    roles = set(session.scalars(select(Rendition.role).where(Rendition.version_id == version.id)))
    lines = stamp_lines(user, client, now)
    source = (
        RenditionRole.ORIGINAL
        if version.media_type == PDF
        else RenditionRole.OCR_PDF
        if RenditionRole.OCR_PDF in roles
        else None
    )
    if source is not None:
        data = b"".join(read_content(arc, session, version, source))
        if len(data) > MAX_STAMPED_BYTES:
            raise TooLargeToStamp
        return Served([watermark_pdf(data, lines)], PDF, filename(version, PDF), inline=True)
    text = b""
    if RenditionRole.TEXT in roles:
        text = b"".join(read_content(arc, session, version, RenditionRole.TEXT))
    header = ("\n".join(lines) + "\n" + "─" * 40 + "\n\n").encode()
    return Served(
        [header, text], "text/plain; charset=utf-8", filename(version, "text/plain"), True
    )
