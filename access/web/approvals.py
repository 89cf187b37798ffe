"""Approvers' pages: the inbox of requests waiting for me (deadline shown, overdue
flagged), approve or refuse with a reason, and the green channel with what it owes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from access.emergency import emergency as open_emergency
from access.emergency import emergency_approvers
from access.policy import Permission, within_clearance
from access.requests import decide, mine, waiting_for
from access.web.core import actor, arc, form, me, record_id, requires, web
from access.web.forms import about, sends_back
from access.web.labels import when
from archive.errors import InvalidInput
from archive.models import AccessRequest, RequestStatus


@web.get("/inbox")
@requires(Permission.DECIDE_REQUESTS)
def inbox() -> Any:
    with arc().sessions() as db:
        waiting = waiting_for(db, me(db))
        return render_template(
            "inbox.html",
            waiting=waiting,
            # above the requester's clearance: only a refusal is offered (an approval is refused)
            grantable={
                r.id for r in waiting if r.emergency or within_clearance(r.requester, r.record)
            },
            now=datetime.now(UTC),
        )


@web.post("/inbox/<uuid:request_id>/<any(approve, deny):verdict>")
@requires(Permission.DECIDE_REQUESTS)
@sends_back(inbox)
def decide_request(request_id: uuid.UUID, verdict: str) -> Any:
    archive = arc()
    with archive.transaction() as db:
        decided = decide(
            db,
            archive.settings.access,
            me(db),
            actor(),
            request_id,
            verdict == "approve",
            form("reason"),
        )
        outcome = decided.status
    if outcome == RequestStatus.APPROVED:
        flash(_("Approved: the grant is open."), "ok")
    elif outcome == RequestStatus.DENIED:
        flash(_("Refused. The requester sees your reason."), "ok")
    else:
        flash(_("Approved this step; it now waits for a director."), "ok")
    return redirect(url_for("web.inbox"))


def _emergency_page() -> Any:
    """The green channel's form (with who could approve an opening afterwards, or that
    nobody could), what waits for approval, and what I opened."""
    archive = arc()
    with archive.sessions() as db:
        person = me(db)
        opened = [r for r in mine(db, person) if r.emergency]
        owed = list(
            db.scalars(
                select(AccessRequest)
                .where(
                    AccessRequest.emergency.is_(True),
                    AccessRequest.status == RequestStatus.PENDING,
                )
                .order_by(AccessRequest.due_at)
            )
        )
        return render_template(
            "emergency.html",
            opened=opened,
            owed=[r for r in owed if r in waiting_for(db, person) or r.requester_id == person.id],
            record_id=request.args.get("record_id", ""),
            max_hours=archive.settings.access.emergency_max_hours,
            approval_hours=archive.settings.access.emergency_approval_hours,
            approvers=[u.display_name or u.username for u in emergency_approvers(db, person)],
            now=datetime.now(UTC),
        )


@web.route("/emergency", methods=["GET", "POST"])
@requires(Permission.DECIDE_REQUESTS)
@sends_back(_emergency_page, {"record": "record_id"})
def emergency() -> Any:
    """Open access at once with a written justification; approval is owed afterwards. A
    refusal comes back on the form as typed."""
    if request.method != "POST":
        return _emergency_page()
    archive = arc()
    try:
        hours = int(form("hours")) if form("hours") else None
    except ValueError:
        raise InvalidInput(_("Hours must be a whole number."), field="hours") from None
    with about("record_id"):
        wanted = record_id(form("record_id"), knowable=True)
    with archive.transaction() as db:
        person = me(db)
        grant = open_emergency(
            db,
            archive.settings.access,
            person,
            actor(),
            wanted,
            form("justification"),
            form("scope", "view"),
            hours,
        )
        approvers = [u.display_name or u.username for u in emergency_approvers(db, person)]
        owed = db.get_one(AccessRequest, grant.request_id)
        until, due = grant.valid_until, owed.due_at
    flash(_("Access is open now, until %(until)s.", until=when(until, "short")), "ok")
    if approvers:
        flash(
            _(
                "Approval is owed by %(due)s from a director: %(who)s. Without it in time, "
                "the opening is reported to the auditors.",
                due=when(due, "short"),
                who="、".join(approvers),
            ),
            "warn",
        )
    else:
        flash(
            _(
                "Approval is owed by %(due)s, but no other director could give it: the "
                "opening will be reported to the auditors as unapproved.",
                due=when(due, "short"),
            ),
            "warn",
        )
    return redirect(url_for("web.emergency"))
