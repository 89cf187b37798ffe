"""Administrators' pages: users (role, department, clearance, sign-in, password) and
departments. Administrators manage people; they never read records, and a privileged change
(三员分立: see ``archive.privileges``) only goes as far as a request that a security
administrator approves on the privileged changes page."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from access.policy import Permission
from access.web.core import (
    MIN_PASSWORD,
    WEAK_PASSWORD,
    actor,
    arc,
    form,
    me,
    reauthenticate,
    requires,
    user,
    web,
)
from access.web.forms import sends_back, sent
from access.web.privileges import one_time_password_page
from archive.errors import DomainError, InvalidInput
from archive.models import (
    Department,
    PrivilegeChange,
    PrivilegeStatus,
    Role,
    Sensitivity,
    User,
)
from archive.passwords import weak_password
from archive.people import PeopleError, create_department, find_department, find_user
from archive.privileges import (
    Outcome,
    Wanted,
    holds_privilege,
    privileged_standing,
    split,
    submit_change,
    submit_new_user,
)


def _wanted(person: User) -> Wanted:
    """What the row's form asks for ``person`` (nobody blocks their own sign-in)."""
    with arc().sessions() as db:
        return Wanted(
            role=Role(form("role")) if form("role") else None,
            department=find_department(db, form("department")) if form("department") else None,
            clearance=Sensitivity(form("clearance")) if form("clearance") else None,
            active=None if person.id == user().id else request.form.get("active") == "on",
            reset_password=request.form.get("reset_password") == "on",
        )


def _change(password: str) -> Outcome:
    with arc().sessions() as db:
        person = find_user(db, form("username_existing"))
        if person.id == user().id and form("role") and form("role") != person.role.value:
            raise PeopleError(_("You cannot change your own role."))
        wanted = _wanted(person)
        privileged = bool(split(db, person, wanted)[1])
    if privileged:  # a request for approval: the administrator's password again
        reauthenticate()
    with arc().transaction() as db:
        person = find_user(db, form("username_existing"))
        return submit_change(db, actor(), me(db), person, wanted, password or None)


def _create(password: str) -> Outcome:
    role, clearance = Role(form("role")), Sensitivity(form("clearance", "internal"))
    if privileged_standing(role, clearance):
        reauthenticate()
    with arc().transaction() as db:
        return submit_new_user(
            db,
            actor(),
            me(db),
            form("username"),
            role,
            find_department(db, form("department")) if form("department") else None,
            clearance,
            password or None,
            form("display_name"),
        )


def _page() -> Any:
    """The users page; after a refusal (see ``access.web.forms``), the refused form as typed
    (not passwords) with the reason."""
    refused = sent()
    with arc().sessions() as db:
        people = db.scalars(select(User).order_by(User.username)).all()
        return render_template(
            "users.html",
            users=people,
            privileged={u.id for u in people if holds_privilege(db, u)},
            awaiting=set(
                db.scalars(
                    select(PrivilegeChange.username).where(
                        PrivilegeChange.status == PrivilegeStatus.PENDING
                    )
                )
            ),
            departments=db.scalars(select(Department).order_by(Department.code)).all(),
            roles=[r.value for r in Role],
            levels=[s.value for s in Sensitivity],
            refused=refused,
            draft=refused.refused.values if refused.refused else {},
        )


@web.route("/admin/users", methods=["GET", "POST"])
@requires(Permission.MANAGE_PEOPLE)
@sends_back(_page)
def users() -> Any:
    if request.method == "GET":
        return _page()
    password = form("password")
    if password and len(password) < MIN_PASSWORD:
        raise PeopleError(
            _("A password needs at least %(n)s characters.", n=MIN_PASSWORD), field="password"
        )
    if password and weak_password(password, form("username") or form("username_existing")):
        raise PeopleError(_(WEAK_PASSWORD), field="password")
    try:
        outcome = _change(password) if form("username_existing") else _create(password)
    except ValueError as exc:  # an unknown role or level: not a choice the page offers
        if isinstance(exc, DomainError):
            raise
        raise InvalidInput(_("Choose one of the values offered."), field="role") from None
    if outcome.applied:
        created = outcome.applied == ["created"]
        flash(_("User created.") if created else _("Saved. Every change is in the audit."), "ok")
    if outcome.request is not None:
        flash(
            _(
                "Sent for approval (#%(id)s): the privileged part takes effect when a security "
                "administrator approves it.",
                id=outcome.request.id,
            ),
            "ok",
        )
    if not outcome.applied and outcome.request is None:
        flash(_("Nothing changed."), "ok")
    if outcome.password and outcome.user is None:  # a reset nobody needs to approve
        return one_time_password_page(form("username_existing"), outcome.password)
    return redirect(url_for("web.users"))


def _departments_page() -> Any:
    with arc().sessions() as db:
        return render_template(
            "departments.html",
            departments=db.scalars(select(Department).order_by(Department.code)).all(),
        )


@web.route("/admin/departments", methods=["GET", "POST"])
@requires(Permission.MANAGE_PEOPLE)
@sends_back(_departments_page)
def departments() -> Any:
    if request.method != "POST":
        return _departments_page()
    with arc().transaction() as db:
        create_department(db, actor(), form("code").upper(), form("name"))
    flash(_("Department created."), "ok")
    return redirect(url_for("web.departments"))
