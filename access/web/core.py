"""What every page shares: the blueprint, sign-in state, the language, the permission check,
the navigation, and the one place where an error becomes a page (with its status, never a
traceback)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, pgettext
from flask_login import LoginManager, current_user, login_required
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from access.browse import knows
from access.http import client_of_request, current_archive, database_busy, status_of
from access.login import LOCKED, Throttled, password_refusal
from access.policy import Permission, may
from access.record_refs import UnknownRecord, resolve, split_tokens
from access.requests import AccessError
from access.web.refusals import explain
from archive.accesslog import Client
from archive.audit import Actor
from archive.config import AccessSettings
from archive.core import Archive
from archive.errors import DomainError, InvalidInput
from archive.models import Role, User

web = Blueprint("web", __name__)
log = logging.getLogger(__name__)
login_manager = LoginManager()
login_manager.login_view = "web.login"
login_manager.login_message = _l("Please sign in to see this page.")
csrf = CSRFProtect()
F = TypeVar("F", bound=Callable[..., Any])

LANGUAGES = {"zh_CN": "中文", "en": "English"}
#: The shortest password a person may choose on a page.
MIN_PASSWORD = 12
#: Said beside a password :func:`archive.people.weak_password` refuses, and on the form.
WEAK_PASSWORD = _l(
    "Too easy to guess: not one character repeated, not a run such as 123456 or abcdef, "
    "not your user name."
)


class SessionUser:
    """What Flask-Login keeps for a signed-in user: the id and the user's session epoch,
    reloaded every request. Bumping the epoch (``archive.people.end_sessions``) ends every
    session of the user on the server, whatever copies of the cookie exist."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.is_authenticated = True
        self.is_active = user.active
        self.is_anonymous = False

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_epoch}"


def start_session() -> None:
    """Called at sign-in: the clocks the idle and absolute lifetimes count from."""
    session["signed_in_at"] = session["seen_at"] = int(time.time())


def _within_lifetimes(settings: AccessSettings) -> bool:
    """Unused for less than the idle limit, and signed in for less than the absolute one;
    each request counts as use. Both times sit in the signed cookie: a client cannot
    change them, only stop sending the cookie."""
    now = int(time.time())
    signed_in, seen = session.get("signed_in_at"), session.get("seen_at")
    if not isinstance(signed_in, int) or not isinstance(seen, int):
        return False
    if now - signed_in > settings.session_max_hours * 3600:
        return False
    if now - seen > settings.session_idle_minutes * 60:
        return False
    session["seen_at"] = now
    return True


@login_manager.user_loader
def _load(session_id: str) -> SessionUser | None:
    user_id, _, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    archive = current_archive()
    if not _within_lifetimes(archive.settings.access):
        return None
    with archive.sessions() as db:
        user = db.get(User, int(user_id))
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        db.expunge(user)
        return SessionUser(user)


def select_locale() -> str:
    """The language the person chose (kept in their session); Chinese otherwise."""
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else "zh_CN"


def arc() -> Archive:
    return current_archive()


def user() -> User:
    signed_in: User = current_user.user
    return signed_in


def me(db: Session) -> User:
    """The signed-in user as ``db`` reads them now (a role changed a second ago counts).
    Not ``merge``: that would copy the sign-in's stale copy over the row and write it back,
    undoing a demotion committed meanwhile."""
    return db.get_one(User, user().id, populate_existing=True)


def actor() -> Actor:
    return Actor.of(user(), request.remote_addr)


def client() -> Client:
    return client_of_request()


def requires(permission: Permission) -> Callable[[F], F]:
    """Signed in, with ``permission``; anyone else gets 403 whatever the link said."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not may(user().role, permission):
                return error_page(403, _l("Your role may not use this page."))
            return view(*args, **kwargs)

        return login_required(wrapper)  # type: ignore[no-any-return]

    return decorate


def error_page(status: int, message: object, ask_at: str | None = None) -> tuple[str, int]:
    """The page for a refusal; ``ask_at``: where the person can ask for access instead."""
    page = render_template("error.html", status=status, message=str(message), ask_at=ask_at)
    return page, status


def unrouted_page(status: int) -> tuple[str, int]:
    """A URL no page answers (404), or not with this method (405)."""
    return error_page(status, _("No such page.") if status == 404 else _("Not here: go back."))


@web.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> tuple[str, int]:
    return error_page(status_of(exc), explain(exc))


@web.errorhandler(UnknownRecord)
def _unknown_record(exc: UnknownRecord) -> tuple[str, int]:
    """A 档号 that names no record (a filter, say), in the page's language."""
    return error_page(400, unknown_records(exc))


def unknown_records(exc: UnknownRecord) -> str:
    """Every token that named no record, in the page's language."""
    return str(
        ngettext(
            "%(t)s is neither a reference code (档号) nor a record id.",
            "%(t)s are neither reference codes (档号) nor record ids.",
            len(exc.tokens),
            t=pgettext("between two record references a person typed", ", ").join(exc.tokens),
        )
    )


@web.errorhandler(DBAPIError)
def _database_busy(exc: DBAPIError) -> tuple[str, int, dict[str, str]]:
    headers = database_busy(exc)
    message = _l("The archive is busy right now; nothing was changed. Try again in a few seconds.")
    return (*error_page(503, message), headers)


@web.errorhandler(ValueError)
def _bad_value(exc: ValueError) -> tuple[str, int]:
    """A value a form sent that a service could not parse (an unknown choice, say): its
    English text goes to the log, the person gets the page's language."""
    log.info("unreadable value: %s", exc)
    return error_page(400, _("A value on the form is not one this page offers: choose again."))


def form(name: str, default: str = "") -> str:
    return (request.form.get(name) or default).strip()


