"""For auditors: the audit trail by user, action, record (档号 or id) and day, with the values
before and after (JSON, or CSV to export). Reading the trail is itself audited."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from access.api.common import api, archive, error, requires
from access.audit_trail import PROBLEMS, conditions, parse_filter, trail_page
from access.http import audit_trail_csv
from access.policy import Permission
from archive.audit import record_event


@api.get("/audit-trail")
@requires(Permission.READ_AUDIT_TRAIL, "the audit trail is for auditors")
def audit_trail() -> Any:
    """For auditors: every audit event, newest first; ``format=csv`` to export, ``lang=en``
    for English labels."""
    kind = request.args.get("format", "json")
    lang = request.args.get("lang", "zh")
    arc = archive()
    with arc.transaction() as session:
        record_event(session, g.actor, "audit_trail.read", "audit_trail", kind, dict(request.args))
    wanted, problems = parse_filter(request.args)
    with arc.sessions() as session:
        where = conditions(session, wanted, problems)
        if problems:
            message = "; ".join(f"{name}: {PROBLEMS[code]}" for name, code in problems.items())
            return error(400, message, fields=problems)
        if kind == "csv":
            return audit_trail_csv(arc, where, lang)
        page = trail_page(session, wanted, where, lang)
        return jsonify(
            total=page.total,
            page=page.page,
            per_page=page.per_page,
            pages=page.pages,
            events=[row.as_json(lang) for row in page.rows],
        )
