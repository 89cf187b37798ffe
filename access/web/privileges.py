"""三员分立 on the pages: the privileged changes administrators asked for, which a security
administrator approves (with their password again) or rejects (with a reason) and the
requester may withdraw; and the audit of every change to people with the administrators'
and security administrators' own actions, which auditors read too."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, or_, select

from access.http import status_of
from access.policy import Permission, may
from access.web.core import actor, arc, error_page, form, me, reauthenticate, requires, user, web
from access.web.refusals import explain
from archive.errors import DomainError
from archive.models import AuditEvent, Department, User
from archive.privilege_decisions import approve, cancel, changes, reject
from archive.roles import ADMINISTRATORS, SECURITY_ADMINS

#: What the audit of people shows: changes to them, and everything an administrator did.
PEOPLE_OBJECTS = ("user", "department", "token", "privilege_change")
#: What the console operator did that administrators check on this page: people, keys,
#: backups, the store and the chains. Its work on records (reclassifying, importing,
#: retention) names their metadata: that is on the auditors' trail, not here.
CONSOLE_OBJECTS = (
    *PEOPLE_OBJECTS,
    "keyring",
    "backup",
    "blob_store",
    "checkpoints",
    "archive",
    "access_log",
    "audit_trail",
)


def one_time_password_page(username: str, password: str) -> Any:
    """Show a one-time password once: never in a cookie or a flash, never cached."""
    page = make_response(
        render_template("one_time_password.html", username=username, password=password)
    )
    page.headers["Cache-Control"] = "no-store"
    return page


def _page(error: str | None = None, status: int = 200, failed: int | None = None) -> Any:
    """The list; after a refusal, with the reason and the reason typed for that change."""
    with arc().sessions() as db:
        pending, decided = changes(db)
        return render_template(
            "privileges.html",
            pending=pending,
            decided=decided,
            decides=may(user().role, Permission.APPROVE_PRIVILEGE_CHANGES),
            names={d.code: d.name for d in db.scalars(select(Department))},
            error=error,
            draft=request.form,
            failed=failed,
        ), status


@web.get("/admin/privileges")
@requires(Permission.READ_PEOPLE_AUDIT)
def privileges() -> Any:
    return _page()


DONE = {
    "approve": _l("Approved: the change has taken effect."),
    "reject": _l("Rejected. The requester sees your reason."),
    "cancel": _l("Cancelled."),
}


def _decide(verdict: str, change_id: int) -> tuple[str | None, str]:
    """Take the step; a one-time password to show, and whose it is."""
    with arc().transaction() as db:
        if verdict == "approve":
            outcome = approve(db, actor(), me(db), change_id)
            return outcome.password, outcome.user.username if outcome.user else ""
        if verdict == "reject":
            return None, reject(db, actor(), me(db), change_id, form("reason")).username
        return None, cancel(db, actor(), me(db), change_id).username


@web.post("/admin/privileges/<int:change_id>/<any(approve, reject, cancel):verdict>")
@requires(Permission.READ_PEOPLE_AUDIT)
def decide_privilege(change_id: int, verdict: str) -> Any:
    """Security administrators approve (their password again) or reject (a reason); the
    requester may cancel. Auditors only read."""
    needed = (
        Permission.MANAGE_PEOPLE if verdict == "cancel" else Permission.APPROVE_PRIVILEGE_CHANGES
    )
    if not may(user().role, needed):
        return error_page(403, _("Your role may not use this page."))
    try:
        if verdict == "approve":
            reauthenticate()
        password, username = _decide(verdict, change_id)
    except DomainError as exc:
        return _page(explain(exc), status_of(exc), change_id)
    if password:
        return one_time_password_page(username, password)
    flash(str(DONE[verdict]), "ok")
    return redirect(url_for("web.privileges"))


@web.get("/admin/changes")
@requires(Permission.READ_PEOPLE_AUDIT)
def people_audit() -> Any:
    """Every change to people (creation, role, department, clearance, sign-in, passwords,
    privileged requests and decisions) and every action of an administrator, a security
    administrator or the console operator: what auditors check the administrators by."""
    who = request.args.get("actor", "").strip()
    with arc().sessions() as db:
        overseen = select(User.id).where(User.role.in_(ADMINISTRATORS | SECURITY_ADMINS))
        console: ColumnElement[bool] = AuditEvent.actor.like("cli:%")
        if not may(user().role, Permission.READ_AUDIT_TRAIL):  # the administrators' view:
            console = and_(console, AuditEvent.object_type.in_(CONSOLE_OBJECTS))  # no records
        query = select(AuditEvent).where(
            or_(
                AuditEvent.object_type.in_(PEOPLE_OBJECTS),
                AuditEvent.actor_id.in_(overseen),
                console,
            )
        )
        if who:
            query = query.where(AuditEvent.actor == who)
        events = db.scalars(query.order_by(AuditEvent.seq.desc()).limit(300)).all()
        return render_template("people_audit.html", events=events, who=who)
