"""Auditors' pages: the access log with filters and CSV export, the alerts (bursts, odd
hours, refusals, green-channel access never approved), and both hash chains verified."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from sqlalchemy import select

from access.alerts import alerts as find_alerts
from access.api_access import CSV_COLUMNS, access_log_csv, log_filters
from access.requests import violations
from access.web.core import AUDITORS, actor, arc, roles, web
from archive.accesslog import verify_access_log
from archive.audit import record_event, verify_chain
from archive.models import AccessEvent

PAGE = 200


@web.get("/audit/access-log")
@roles(AUDITORS)
def access_log() -> Any:
    kind, conditions = log_filters()
    archive = arc()
    with archive.transaction() as db:
        record_event(db, actor(), "access_log.read", "access_log", kind, dict(request.args))
    query = select(AccessEvent).where(*conditions).order_by(AccessEvent.seq.desc())
    if kind == "csv":
        return access_log_csv(archive, query.order_by(None).order_by(AccessEvent.seq))
    with archive.sessions() as db:
        events = db.scalars(query.limit(PAGE)).all()
        return render_template("access_log.html", events=events, columns=CSV_COLUMNS, limit=PAGE)


@web.get("/audit/alerts")
@roles(AUDITORS)
def alerts() -> Any:
    archive = arc()
    with archive.sessions() as db:
        return render_template(
            "alerts.html",
            alerts=find_alerts(db, archive.settings.access),
            violations=violations(db),
        )


@web.get("/audit/chain")
@roles(AUDITORS)
def chain() -> Any:
    """Walk both chains now: the audit trail and the access log."""
    with arc().sessions() as db:
        return render_template(
            "chain.html",
            reports=[("audit", verify_chain(db)), ("access", verify_access_log(db))],
        )
