"""No dead ends: a refused form comes back on its own page, the reason beside the field it is
about (or above the form when it is about no one field), in the reader's language, with
everything typed still filled in (passwords never), answered with the refusal's status.

A view that takes a form is decorated with :func:`sends_back` and the function that renders
the page holding the form; a template asks :func:`sent` (a Jinja global) about one of its
forms and gets a :class:`FormState`: the error for the form or a field, and what was typed.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from dataclasses import field as default
from functools import wraps
from typing import Any, TypeVar

from flask import g, make_response, request
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from access.http import status_of
from access.web.core import error_page, form, log, record_ids, web
from access.web.refusals import explain
from archive.errors import DomainError, InvalidInput, Problems

F = TypeVar("F", bound=Callable[..., Any])


def _secret(name: str) -> bool:
    return "password" in name or name == "csrf_token"


@dataclass(frozen=True)
class Refused:
    """One form that came back: where it was sent, what was typed, why it was refused."""

    action: str
    values: MultiDict[str, str]
    message: str
    field: str
    more: Mapping[str, str] = default(default_factory=dict)  # other fields wrong at once


class FormState:
    """What a template asks of one of its forms (all empty unless it is the one refused)."""

    def __init__(self, refused: Refused | None) -> None:
        self.refused = refused

    def __bool__(self) -> bool:
        return self.refused is not None

    @property
    def error(self) -> str:
        """The reason, when it is about no one field: shown at the top of the form."""
        return self._shown(self.refused is not None and not self.refused.field)

    def error_for(self, name: str) -> str:
        """The reason, when it is about the field ``name``: shown beside it."""
        if self.refused is not None and name in self.refused.more:
            return self.refused.more[name]
        return self._shown(self.refused is not None and self.refused.field == name)

    def _shown(self, here: bool) -> str:
        if not here or self.refused is None:
            return ""
        g.refusal_shown = True
        return self.refused.message

    def invalid(self, name: str) -> Markup:
        """Attributes for the field ``name``: marked invalid and described by the reason."""
        if not self.error_for(name):
            return Markup("")
        marked = Markup('aria-invalid="true" aria-describedby="problem-%s"') % name
        if self.refused is not None and self.refused.field == name:  # the browser scrolls
            marked += Markup(" autofocus")  # to it, however far down the page the form is
        return marked

    def value(self, name: str, default: object = "") -> str:
        """What was typed in ``name`` (the default when this form was not refused)."""
        if self.refused is None:
            return "" if default is None else str(default)
        return self.refused.values.get(name, "")

    def values(self, name: str, default: list[str] | None = None) -> list[str]:
        if self.refused is None:
            return list(default or [])
        return self.refused.values.getlist(name)

    def chosen(self, name: str, option: object, default: object = None) -> bool:
        """Whether ``option`` of a select, radio or checkbox ``name`` is to be shown chosen."""
        if self.refused is None:
            return default is not None and str(option) == str(default)
        return str(option) in self.refused.values.getlist(name)


def sent(action: str | None = None, marker: str | None = None) -> FormState:
    """The state of the form posting to ``action`` (this page's own URL by default); with
    ``marker``, only the form that sends an input of that name (two forms, one URL)."""
    refused: Refused | None = g.get("refused_form")
    here = action or request.script_root + request.path
    if refused is None or refused.action != here:
        return FormState(None)
    if marker is not None and marker not in refused.values:
        return FormState(None)
    return FormState(refused)


def sends_back(
    page: Callable[..., Any], fields: Mapping[str, str] | None = None
) -> Callable[[F], F]:
    """On a refusal, answer with ``page`` (called with the URL arguments it takes) showing
    the form as sent and why. ``fields`` maps a service's field name to the form's input
    where they differ; a reason about an input the form did not send goes above the form."""

    wanted = set(inspect.signature(page).parameters)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if request.method != "POST":
                return view(*args, **kwargs)
            try:
                return view(*args, **kwargs)
            except (DomainError, ValueError) as exc:
                refusal = exc if isinstance(exc, DomainError) else unreadable(exc)
                return send_back(
                    page, refusal, fields, {k: v for k, v in kwargs.items() if k in wanted}
                )

        return wrapper  # type: ignore[return-value]

    return decorate


def unreadable(exc: ValueError) -> InvalidInput:
    """A value no service could read (a plain ``ValueError``: a choice the page never
    offered, say); its English text is for the log, not the person."""
    log.info("unreadable value: %s", exc)
    return InvalidInput(_("A value on the form is not one this page offers: choose again."))


def send_back(
    page: Callable[..., Any],
    exc: DomainError,
    fields: Mapping[str, str] | None,
    kwargs: Mapping[str, Any],
) -> Any:
    """The page again, with the refused form filled in; the refusal's status."""
    rename = fields or {}
    field = rename.get(exc.field, exc.field)
    kept = MultiDict([(k, v) for k, v in request.form.items(multi=True) if not _secret(k)])
    said: dict[str, list[str]] = {}  # every reason, by the input it is about, in order
    for problem in exc.problems if isinstance(exc, Problems) else [exc]:
        said.setdefault(rename.get(problem.field, problem.field), []).append(explain(problem))
    first = said.pop(field)
    g.refused_form = Refused(
        action=request.script_root + request.path,
        values=kept,
        message=" ".join(first + (said.pop("", []) if field else [])),
        field=field or "",  # a multi-select left empty is not sent, but has its place
        more={name: " ".join(reasons) for name, reasons in said.items()},
    )
    response = make_response(page(**kwargs))
    if response.status_code != 200:  # the page itself is refused: that answer stands
        return response
    if not g.get("refusal_shown") and g.refused_form.field:  # no place beside that field
        g.refused_form = replace(g.refused_form, field="")
        response = make_response(page(**kwargs))
    if not g.get("refusal_shown"):  # no form on the page to show it (not the person's)
        return error_page(status_of(exc), g.refused_form.message)
    response.status_code = status_of(exc)
    return response


def records_in(name: str) -> list[uuid.UUID]:
    """The records typed in the input ``name``; a refusal about them is shown beside it."""
    with about(name):
        return record_ids(form(name))


@contextmanager
def about(name: str) -> Iterator[None]:
    """A refusal about records (or about nothing in particular) raised inside is shown
    beside the input ``name``."""
    try:
        yield
    except DomainError as exc:
        if exc.field in ("", "record", "records"):
            exc.field = name
        raise


def row_number(raw: str) -> int:
    """The row a button names (a hold, an event): a page sends a number; anything else is
    refused as for a row that does not exist."""
    if not raw.isdigit():
        raise InvalidInput(_("No such entry."))
    return int(raw)


@web.app_context_processor
def _forms() -> dict[str, Any]:
    return {"sent": sent}
