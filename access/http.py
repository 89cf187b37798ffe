"""What both HTTP ways in (the REST API and the web pages) share: the archive of the running
app, the client's address for the access log, how a domain error becomes a status, the
gated reader's response, the access-log and audit-trail exports and the disposition
certificate download.

The client address is the socket's unless ARCHIVE_TRUSTED_PROXIES made ProxyFix believe that
many proxy hops: a forged X-Forwarded-For never reaches the log.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Response, current_app, request, stream_with_context
from sqlalchemy import Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from access import audit_trail
from access.reader import Refused, Served, commit_read, discard, prepare
from archive.accesslog import ALLOWED, REFUSED, Client
from archive.audit import Actor, record_event
from archive.core import Archive
from archive.csvsafe import csv_lines
from archive.db import lock_contention, utcnow
from archive.errors import DomainError, ErrorKind, InvalidInput
from archive.models import AccessEvent, DispositionList, ListStatus, Scope, User
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
    return Client(request.remote_addr, request.user_agent.string or "")


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
        caller = read.get(User, user.id)
        if caller is None:
            return Refused(401, "the account no longer exists")
        prepared = prepare(arc, read, caller, client, version_id, action, now)

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


def access_log_filters(args: Mapping[str, str]) -> tuple[str, list[Any]]:
    """``?user=&record=&outcome=&from=&to=&format=`` as SQL conditions, and the format."""
    conditions: list[Any] = []
    if args.get("user"):
        conditions.append(AccessEvent.username == args["user"])
    if args.get("record"):
        conditions.append(AccessEvent.record_id == str(parse_uuid(args["record"], "record")))
    if args.get("outcome") in (ALLOWED, REFUSED):
        conditions.append(AccessEvent.outcome == args["outcome"])
    for name, op in (("from", "__ge__"), ("to", "__le__")):
        if args.get(name):
            try:
                moment = datetime.fromisoformat(args[name])
            except ValueError:
                raise InvalidInput(
                    f"{name} must be a date or time like 2026-01-31", code="date", field=name
                ) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            conditions.append(getattr(AccessEvent.at, op)(moment))
    return args.get("format", "json"), conditions


#: The access log's columns, in the API's JSON, the CSV export and the auditors' page.
CSV_COLUMNS = (
    "seq",
    "at",
    "username",
    "action",
    "outcome",
    "reason",
    "record_id",
    "version_id",
    "grant_id",
    "ip",
    "user_agent",
    "details",
    "hash",
)


def access_log_csv(arc: Archive, query: Select[Any]) -> Response:
    """The log as CSV, streamed row by row: an export of years does not sit in memory. Every
    text cell is made inert for spreadsheets and the file starts with a BOM (csvsafe)."""

    def rows() -> Iterator[list[object]]:
        yield list(CSV_COLUMNS)
        with arc.sessions() as session:
            for event in session.scalars(query.execution_options(yield_per=500)):
                yield [getattr(event, c) for c in CSV_COLUMNS]

    return Response(
        stream_with_context(csv_lines(rows())),
        content_type=CSV_TYPE,
        headers={"Content-Disposition": content_disposition("access-log.csv", False)},
    )


def certificate_response(lst: DispositionList, kind: str) -> Response:
    """The list (or, once executed, its certificate) as a CSV or PDF download; ``?lang=en``
    for English values (the headings are bilingual either way)."""
    name = f"{lst.number}-{'certificate' if lst.status == ListStatus.EXECUTED else 'list'}"
    lang = request.args.get("lang", "zh")  # Chinese, English values when asked
    if kind == "csv":
        body: str | bytes = reports.certificate_csv(lst, lang)
        media_type = CSV_TYPE
    else:
        body, media_type = reports.certificate_pdf(lst, lang), content_type("application/pdf")
    return Response(
        body,
        content_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'},
    )


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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

    return Response(
        stream_with_context(csv_lines(rows())),
        content_type=CSV_TYPE,
        headers={"Content-Disposition": content_disposition("审计记录.csv", False)},
    )
