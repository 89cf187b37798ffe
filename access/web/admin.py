"""Administrators' pages: users (role, department, clearance, sign-in), departments, and the
audit of every such change. Administrators manage people; they never read records."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from access.policy import Permission
from access.web.core import actor, arc, form, reauthenticate, requires, user, web
from archive.models import AuditEvent, Department, Role, Sensitivity, User
from archive.people import (
    PeopleError,
    change_user,
    create_department,
    create_user,
    find_department,
    find_user,
    set_active,
    set_password,
)
from archive.roles import PRIVILEGED

MIN_PASSWORD = 12


def _grants_privilege(existing: str, role: str) -> bool:
    """Whether the form makes someone a head, director, records manager, auditor or
    administrator who was not one (that asks for the administrator's password again)."""
    if role not in {r.value for r in PRIVILEGED}:
        return False
    if not existing:
        return True
    with arc().sessions() as db:
        return find_user(db, existing).role.value != role


@web.route("/admin/users", methods=["GET", "POST"])
@requires(Permission.MANAGE_PEOPLE)
def users() -> Any:
    archive = arc()
    if request.method == "POST":
        password = form("password")
        if password and len(password) < MIN_PASSWORD:
            raise PeopleError(_("A password needs at least %(n)s characters.", n=MIN_PASSWORD))
        if _grants_privilege(form("username_existing"), form("role")):
            reauthenticate()
        with archive.transaction() as db:
            if form("username_existing"):
                person = find_user(db, form("username_existing"))
                if person.id == user().id and form("role") and form("role") != person.role.value:
                    raise PeopleError(_("You cannot change your own role."))
                change_user(
                    db,
                    actor(),
                    person,
                    role=Role(form("role")) if form("role") else None,
                    department=find_department(db, form("department"))
                    if form("department")
                    else None,
                    clearance=Sensitivity(form("clearance")) if form("clearance") else None,
                )
                if person.id != user().id:
                    set_active(db, actor(), person, request.form.get("active") == "on")
                if password:
                    set_password(db, actor(), person, password)
                flash(_("Saved. Every change is in the audit."), "ok")
            else:
                create_user(
                    db,
                    actor(),
                    form("username"),
                    Role(form("role")),
                    find_department(db, form("department")) if form("department") else None,
                    Sensitivity(form("clearance", "internal")),
                    password or None,
                    form("display_name"),
                )
                flash(_("User created."), "ok")
        return redirect(url_for("web.users"))
    with archive.sessions() as db:
        return render_template(
            "users.html",
            users=db.scalars(select(User).order_by(User.username)).all(),
            departments=db.scalars(select(Department).order_by(Department.code)).all(),
            roles=[r.value for r in Role],
            levels=[s.value for s in Sensitivity],
        )


@web.route("/admin/departments", methods=["GET", "POST"])
@requires(Permission.MANAGE_PEOPLE)
def departments() -> Any:
    archive = arc()
    if request.method == "POST":
        with archive.transaction() as db:
            create_department(db, actor(), form("code").upper(), form("name"))
        flash(_("Department created."), "ok")
        return redirect(url_for("web.departments"))
    with archive.sessions() as db:
        return render_template(
            "departments.html",
            departments=db.scalars(select(Department).order_by(Department.code)).all(),
        )


@web.get("/admin/changes")
@requires(Permission.MANAGE_PEOPLE)
def people_audit() -> Any:
    """The audit trail of people: creation, role, department, clearance, sign-in, logins."""
    with arc().sessions() as db:
        events = db.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type.in_(("user", "department", "token")))
            .order_by(AuditEvent.seq.desc())
            .limit(300)
        ).all()
        return render_template("people_audit.html", events=events)
