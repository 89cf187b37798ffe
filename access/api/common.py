"""What every API view shares: the blueprint, bearer-token authentication, the permission
check, parsing of bodies and parameters, and the one place where errors become JSON.

Deny by default: every view needs a token, and a view that needs more than that says which
permission (``access.policy.PERMISSIONS``) with :func:`requires`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, after_this_request, g, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from access.browse import knows
from access.http import client_of_request, current_archive, database_busy, status_of
from access.login import LOCKED, WRONG, Throttled, password_refusal
from access.policy import Permission, may
from access.record_refs import UnknownRecord, resolve, split_tokens
from access.refused_callers import log_refused_caller
from access.requests import AccessError
from archive.audit import Actor
from archive.core import Archive
from archive.errors import DomainError, ErrorKind, InvalidInput, Problems
from archive.models import Scope, User
from archive.people import token_holder, token_use_is_stale, touch_token

log = logging.getLogger(__name__)
api = Blueprint("api", __name__, url_prefix="/api/v1")
F = TypeVar("F", bound=Callable[..., Any])


def archive() -> Archive:
    return current_archive()


#: What a program can act on, by status, when the error names no kind of its own.
KINDS: dict[int, str] = {
    400: ErrorKind.INVALID,
    401: "unauthenticated",
    403: ErrorKind.FORBIDDEN,
    404: ErrorKind.NOT_FOUND,
    405: "method_not_allowed",
    409: ErrorKind.CONFLICT,
    410: "gone",
    413: ErrorKind.TOO_LARGE,
    422: ErrorKind.INVALID,
    429: "too_many_requests",
    503: ErrorKind.UNAVAILABLE,
}


def error(
    status: int, message: str, code: str = "", field: str = "", **more: Any
) -> tuple[Response, int]:
    """Every API error has one shape: ``error`` (a sentence), ``kind`` (what a program acts
    on: ``invalid``, ``forbidden``, ``not_found``…), and where known the rule's ``code`` and
    the ``field`` it is about."""
    body: dict[str, Any] = {"error": message, "kind": str(KINDS.get(status, "error"))}
    if code:
        body["code"] = code
    if field:
        body["field"] = field
    return jsonify(**body, **more), status


def _described(exc: DomainError) -> dict[str, Any]:
    return {
        "error": str(exc),
        "kind": str(exc.kind),
        **({"code": exc.code} if exc.code else {}),
        **({"field": exc.field} if exc.field else {}),
    }


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    return error(exc.code or 500, exc.description or exc.name)


@api.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> tuple[Response, int]:
    """The error as described above; several problems at once are each listed, beside the
    first as the error's own."""
    body = _described(exc)
    if isinstance(exc, Problems):
        body["problems"] = [_described(problem) for problem in exc.problems]
    return jsonify(body), status_of(exc)


@api.errorhandler(DBAPIError)
def _database_busy(exc: DBAPIError) -> tuple[Response, int, dict[str, str]]:
    headers = database_busy(exc)
    return (*error(503, "the archive is busy; nothing was changed, try again shortly"), headers)


def _authenticate(token: str) -> User | None:
    """The token's user, read without the write lock. The token's last use is written at
    most once a minute, after the response has gone, in its own short transaction, and
    skipped if the database is busy: it is a hint for administrators, not a record (the
    access log is that)."""
    arc = archive()
    with arc.sessions() as session:
        found = token_holder(session, token)
        if found is None:
            return None
        user, row = found
        stale, token_id = token_use_is_stale(row), row.id
        session.expunge(user)
    if stale:

        def touch() -> None:
            try:
                with arc.transaction() as session:
                    touch_token(session, token_id)
            except OperationalError:
                log.info("token %s: last use not recorded (database busy)", token_id)

        @after_this_request
        def later(response: Response) -> Response:
            response.call_on_close(touch)
            return response

    return user


#: The endpoints that hand out content: a refusal there is an access-log line even when
#: nobody valid asked (:mod:`access.refused_callers`).
READS = frozenset({"api.version_content"})


def token_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user: User | None = None
        if scheme.lower() == "bearer" and token:
            user = _authenticate(token.strip())
        if user is None:
            if request.endpoint in READS:  # a refused read, logged (within limits)
                log_refused_caller(
                    archive(),
                    client_of_request(),
                    token.strip() if scheme.lower() == "bearer" else "",
                    request.args.get("action", Scope.VIEW.value),
                    kwargs.get("version_id"),
                )
            response, status = error(401, "a valid API token is required")
            response.headers["WWW-Authenticate"] = 'Bearer realm="archive"'
            return response, status
        g.user = user
        g.actor = Actor.of(user, request.remote_addr)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def requires(
    permission: Permission, refusal: str = "the {role} role may not do this"
) -> Callable[[F], F]:
    """A token, and a role with ``permission``; anyone else gets 403 and ``refusal``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not may(g.user.role, permission):
                return error(403, refusal.format(role=g.user.role.value))
            return view(*args, **kwargs)

        return token_required(wrapper)  # type: ignore[return-value]

    return decorate


def me(session: Session) -> User:
    """The caller as ``session`` reads them now (a role changed a second ago counts). Not
    ``merge``: it would write the token check's stale copy back over a change made since."""
    return session.get_one(User, g.user.id, populate_existing=True)


def reauthenticated() -> None:
    """Irreversible actions (signing or executing a list, confirming a deletion) need the
    caller's password again, in ``confirm_password``: a token is a credential that can be
    copied, and what these do cannot be undone."""
    given = json_body().get("confirm_password")
    arc = archive()
    with arc.transaction() as session:
        refusal = (
            password_refusal(session, me(session), given, request.remote_addr)
            if isinstance(given, str)
            else WRONG
        )
    if refusal == LOCKED:
        raise AccessError(f"confirm_password: {LOCKED}", code="password_locked")
    if isinstance(refusal, Throttled):
        raise AccessError(
            f"confirm_password: too many failed sign-ins from this address: try again in "
            f"{refusal.retry_after} seconds",
            code="password_throttled",
        )
    if refusal is not None:
        raise AccessError(
            "this action cannot be undone: give your own password again as confirm_password"
        )


def json_body() -> dict[str, Any]:
    """The JSON object sent, or an empty one (a view then says what is missing)."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def text_field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def whole_number(value: object, what: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise InvalidInput(f"{what} must be a whole number") from None


def parse_day(value: object, what: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{what} must be a date YYYY-MM-DD") from None


def parse_ids(value: object, what: str, knowable: bool = False) -> list[uuid.UUID]:
    """Records by 档号 or id: a list of them, or one string of them separated by spaces or
    commas (:mod:`access.record_refs`, the resolver the web forms use). ``knowable``: a
    档号 of a record the caller may not know of is refused as one that does not exist."""
    if isinstance(value, str):
        tokens = split_tokens(value)
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        tokens = list(value)
    else:
        raise InvalidInput(f"{what} must be a list of reference codes (档号) or record ids")
    with archive().sessions() as session:
        try:
            return resolve(session, tokens, knows(session, me(session)) if knowable else None)
        except UnknownRecord as unknown:
            raise InvalidInput(f"{what}: {unknown}") from None


def parse_record(value: object, what: str, knowable: bool = False) -> uuid.UUID:
    """One record by 档号 or id (see :func:`parse_ids`)."""
    found = parse_ids(value, what, knowable) if isinstance(value, str) else []
    if len(found) != 1:
        raise InvalidInput(f"{what} must be one reference code (档号) or record id")
    return found[0]
