"""For auditors: the access log by user, record and time (JSON, or CSV to export), and the
alerts of unusual access. Reading the log is itself audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.alerts import alerts
from access.api.common import api, archive, requires, whole_number
from access.api.requests import request_json
from access.log_export import (
    CSV_COLUMNS,
    access_log_csv,
    access_log_filters,
    record_name,
    use_of,
)
from access.policy import Permission
from access.requests import violations
from archive.audit import record_event
from archive.models import AccessEvent


@api.get("/access-log")
@requires(Permission.READ_ACCESS_LOG, "the access log is for auditors")
def access_log() -> Any:
    """For auditors: the log by user, record and time; ``format=csv`` to export."""
    kind, conditions = access_log_filters(request.args)
    arc = archive()
    with arc.transaction() as session:
        record_event(session, g.actor, "access_log.read", "access_log", kind, dict(request.args))
    query = select(AccessEvent).where(*conditions).order_by(AccessEvent.seq)
    if kind == "csv":
        return access_log_csv(arc, query, request.args.get("lang"))
    limit = max(1, min(whole_number(request.args.get("limit", "1000"), "limit"), 10_000))
    names: dict[str, str] = {}
    uses: dict[str, tuple[str, str]] = {}
    with arc.sessions() as session:
        events = session.scalars(query.limit(limit)).all()
        return jsonify(events=[_event_json(session, e, names, uses) for e in events])


def _event_json(
    session: Session, event: AccessEvent, names: dict[str, str], uses: dict[str, tuple[str, str]]
) -> dict[str, object]:
    """A log line with what the CSV export adds to it: the record's 档号 (or name), and
    the read's 利用目的 and 提供对象 from its grant (empty for a read by standing)."""
    purpose, recipient = use_of(session, uses, event.grant_id)
    return {
        **{column: _plain(getattr(event, column)) for column in CSV_COLUMNS},
        "reference_code": record_name(session, names, event.record_id),
        "purpose": purpose,
        "recipient": recipient,
    }


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


@api.get("/access-alerts")
@requires(Permission.READ_ACCESS_LOG, "access alerts are for auditors")
def access_alerts() -> Any:
    """Unusual access for auditors: bursts of reads, reads outside hours, refusals, and
    green-channel accesses never approved."""
    arc = archive()
    with arc.sessions() as session:
        return jsonify(
            alerts=[a.as_json() for a in alerts(session, arc.settings.access)],
            violations=[request_json(r) for r in violations(session)],
        )
