"""What both HTTP ways in (the REST API and the web pages) share: the archive of the running
app, the client's address for the access log, how a domain error becomes a status, the
gated reader's response, the access-log and audit-trail exports and the disposition
certificate download.

The client address is the socket's unless ARCHIVE_TRUSTED_PROXIES made ProxyFix believe that
many proxy hops: a forged X-Forwarded-For never reaches the log.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import quote

from flask import Response, current_app, request, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from access import audit_trail
from access.reader import Refused, Served, commit_read, discard, prepare
from archive.accesslog import Client
from archive.audit import Actor, record_event
from archive.core import Archive
from archive.csvsafe import csv_lines
from archive.db import lock_contention, utcnow
from archive.errors import DomainError, ErrorKind, InvalidInput
from archive.models import (
    DispositionList,
    ListStatus,
    Record,
    Scope,
    User,
)
from archive.vocabulary import beijing, term
from retention import reports
from retention.register_files import Register, register_pdf, register_xlsx

#: The HTTP status of each kind of domain error, for the API and the pages alike.
HTTP_STATUS: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 400,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.UNAVAILABLE: 503,
}


def status_of(exc: DomainError) -> int:
    return HTTP_STATUS[exc.kind]


log = logging.getLogger(__name__)
#: What a client is told to wait when the database was too busy to take its write.
RETRY_AFTER_SECONDS = 5


def database_busy(exc: DBAPIError) -> dict[str, str]:
    """The ``Retry-After`` header for a write that timed out waiting for the database's lock
    (logged, answered 503); any other database error is re-raised, to be a logged 500."""
    if not lock_contention(exc):
        raise exc
    log.warning(
        "database busy: %s %s answered 503 (%s)",
        request.method,
        request.path,
        type(exc.orig).__name__,
    )
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def current_archive() -> Archive:
    """The archive the running app was built around."""
    arc: Archive = current_app.extensions["archive"]
    return arc


def client_of_request() -> Client:
    """Where this request came from, for the access log (ProxyFix has set remote_addr)."""
    return Client(request.remote_addr, _header_text(request.user_agent.string or ""))


def _header_text(raw: str) -> str:
    """A header as its sender wrote it: WSGI hands headers over decoded as Latin-1, so a
    browser's UTF-8 (a Chinese app's name in its User-Agent) read as mojibake in the log."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def parse_uuid(value: object, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(f"{what} must be an id") from None


def content_disposition(name: str, inline: bool) -> str:
    """RFC 6266 with an RFC 5987 ``filename*`` so Chinese names survive, and an ASCII
    fallback for old clients."""
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in name
    )
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def read_content_for(user: User, version_id: uuid.UUID) -> Served | Refused:
    """The gated reader as both the API and the web call it: ``?action=`` decides the
    action (view by default); the decision and the log line are committed before content."""
    try:
        action = Scope(request.args.get("action", "view"))
    except ValueError:
        return Refused(400, "action must be view, download, print or external")
    arc, client, now = current_archive(), client_of_request(), utcnow()
    with arc.sessions() as read:  # the slow part, without the write lock
        # The sign-in read the caller a moment ago; the decision that counts reads afresh.
        prepared = prepare(arc, read, read.merge(user, load=False), client, version_id, action, now)

    def decide_and_log(session: Session) -> Served | Refused:
        # Read afresh inside the write transaction: merge() would copy the sign-in's
        # copy over the row (and write it back), so a role changed since would be undone.
        caller = session.get(User, user.id)
        if caller is None:
            return Refused(401, "the account no longer exists")
        return commit_read(session, caller, client, version_id, action, prepared, now)

    try:
        outcome = arc.log_writes.run(decide_and_log)  # committed with other readers' lines
    except BaseException:
        if isinstance(prepared, Served):  # the log line was not committed: nothing goes out
            discard(prepared)
        raise
    if isinstance(prepared, Served) and outcome is not prepared:
        discard(prepared)  # refused since it was prepared
    return outcome


def content_type(media_type: str) -> str:
    """``media_type`` as a Content-Type header with at most one ``charset``: the first one
    given, else ``utf-8`` for text, none for other types. (Flask's ``mimetype=`` appends a
    charset of its own to any text type, even one that names its charset already, so every
    response here passes ``content_type=`` built by this instead.)"""
    base, *parameters = (part.strip() for part in media_type.split(";"))
    charsets = [p for p in parameters if p.lower().startswith("charset=")]
    kept = [p for p in parameters if p and p not in charsets]
    if charsets:
        kept.append("charset=" + charsets[0].split("=", 1)[1].strip().strip('"'))
    elif base.lower().startswith("text/"):
        kept.append("charset=utf-8")
    return "; ".join([base, *kept])