def record_ids(raw: str, knowable: bool = False) -> list[uuid.UUID]:
    """Records a person typed or picked, by 档号 (what they know) or by id, separated by
    spaces, commas or 、 (:mod:`access.record_refs`); one that is neither is refused by
    name. Whether the person may act on a record is the service's decision, answered as for
    a record that does not exist; ``knowable``: a 档号 of a record they may not know of is
    refused as one that does not exist, too (for forms that act on what they may know)."""
    try:
        with arc().sessions() as db:
            return resolve(db, split_tokens(raw), knows(db, me(db)) if knowable else None)
    except UnknownRecord as unknown:
        raise InvalidInput(unknown_records(unknown)) from None


def record_id(raw: str, knowable: bool = False) -> uuid.UUID:
    """One record by 档号 or id (see :func:`record_ids`)."""
    found = record_ids(raw, knowable)
    if len(found) != 1:
        raise InvalidInput(_("Give one record: its reference code (档号) or id."))
    return found[0]


def reauthenticate() -> None:
    """Irreversible actions ask for the signed-in person's password again, so a browser left
    open or a copied cookie cannot do them; a wrong one counts as a failed sign-in (and so
    toward the lock-out)."""
    with arc().transaction() as db:
        refusal = password_refusal(db, user(), form("confirm_password"), request.remote_addr)
    if refusal == LOCKED:  # the right password is not checked while the name is locked
        raise AccessError(
            _("Too many failed attempts: try again in 15 minutes."),
            code="password_locked",
            field="confirm_password",
        )
    if isinstance(refusal, Throttled):
        raise AccessError(
            _(
                "Too many failed sign-ins from this address: try again in %(seconds)d seconds.",
                seconds=refusal.retry_after,
            ),
            code="password_throttled",
            field="confirm_password",
        )
    if refusal is not None:
        typed = bool(form("confirm_password"))
        raise AccessError(
            _("The password is not right: enter your own password to confirm this action.")
            if typed
            else _("Enter your own password to confirm this action."),
            code="password_wrong" if typed else "password",
            field="confirm_password",
        )


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site: an open redirect would lend our name to a phishing page."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any
    group: Any


def navigation(role: Role) -> list[NavItem]:
    """The links a role sees; each view checks the role again on its own."""
    items: list[NavItem] = []
    everyone, approve, intake = _l("Records"), _l("Approvals"), _l("Intake")
    manage, audit, admin = _l("Records management"), _l("Audit"), _l("Administration")
    security = _l("Security")
    if may(role, Permission.SEARCH):
        items += [
            NavItem("web.search", _l("Search"), everyone),
            NavItem("web.my_requests", _l("My requests"), everyone),
        ]
    if may(role, Permission.DECIDE_REQUESTS):
        items += [
            NavItem("web.inbox", _l("Waiting for me"), approve),
            NavItem("web.emergency", _l("Green channel"), approve),
        ]
    if may(role, Permission.UPLOAD):
        items += [
            NavItem("web.upload", _l("Upload"), intake),
            NavItem("web.jobs", _l("Ingest jobs"), intake),
        ]
    if may(role, Permission.MANAGE_CLASSIFICATION):
        items += [
            NavItem("web.rules", _l("Classification rules"), manage),
            NavItem("web.class_review", _l("Classification review"), manage),
        ]
    if may(role, Permission.MANAGE_RETENTION):
        items += [
            NavItem("web.schedules", _l("Retention schedules"), manage),
            NavItem("web.events", _l("Events"), manage),
            NavItem("web.holds", _l("Holds"), manage),
            NavItem("web.appraisal", _l("Appraisal"), manage),
        ]
    if may(role, Permission.SEE_DISPOSITION_LISTS):
        items.append(NavItem("web.lists", _l("Disposition lists"), manage))
    if may(role, Permission.OVERSEE_RETENTION):
        items.append(NavItem("web.due_report", _l("Due report"), manage))
    if may(role, Permission.PRINT_REGISTERS):
        items.append(NavItem("web.catalogue_page", _l("Catalogue of filed records"), manage))
    if may(role, Permission.WITNESS_DESTRUCTION):
        items.append(NavItem("web.witness_page", _l("Witness destruction"), manage))
    if may(role, Permission.READ_ACCESS_LOG):
        items += [
            NavItem("web.access_log", _l("Access log"), audit),
            NavItem("web.alerts", _l("Alerts"), audit),
            NavItem("web.chain", _l("Audit chain"), audit),
        ]
    if may(role, Permission.READ_AUDIT_TRAIL):
        items.append(NavItem("web.audit_trail", _l("Audit trail"), audit))
    if may(role, Permission.READ_AUDIT_SAMPLES):
        items.append(NavItem("web.audit_samples", _l("Quarterly audit sample"), audit))
    if may(role, Permission.MANAGE_PEOPLE):
        items += [
            NavItem("web.users", _l("Users"), admin),
            NavItem("web.departments", _l("Departments"), admin),
        ]
    if may(role, Permission.READ_PEOPLE_AUDIT):  # 三员分立: each sees it in their own group
        group = (
            admin
            if may(role, Permission.MANAGE_PEOPLE)
            else security
            if may(role, Permission.APPROVE_PRIVILEGE_CHANGES)
            else audit
        )
        items += [
            NavItem("web.privileges", _l("Privileged changes"), group),
            NavItem("web.people_audit", _l("Changes"), group),
        ]
    return items


@web.app_context_processor
def _shared() -> dict[str, Any]:
    signed_in = current_user.is_authenticated
    return {
        "nav": navigation(user().role) if signed_in else [],
        "me": user() if signed_in else None,
        "languages": LANGUAGES,
        "locale": select_locale(),
    }
