"""Signing in and out, the language switch, and the home page of each role."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from access.login import LOCKED, Throttled, attempt_login
from access.policy import Permission, may
from access.requests import mine, waiting_for
from access.web.core import (
    LANGUAGES,
    SessionUser,
    actor,
    arc,
    me,
    navigation,
    safe_next,
    start_session,
    web,
)
from archive.audit import record_event
from archive.models import IngestJob, IngestStatus, Record, User
from archive.people import end_sessions


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
    session.clear()  # a fresh session at sign-in: no fixation
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
    return redirect(url_for("web.login"))


@web.get("/language/<code>")
def language(code: str) -> Any:
    """Switch the page language; it stays with the browser session."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), url_for("web.home")))


@web.get("/")
@login_required
def home() -> Any:
    """What is waiting for this person, and where to go next."""
    with arc().sessions() as db:
        person = me(db)
        counts: dict[str, int] = {
            "waiting": len(waiting_for(db, person)),
            "mine_pending": sum(1 for r in mine(db, person) if r.status.value == "pending"),
        }
        if may(person.role, Permission.SEE_EVERY_JOB):
            counts["quarantined"] = (
                db.scalar(select(func.count()).where(IngestJob.status == IngestStatus.QUARANTINED))
                or 0
            )
            counts["review"] = (
                db.scalar(select(func.count()).where(Record.needs_review.is_(True))) or 0
            )
        return render_template("home.html", counts=counts, items=navigation(person.role))
