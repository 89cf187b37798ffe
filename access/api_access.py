"""Access on request over the API: requests and decisions, the green channel, grants, record
metadata, the gated reader, and the access log for auditors.

Ids of things the caller may not know of answer 404, exactly like ids that do not exist.
Every content attempt and every metadata lookup is written to the access log with the
client's address (the socket's, unless ARCHIVE_TRUSTED_PROXIES says how many proxies to
believe) before the response leaves.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Response, g, jsonify, request, stream_with_context
from sqlalchemy import Select, select

from access.alerts import alerts
from access.api import _archive, api, client_of_request, error, token_required
from access.browse import open_record, versions_of
from access.reader import Refused, Served, serve
from access.requests import (
    AccessError,
    decide,
    emergency,
    grants_of,
    mine,
    revoke,
    submit,
    violations,
    visible_request,
    waiting_for,
)
from archive.accesslog import ALLOWED, REFUSED
from archive.audit import record_event
from archive.core import Archive
from archive.models import AccessEvent, AccessRequest, Grant, Role, Scope, User

OVERSEERS = frozenset({Role.AUDITOR})


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _uuid(value: object, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise AccessError(400, f"{what} must be an id") from None


def _int(value: object, what: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise AccessError(400, f"{what} must be a whole number") from None


def _user(session: Any) -> User:
    user: User = session.merge(g.user, load=True)
    return user


def request_json(item: AccessRequest) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "record_id": str(item.record_id),
        "requester": item.requester.username,
        "purpose": item.purpose,
        "scope": item.scope.value,
        "days": item.days,
        "status": item.status.value,
        "step": item.step,
        "steps": item.steps,
        "approver": item.approver.value,
        "due_at": item.due_at.isoformat(),
        "escalated": item.escalated,
        "emergency": item.emergency,
        "created_at": item.created_at.isoformat(),
    }


def grant_json(grant: Grant) -> dict[str, Any]:
    return {
        "id": str(grant.id),
        "record_id": str(grant.record_id),
        "user": grant.user.username,
        "scope": grant.scope.value,
        "valid_from": grant.valid_from.isoformat(),
        "valid_until": grant.valid_until.isoformat(),
        "emergency": grant.emergency,
        "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
        "revoke_reason": grant.revoke_reason,
    }


@api.errorhandler(AccessError)
def _access_error(exc: AccessError) -> tuple[Response, int]:
    return error(exc.status, str(exc))


@api.post("/access-requests")
@token_required
def create_access_request() -> Any:
    body = _body()
    arc = _archive()
    with arc.transaction() as session:
        item = submit(
            session,
            arc.settings.access,
            _user(session),
            g.actor,
            _uuid(body.get("record_id"), "record_id"),
            str(body.get("purpose") or ""),
            str(body.get("scope") or ""),
            _int(body.get("days", 0), "days"),
        )
        return jsonify(request_json(item)), 201


@api.get("/access-requests")
@token_required
def list_access_requests() -> Any:
    with _archive().sessions() as session:
        user = _user(session)
        return jsonify(
            mine=[request_json(r) for r in mine(session, user)],
            waiting=[request_json(r) for r in waiting_for(session, user)],
        )


@api.get("/access-requests/<uuid:request_id>")
@token_required
def show_access_request(request_id: uuid.UUID) -> Any:
    with _archive().sessions() as session:
        return jsonify(request_json(visible_request(session, _user(session), request_id)))


def _decide(request_id: uuid.UUID, approve: bool) -> Any:
    arc = _archive()
    with arc.transaction() as session:
        item = decide(
            session,
            arc.settings.access,
            _user(session),
            g.actor,
            request_id,
            approve,
            str(_body().get("reason") or ""),
        )
        return jsonify(request_json(item))


@api.post("/access-requests/<uuid:request_id>/approve")
@token_required
def approve_access_request(request_id: uuid.UUID) -> Any:
    return _decide(request_id, approve=True)


@api.post("/access-requests/<uuid:request_id>/deny")
@token_required
def deny_access_request(request_id: uuid.UUID) -> Any:
    return _decide(request_id, approve=False)


@api.post("/emergency-access")
@token_required
def open_emergency_access() -> Any:
    body = _body()
    arc = _archive()
    with arc.transaction() as session:
        grant = emergency(
            session,
            arc.settings.access,
            _user(session),
            g.actor,
            _uuid(body.get("record_id"), "record_id"),
            str(body.get("justification") or ""),
            str(body.get("scope") or "view"),
            _int(body["hours"], "hours") if body.get("hours") else None,
        )
        return jsonify(grant_json(grant)), 201


@api.get("/grants")
@token_required
def list_grants() -> Any:
    with _archive().sessions() as session:
        return jsonify(grants=[grant_json(x) for x in grants_of(session, _user(session))])


@api.post("/grants/<uuid:grant_id>/revoke")
@token_required
def revoke_grant(grant_id: uuid.UUID) -> Any:
    with _archive().transaction() as session:
        grant = revoke(session, _user(session), g.actor, grant_id, str(_body().get("reason") or ""))
        return jsonify(grant_json(grant))


@api.get("/records/<uuid:record_id>")
@token_required
def show_record(record_id: uuid.UUID) -> Any:
    """Metadata and versions, only for a record the caller may know exists."""
    with _archive().transaction() as session:
        record = open_record(session, _user(session), client_of_request(), record_id)
        if record is None:
            return error(404, "no such record")
        return jsonify(
            id=str(record.id),
            title=record.title,
            project=record.project.name,
            department=record.department.code if record.department else None,
            sensitivity=record.sensitivity.value,
            reference_code=record.reference_code,
            process=record.process,
            stage=record.stage,
            record_type=record.record_type,
            classification=record.classification,
            state=record.state.value,
            created_at=record.created_at.isoformat(),
            versions=[
                {
                    "id": str(v.id),
                    "name": v.name,
                    "media_type": v.media_type,
                    "size": v.size,
                    "sha256": v.sha256,
                    "created_at": v.created_at.isoformat(),
                }
                for v in versions_of(session, record.id)
            ],
        )


def content_disposition(name: str, inline: bool) -> str:
    """RFC 6266 with an RFC 5987 ``filename*`` so Chinese names survive, and an ASCII
    fallback for old clients."""
    from urllib.parse import quote

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
    arc = _archive()
    with arc.transaction() as session:
        return serve(
            arc, session, session.merge(user, load=True), client_of_request(), version_id, action
        )


def content_response(outcome: Served) -> Response:
    response = Response(stream_with_context(iter(outcome.body)), mimetype=outcome.media_type)
    response.headers["Content-Disposition"] = content_disposition(outcome.filename, outcome.inline)
    response.headers["Cache-Control"] = "no-store"
    return response


@api.get("/versions/<uuid:version_id>/content")
@token_required
def version_content(version_id: uuid.UUID) -> Any:
    """The gated reader: ``?action=view|download|print|external`` (view by default)."""
    outcome = read_content_for(g.user, version_id)
    if isinstance(outcome, Refused):
        return error(outcome.status, outcome.message)
    return content_response(outcome)


def log_filters() -> tuple[Any, list[Any]]:
    args = request.args
    conditions: list[Any] = []
    if args.get("user"):
        conditions.append(AccessEvent.username == args["user"])
    if args.get("record"):
        conditions.append(AccessEvent.record_id == str(_uuid(args["record"], "record")))
    if args.get("outcome") in (ALLOWED, REFUSED):
        conditions.append(AccessEvent.outcome == args["outcome"])
    for name, op in (("from", "__ge__"), ("to", "__le__")):
        if args.get(name):
            try:
                moment = datetime.fromisoformat(args[name])
            except ValueError:
                raise AccessError(400, f"{name} must be a date or time like 2026-01-31") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            conditions.append(getattr(AccessEvent.at, op)(moment))
    return args.get("format", "json"), conditions


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
    """The log as CSV, streamed row by row: an export of years does not sit in memory."""

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        with arc.sessions() as session:
            for event in session.scalars(query.execution_options(yield_per=500)):
                writer.writerow([getattr(event, c) for c in CSV_COLUMNS])
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition("access-log.csv", False)},
    )


@api.get("/access-log")
@token_required
def access_log() -> Any:
    """For auditors: the log by user, record and time; ``format=csv`` to export."""
    if g.user.role not in OVERSEERS:
        return error(403, "the access log is for auditors")
    kind, conditions = log_filters()
    arc = _archive()
    with arc.transaction() as session:
        record_event(session, g.actor, "access_log.read", "access_log", kind, dict(request.args))
    query = select(AccessEvent).where(*conditions).order_by(AccessEvent.seq)
    if kind == "csv":
        return access_log_csv(arc, query)
    with arc.sessions() as session:
        events = session.scalars(query.limit(_limit())).all()
        return jsonify(events=[{c: _plain(getattr(e, c)) for c in CSV_COLUMNS} for e in events])


def _limit() -> int:
    try:
        return max(1, min(int(request.args.get("limit", "1000")), 10_000))
    except ValueError:
        raise AccessError(400, "limit must be a whole number") from None


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


@api.get("/access-alerts")
@token_required
def access_alerts() -> Any:
    """Unusual access for auditors: bursts of reads, reads outside hours, refusals, and
    green-channel accesses never approved."""
    if g.user.role not in OVERSEERS:
        return error(403, "access alerts are for auditors")
    arc = _archive()
    with arc.sessions() as session:
        return jsonify(
            alerts=[a.as_json() for a in alerts(session, arc.settings.access)],
            violations=[request_json(r) for r in violations(session)],
        )
