"""The web pages: server-rendered, Chinese first (Flask-Babel; English on request), one
module per user group. Sessions are Flask-Login cookies, every form carries a CSRF token
(Flask-WTF), and every view checks its permission itself: a missing link is a courtesy, the
server's refusal is the rule.

Each page module adds its views to the one blueprint of :mod:`access.web.core` when
imported; :data:`PAGES` imports them all here, so the list of pages is written down once.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_babel import Babel

from access.web import (
    admin,
    appraisal,
    approvals,
    auth,
    bulk,
    list_pages,
    manage,
    oversight,
    picker,
    privileges,
    records,
    registers_pages,
    retention_pages,
    uploads,
)
from access.web.core import csrf, login_manager, select_locale, web
from access.web.labels import register_filters

PAGES = (
    auth,
    records,
    picker,
    bulk,
    approvals,
    uploads,
    manage,
    retention_pages,
    list_pages,
    appraisal,
    registers_pages,
    oversight,
    privileges,
    admin,
)


def init_web(app: Flask, exempt_from_csrf: tuple[Blueprint, ...] = ()) -> None:
    """Sign-in, CSRF (but not for ``exempt_from_csrf``: bearer tokens are not ambient
    credentials), the languages, the label filters, and every page."""
    login_manager.init_app(app)
    csrf.init_app(app)
    for blueprint in exempt_from_csrf:
        csrf.exempt(blueprint)
    Babel(
        app, locale_selector=select_locale, default_locale="zh_CN", default_timezone="Asia/Shanghai"
    )
    register_filters(app)
    app.register_blueprint(web)
