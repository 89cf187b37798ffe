"""The web side's sign-in and its gated reader: session cookies (Flask-Login), CSRF on every
form (Flask-WTF), and lock-out after repeated failures (:mod:`access.login`). The pages are
deliberately bare; the full web UI is its own issue.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Flask, redirect, render_template_string, request, url_for
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from access.api import _archive, api
from access.api_access import content_response, read_content_for
from access.login import attempt_login
from access.reader import Refused
from archive.audit import Actor, record_event
from archive.models import User

web = Blueprint("web", __name__)
login_manager = LoginManager()
login_manager.login_view = "web.login"
csrf = CSRFProtect()

PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>档案系统</title></head>
<body>{% if error %}<p role="alert">{{ error }}</p>{% endif %}{{ body | safe }}</body></html>
"""
LOGIN_FORM = """<form method="post" action="{{ url_for('web.login') }}">
{{ form.csrf_token }}
<label>用户名 {{ form.username(autocomplete="username") }}</label>
<label>密码 {{ form.password(autocomplete="current-password") }}</label>
<button type="submit">登录</button></form>"""


class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField(validators=[DataRequired(), Length(max=64)])
    password = PasswordField(validators=[DataRequired(), Length(max=1024)])


class SessionUser:
    """What Flask-Login keeps for a signed-in user: the id only, reloaded every request."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.is_authenticated = True
        self.is_active = user.active
        self.is_anonymous = False

    def get_id(self) -> str:
        return str(self.user.id)


@login_manager.user_loader
def _load(user_id: str) -> SessionUser | None:
    with _archive().sessions() as session:
        user = session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.active:
            return None
        session.expunge(user)
        return SessionUser(user)


def init_web(app: Flask) -> None:
    login_manager.init_app(app)
    csrf.init_app(app)
    csrf.exempt(api)  # bearer tokens are not ambient credentials: no CSRF on the API
    app.register_blueprint(web)


def _page(body: str, error: str | None = None, status: int = 200, **context: Any) -> Any:
    html = render_template_string(PAGE, body=render_template_string(body, **context), error=error)
    return html, status


@web.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        return _page(LOGIN_FORM, form=form)
    if not form.validate():
        return _page(LOGIN_FORM, "请填写用户名和密码", 400, form=form)
    with _archive().transaction() as session:
        outcome = attempt_login(
            session, form.username.data or "", form.password.data or "", request.remote_addr
        )
        if isinstance(outcome, User):
            session.expunge(outcome)
    if isinstance(outcome, str):
        return _page(LOGIN_FORM, outcome, 429 if "too many" in outcome else 401, form=form)
    login_user(SessionUser(outcome))
    return redirect(url_for("web.home"))


@web.post("/logout")
@login_required
def logout() -> Any:
    with _archive().transaction() as session:
        record_event(session, _actor(), "logout", "user", current_user.user.id)
    logout_user()
    return redirect(url_for("web.login"))


def _actor() -> Actor:
    return Actor.of(current_user.user, request.remote_addr)


@web.get("/")
@login_required
def home() -> Any:
    body = """<p>{{ name }}</p><form method="post" action="{{ url_for('web.logout') }}">
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}"><button>退出</button></form>"""
    return _page(body, name=current_user.user.display_name or current_user.user.username)


@web.get("/versions/<uuid:version_id>/content")
@login_required
def version_content(version_id: uuid.UUID) -> Any:
    """The web side of the gated reader: the same decision, log and stamp as the API."""
    outcome = read_content_for(current_user.user, version_id)
    if isinstance(outcome, Refused):
        return _page("", outcome.message, outcome.status)
    return content_response(outcome)
