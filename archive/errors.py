"""One family for the errors a person can cause or must be told about.

Every package's user-facing errors derive from :class:`DomainError` and carry an
:class:`ErrorKind`; the REST API, the web pages and the CLI each turn the family into their
own answer (a status code, an error page, one line and exit 1) in exactly one place, so a new
error never needs three new handlers. Internal control flow (a superseded worker claim, a
sandboxed parser's crash) is not in the family: nobody is shown those.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What went wrong, as a caller can act on it."""

    INVALID = "invalid"  # the input is wrong: fix it and send it again
    FORBIDDEN = "forbidden"  # the caller may not do this
    NOT_FOUND = "not_found"  # no such thing (or not the caller's to know of)
    CONFLICT = "conflict"  # the current state does not allow it
    TOO_LARGE = "too_large"  # over a size limit
    UNAVAILABLE = "unavailable"  # a service the action needs is down: try again later


class DomainError(Exception):
    """Base of the family: a message for a person and its kind (``INVALID`` by default).

    ``code`` (when given) names the rule and ``params`` its values, so a page can say it in
    the reader's language from one catalogue (``access.web.refusals``); ``field`` names the
    input it is about (a service's parameter name), so a form can show it beside that field.
    """

    kind: ErrorKind = ErrorKind.INVALID

    def __init__(
        self,
        message: str = "",
        kind: ErrorKind | None = None,
        code: str = "",
        *,
        field: str = "",
        params: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind
        self.code = code
        self.field = field
        self.params = dict(params or {})


class InvalidInput(DomainError, ValueError):
    """Bad input at any way in (a malformed id, a date, a number), before any domain rule."""


class Problems(InvalidInput):
    """Several inputs wrong at once: a form says each beside its own field in one answer,
    rather than one per attempt. The first problem is also this error's own kind, message,
    ``code``, ``field`` and ``params``."""

    def __init__(self, problems: list[DomainError]) -> None:
        first = problems[0]
        super().__init__(
            "; ".join(str(p) for p in problems),
            first.kind,
            code=first.code,
            field=first.field,
            params=first.params,
        )
        self.problems = problems


def raise_all(problems: list[DomainError]) -> None:
    """Raise the one problem found, or all of them together; nothing if there are none."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise Problems(problems)
