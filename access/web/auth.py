"""Signing in and out, choosing one's own password (first, when someone else set it), the
language switch, and the home page of each role."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from access.login import LOCKED, Throttled, attempt_login
from access.policy import Permission, may
from access.waiting import what_waits
from access.web.core import (
    LANGUAGES,
    MIN_PASSWORD,
    WEAK_PASSWORD,
    SessionUser,
    actor,
    arc,
    form,
    me,
    navigation,
    reauthenticate,
    safe_next,
    start_session,
    user,
    web,
)
from access.web.forms import sends_back
from archive.audit import record_event
from archive.models import PrivilegeChange, PrivilegeStatus, Role, User
from archive.passwords import weak_password
from archive.people import PeopleError, end_sessions, set_password
from ingest.checks import scanner_problem
from retention.reports import destructions_readable_in_backups

#: What someone who must first choose their own password may still open.
_BEFORE_PASSWORD = frozenset({"web.change_password", "web.logout", "web.language", "web.login"})


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])


@web.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    target = safe_next(request.args.get("next"), url_for("web.home"))
    if request.method == "GET":
        return render_template("login.html", form=form)
    if not form.validate():
        return render_template(
            "login.html", form=form, error=_("Enter your user name and password.")
        ), 400
    with arc().transaction() as db:
        outcome = attempt_login(
            db, form.username.data or "", form.password.data or "", request.remote_addr
        )
        if isinstance(outcome, User):
            db.expunge(outcome)
    if isinstance(outcome, Throttled):  # failures from this address: wait, then try again
        message = _(
            "Too many failed sign-ins from this address: try again in %(seconds)d seconds.",
            seconds=outcome.retry_after,
        )
        page = render_template("login.html", form=form, error=message)
        return page, 429, {"Retry-After": str(outcome.retry_after)}
    if isinstance(outcome, str):
        locked = outcome == LOCKED
        message = (
            _("Too many failed attempts: try again in 15 minutes.")
            if locked
            else _("Wrong user name or password.")
        )
        return render_template("login.html", form=form, error=message), 429 if locked else 401
    lang = session.get("lang")  # the language chosen on the sign-in page stays
    session.clear()  # a fresh session at sign-in: no fixation
    if lang:
        session["lang"] = lang
    login_user(SessionUser(outcome))
    start_session()
    return redirect(target)


@web.post("/logout")
@login_required
def logout() -> Any:
    with arc().transaction() as db:
        record_event(db, actor(), "logout", "user", current_user.user.id)
        # Every session of this person ends on the server, copied cookies included.
        end_sessions(db, actor(), me(db), "signed out", tokens=False)
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out, here and in every other browser you were signed in."), "ok")
    return redirect(url_for("web.login"))


@web.before_request
def _own_password_first() -> Any:
    """A password someone else set (an administrator, a one-time password) opens nothing
    but the page to replace it: whoever else knows it cannot read as the person unnoticed."""
    if (
        current_user.is_authenticated
        and user().must_change_password
        and request.endpoint not in _BEFORE_PASSWORD
    ):
        return redirect(url_for("web.change_password"))
    return None


def _password_page() -> Any:
    return render_template("password.html")


@web.route("/account/password", methods=["GET", "POST"])
@login_required
@sends_back(_password_page)
def change_password() -> Any:
    """Choose one's own password: the current one again (a wrong one counts as a failed
    sign-in), then every other session and token ends and this one goes on. A refusal
    comes back beside the field it is about."""
    if request.method == "GET":
        return _password_page()
    new = request.form.get("new_password", "")
    if len(new) < MIN_PASSWORD:
        raise PeopleError(
            _("A password needs at least %(n)s characters.", n=MIN_PASSWORD), field="new_password"
        )
    if weak_password(new, user().username):
        raise PeopleError(_(WEAK_PASSWORD), field="new_password")
    if new != request.form.get("new_password_again", ""):
        raise PeopleError(_("The two new passwords differ."), field="new_password_again")
    if new == form("confirm_password"):
        raise PeopleError(_("Choose a password other than the current one."), field="new_password")
    reauthenticate()
    with arc().transaction() as db:
        person = me(db)
        set_password(db, actor(), person, new)
        db.flush()
        db.expunge(person)
    login_user(SessionUser(person))  # the new session epoch: this browser stays signed in
    start_session()
    flash(_("Your password is changed."), "ok")
    return redirect(url_for("web.home"))


@web.get("/language/<code>")
def language(code: str) -> Any:
    """Switch the page language; it stays with the browser session."""
    if code in LANGUAGES:
        session["lang"] = code
    target = safe_next(request.args.get("next"), url_for("web.home"))
    if _CONTENT.match(urlsplit(target).path):  # going back would read (and log) it again
        target = url_for("web.home")
    return redirect(target)


#: The gated reader's address: a page about a read is not read again to change its language.
_CONTENT = re.compile(r"^/(?:versions/[^/]+/content|reader/[^/]+)$")


@web.get("/")
@login_required
def home() -> Any:
    """What is waiting for this person (a count and a link each), and where to go next."""
    archive = arc()
    with archive.sessions() as db:
        person = me(db)
        waiting = what_waits(db, archive.settings, person)
        counts = _privilege_counts(db, person)
        return render_template(
            "home.html",
            waiting=waiting,
            counts=counts,
            items=navigation(person.role),
            unscanned=scanner_problem(archive.settings.ingest)
            if person.role in ANSWER_FOR_SCANNING
            else None,
            scan_required=archive.settings.ingest.clamav == "required",
            keys_to_retire=destructions_readable_in_backups(db)
            if person.role in ANSWER_FOR_SCANNING
            else 0,
        )


#: Who is told on their home page that files are stored without a virus scan, or that
#: destroyed records are still readable in older backups: the administrator installs ClamAV
#: and retires keys, the records manager answers for 四性 and destruction, the auditor checks.
ANSWER_FOR_SCANNING = frozenset({Role.ADMIN, Role.RECORDS_MANAGER, Role.AUDITOR})


def _privilege_counts(db: Session, person: User) -> dict[str, int]:
    """Privileged changes waiting: for a security administrator, those they may decide;
    for an administrator, those they asked for."""
    waiting = select(func.count()).where(PrivilegeChange.status == PrivilegeStatus.PENDING)
    if may(person.role, Permission.APPROVE_PRIVILEGE_CHANGES):
        decidable = waiting.where(
            PrivilegeChange.requested_by_id != person.id,
            PrivilegeChange.username != person.username,
        )
        return {"privileges": db.scalar(decidable) or 0}
    if may(person.role, Permission.MANAGE_PEOPLE):
        mine = waiting.where(PrivilegeChange.requested_by_id == person.id)
        return {"asked": db.scalar(mine) or 0}
    return {}
