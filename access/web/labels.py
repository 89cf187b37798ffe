"""The Jinja filters that print the archive's codes as words in the page's language (roles,
levels, states, classes, actions, media types, departments by name, who did it), times in
Beijing time, sizes and search snippets. Every word comes from the one vocabulary,
:mod:`archive.vocabulary`, which certificates and the audit trail's CSV use too; Flask-Babel
keeps the pages' own sentences."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from html import unescape
from typing import Any

from flask import Flask, g
from flask_babel import get_locale
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from sqlalchemy import select

from access.http import current_archive
from archive.models import Department, EventType, User
from archive.vocabulary import (
    action_label,
    actor_label,
    field_label,
    media_label,
    period_with_code,
    retention_period,
    shown_time,
    word,
)
from archive.vocabulary_details import as_text
from archive.vocabulary_reasons import reason_text


def _lang() -> str:
    return str(get_locale() or "zh")


def label(value: object) -> str:
    """The word for a stored code, from the archive's one vocabulary, in the page's language:
    a role, level, state, class, status, check, alert kind, audit action or media type; the
    code itself when the archive knows no word for it (a class a records manager invented)."""
    return word(value, _lang())


def period(value: object) -> str:
    """A 保管期限 code (``D30``) as words (30年)."""
    return retention_period(value, _lang())


def period_coded(value: object) -> str:
    """A 保管期限 code as words with the code: 30年（D30）."""
    return period_with_code(value, _lang())


def media(value: object) -> str:
    """A media type as people call it (PDF 文档), never ``application/pdf``."""
    return media_label(str(value or ""), _lang())


def action(value: object) -> str:
    """An audit action (``user.role_changed``) as words."""
    return action_label(str(value or ""), _lang())


def field(value: object) -> str:
    """The key of an event's details (``renditions``) as words."""
    return field_label(str(value or ""), _lang())


def actor(value: object) -> str:
    """Who did it, as people know them: a user by display name (user name when they have
    none), the console operator ``cli:root@host`` as 系统（命令行）, the system as 系统."""
    name = str(value or "")
    return people().get(name) or actor_label(name, _lang())


def people() -> dict[str, str]:
    """User name → display name, read once per request (the people of one company)."""
    names: dict[str, str] | None = getattr(g, "_people_names", None)
    if names is None:
        with current_archive().sessions() as db:
            rows = db.execute(select(User.username, User.display_name))
            names = {username: shown or username for username, shown in rows}
        g._people_names = names
    return names


def details(value: object) -> str:
    """An event's details as a person reads them: field names and coded values as words."""
    return as_text(_named(value or {}), _lang())


def _named(value: object) -> object:
    """Details with every ``department`` code replaced by the department's name, and the
    retention event types (``events``: ``project_accepted``) by the names given them."""
    if isinstance(value, dict):
        return {k: _named_value(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_named(v) for v in value]
    return value


def _named_value(key: str, value: object) -> object:
    if key == "department" and isinstance(value, str):
        return department(value)
    if key in ("events", "event_type") and isinstance(value, str):
        return event(value)
    if key == "events" and isinstance(value, list):
        return [event(v) if isinstance(v, str) else v for v in value]
    return _named(value)


def reason(value: object) -> str:
    """A quarantine reason in the page's language (known patterns)."""
    return reason_text(str(value or ""), _lang())


def event(value: object) -> str:
    """A retention event type (``project_accepted``) by the name the records manager gave it."""
    code = str(value or "")
    names: dict[str, str] | None = getattr(g, "_event_names", None)
    if names is None:
        with current_archive().sessions() as db:
            names = {c: name for c, name in db.execute(select(EventType.code, EventType.label))}
        g._event_names = names
    return names.get(code) or word(code, _lang())


def departments() -> dict[str, str]:
    """Department code → name, read once per request (a handful of rows)."""
    names: dict[str, str] | None = getattr(g, "_department_names", None)
    if names is None:
        with current_archive().sessions() as db:
            names = {
                code: name for code, name in db.execute(select(Department.code, Department.name))
            }
        g._department_names = names
    return names


def department(value: object) -> str:
    """A department by its name (销售), not its code (XS); a department object by name."""
    if value is None or value == "":
        return "—"
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return name
    code = str(value)
    return departments().get(code, code)


def when(value: datetime | date | None, style: str = "medium") -> str:
    """A moment in Beijing time as ``YYYY-MM-DD HH:MM``, a date as ``YYYY-MM-DD``: one format
    on every page and in either language (``style`` is kept for the templates that pass it)."""
    return shown_time(value)


def filesize(size: int | None) -> str:
    if size is None:
        return "—"
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TB"


def percent(fraction: float | str | None) -> str:
    """A share as a whole percentage (``0.346`` → ``35%``): people read certainty that way."""
    try:
        return f"{round(float(fraction) * 100)}%" if fraction is not None else "—"
    except ValueError:
        return "—"


#: How the search facade marks a matched word (Whoosh's HtmlFormatter, text escaped).
_MATCH = re.compile(r'<mark class="match term\d+">(.*?)</mark>', re.DOTALL)


def snippet(fragment: str) -> Markup:
    """A search snippet with its matched words in ``<mark>``. The words around them are a
    document's text, never trusted as HTML: everything is unescaped and escaped again here,
    so only the marks the facade put in come through as tags."""
    parts: list[Markup] = []
    last = 0
    for match in _MATCH.finditer(fragment):
        parts.append(escape(unescape(fragment[last : match.start()])))
        parts.append(Markup("<mark>%s</mark>") % unescape(match.group(1)))
        last = match.end()
    parts.append(escape(unescape(fragment[last:])))
    return Markup("").join(parts)


def _at_render(function: Callable[..., str]) -> Callable[..., str]:
    """Jinja works out a plain filter over a literal (``'view'|label``) once, when it compiles
    the template, in the language of that first request; a context filter runs every time."""

    @pass_context
    def call(_context: Context, *args: Any, **kwargs: Any) -> str:
        return function(*args, **kwargs)

    return call


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        label=_at_render(label),
        period=_at_render(period),
        period_coded=_at_render(period_coded),
        when=_at_render(when),
        filesize=filesize,
        percent=percent,
        snippet=snippet,
        media=_at_render(media),
        action=_at_render(action),
        field=_at_render(field),
        actor=_at_render(actor),
        department=_at_render(department),
        event=_at_render(event),
        details=_at_render(details),
        reason=_at_render(reason),
    )