CSV_TYPE = content_type("text/csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def content_response(outcome: Served) -> Response:
    """The reader's body as it is: each decrypted segment goes to the socket whole (no
    request context kept, nothing joined or cut up), with its length so the server need not
    frame it in chunks. Not ``direct_passthrough``: closing the response must still close
    the body (the blob) and run what was left for after it (the token's last use)."""
    response = Response(outcome.body, content_type=content_type(outcome.media_type))
    if outcome.length is not None:
        response.content_length = outcome.length
    response.headers["Content-Disposition"] = content_disposition(outcome.filename, outcome.inline)
    response.headers["Cache-Control"] = "no-store"
    return response


def exported(value: object, lang: str | None) -> object:
    """A cell as a person reads it in Excel: a moment in Beijing time to the second, a code
    as its word (:func:`archive.vocabulary.term`), anything else as it is."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return beijing(moment)
    if isinstance(value, Enum):
        return term(value, lang)
    return value


def table_download(rows: Iterable[Sequence[object]], filename: str, kind: str) -> Response:
    """Every table the archive hands out for Excel, heading row first: a CSV streamed with a
    BOM and every text cell made inert (:mod:`archive.csvsafe`), or (``kind`` ``xlsx``) one
    sheet with every text a string, never a formula."""
    if kind == "xlsx":
        body: Any = xlsx_table(rows)
        media_type = XLSX_TYPE
    else:
        body, media_type = stream_with_context(csv_lines(rows)), CSV_TYPE
    return Response(
        body,
        content_type=media_type,
        headers={
            "Content-Disposition": content_disposition(f"{filename}.{kind}", False),
            "Cache-Control": "no-store",
        },
    )


def xlsx_table(rows: Iterable[Sequence[object]]) -> bytes:
    """A workbook of one sheet: the heading row in bold, text cells as strings."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for number, row in enumerate(rows):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # "=1+1" stays text
            if number == 0:
                cell.font = Font(bold=True)
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def certificate_response(
    lst: DispositionList, kind: str, may_show: Callable[[Record], bool] | None = None
) -> Response:
    """The list (or, once executed, its certificate) as a CSV or PDF download; ``?lang=en``
    for English values (the headings are bilingual either way). Records ``may_show``
    refuses are there by their 档号 alone, as on the list's page."""
    name = f"{lst.number}-{'certificate' if lst.status == ListStatus.EXECUTED else 'list'}"
    lang = request.args.get("lang", "zh")  # Chinese, English values when asked
    if kind == "csv":
        body: str | bytes = reports.certificate_csv(lst, lang, may_show)
        media_type = CSV_TYPE
    else:
        body = reports.certificate_pdf(lst, lang, may_show)
        media_type = content_type("application/pdf")
    return Response(
        body,
        content_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'},
    )


def printed(arc: Archive, actor: Actor, register: Register, kind: str) -> None:
    """A register leaves the archive: audited (who, which register, how many rows)."""
    with arc.transaction() as session:
        record_event(
            session,
            actor,
            "register.printed",
            "register",
            register.filename,
            {"format": kind, "rows": len(register.rows)},
        )


def register_response(register: Register, kind: str) -> Response:
    """A register (归档文件目录, 销毁清册, 移交清册) as a PDF or XLSX download, named in Chinese."""
    if kind == "xlsx":
        body, media_type = register_xlsx(register), XLSX_TYPE
    else:
        body, media_type = register_pdf(register), content_type("application/pdf")
    return Response(
        body,
        content_type=media_type,
        headers={
            "Content-Disposition": content_disposition(f"{register.filename}.{kind}", False),
            "Cache-Control": "no-store",
        },
    )


def audit_trail_csv(arc: Archive, where: list[Any], lang: str | None) -> Response:
    """The audit trail as CSV for Excel, newest first and streamed: Chinese headings (English
    when asked), Beijing time, a BOM, and every text cell made inert (csvsafe)."""

    def rows() -> Iterator[list[object]]:
        with arc.sessions() as session:
            yield from audit_trail.csv_rows(audit_trail.every_row(session, where, lang), lang)

    return table_download(rows(), "审计记录", "csv")
