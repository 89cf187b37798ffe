"""The web pages: server-rendered, Chinese first (Flask-Babel; English on request), one
module per user group. Sessions are Flask-Login cookies, every form carries a CSRF token
(Flask-WTF), and every view checks the role itself: a missing link is a courtesy, the
server's refusal is the rule.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import Babel

from access.api import api
from access.web.core import csrf, login_manager, select_locale, web
from access.web.labels import register_filters


def init_web(app: Flask) -> None:
    from access.web import (  # noqa: F401 - each adds its routes to the blueprint
        admin,
        approvals,
        auth,
        manage,
        oversight,
        records,
        retention_pages,
        uploads,
    )

    login_manager.init_app(app)
    csrf.init_app(app)
    csrf.exempt(api)  # bearer tokens are not ambient credentials: no CSRF on the API
    Babel(
        app, locale_selector=select_locale, default_locale="zh_CN", default_timezone="Asia/Shanghai"
    )
    register_filters(app)
    app.register_blueprint(web)
