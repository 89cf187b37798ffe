"""What every page shares: the blueprint, sign-in state, the language, role checks, the
navigation, and how a refusal or bad input is shown (a page with the status, never a
traceback)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Blueprint, render_template, request, session
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session

from access.api import UPLOADERS, _archive, client_of_request
from access.requests import AccessError
from archive.accesslog import Client
from archive.audit import Actor
from archive.core import Archive
from archive.models import Role, User
from archive.people import PeopleError
from ingest.classify import RuleError
from ingest.jobs import JobError
from ingest.metadata import MetadataError
from ingest.review import ReviewError
from retention.errors import RetentionError

web = Blueprint("web", __name__)
login_manager = LoginManager()
login_manager.login_view = "web.login"
login_manager.login_message = _l("Please sign in to see this page.")
csrf = CSRFProtect()
F = TypeVar("F", bound=Callable[..., Any])

LANGUAGES = {"zh_CN": "中文", "en": "English"}
HEADS = frozenset({Role.SUPERVISOR, Role.DIRECTOR})
MANAGERS = frozenset({Role.RECORDS_MANAGER})
AUDITORS = frozenset({Role.AUDITOR})
ADMINS = frozenset({Role.ADMIN})
SIGNERS = frozenset({Role.RECORDS_MANAGER, Role.SUPERVISOR, Role.DIRECTOR})
READERS = frozenset(set(Role) - {Role.ADMIN})  # admin manages people, never reads records
#: Errors the services raise for bad input or a state that forbids the action; shown as a
#: page with the status they carry (400 unless they say otherwise).
DOMAIN_ERRORS = (
    AccessError,
    RetentionError,
    JobError,
    MetadataError,
    ReviewError,
    PeopleError,
    RuleError,
    ValueError,
)


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
    with _archive().sessions() as db:
        user = db.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not user.active:
            return None
        db.expunge(user)
        return SessionUser(user)


def select_locale() -> str:
    """The language the person chose (kept in their session); Chinese otherwise."""
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else "zh_CN"


def arc() -> Archive:
    return _archive()


def user() -> User:
    signed_in: User = current_user.user
    return signed_in


def me(db: Session) -> User:
    """The signed-in user attached to ``db`` (fresh: a role changed a second ago counts)."""
    attached: User = db.merge(user(), load=True)
    return attached


def actor() -> Actor:
    return Actor.of(user(), request.remote_addr)


def client() -> Client:
    return client_of_request()


def roles(allowed: frozenset[Role]) -> Callable[[F], F]:
    """Signed in, and in one of ``allowed``; anyone else gets 403 whatever the link said."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if user().role not in allowed:
                return error_page(403, _l("Your role may not use this page."))
            return view(*args, **kwargs)

        return login_required(wrapper)  # type: ignore[no-any-return]

    return decorate


def error_page(status: int, message: object) -> tuple[str, int]:
    return render_template("error.html", status=status, message=str(message)), status


def _domain_error(exc: Exception) -> tuple[str, int]:
    status = getattr(exc, "status", 400)
    return error_page(status if isinstance(status, int) else 400, exc)


for _error in DOMAIN_ERRORS:
    web.register_error_handler(_error, _domain_error)


def form(name: str, default: str = "") -> str:
    return (request.form.get(name) or default).strip()


def parse_id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise AccessError(400, f"{what} must be an id") from None


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
    if role in READERS:
        items += [
            NavItem("web.search", _l("Search"), everyone),
            NavItem("web.my_requests", _l("My requests"), everyone),
        ]
    if role in HEADS:
        items += [
            NavItem("web.inbox", _l("Waiting for me"), approve),
            NavItem("web.emergency", _l("Green channel"), approve),
        ]
    if role in UPLOADERS:
        items += [
            NavItem("web.upload", _l("Upload"), intake),
            NavItem("web.jobs", _l("Ingest jobs"), intake),
        ]
    if role in MANAGERS:
        items += [
            NavItem("web.rules", _l("Classification rules"), manage),
            NavItem("web.class_review", _l("Classification review"), manage),
            NavItem("web.schedules", _l("Retention schedules"), manage),
            NavItem("web.events", _l("Events"), manage),
            NavItem("web.holds", _l("Holds"), manage),
        ]
    if role in SIGNERS:
        items.append(NavItem("web.lists", _l("Disposition lists"), manage))
    if role in MANAGERS:
        items.append(NavItem("web.due_report", _l("Due report"), manage))
    if role in AUDITORS:
        items += [
            NavItem("web.access_log", _l("Access log"), audit),
            NavItem("web.alerts", _l("Alerts"), audit),
            NavItem("web.chain", _l("Audit chain"), audit),
        ]
    if role in MANAGERS | AUDITORS:
        items.append(NavItem("web.audit_samples", _l("Quarterly audit sample"), audit))
    if role in ADMINS:
        items += [
            NavItem("web.users", _l("Users"), admin),
            NavItem("web.departments", _l("Departments"), admin),
            NavItem("web.people_audit", _l("Changes"), admin),
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
