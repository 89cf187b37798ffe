"""The record picker's JSON, for the type-ahead in forms (``static/picker.js``): a few
records the signed-in person may see, never cached. A page session's cookie is the
credential; a GET changes nothing, so it needs no CSRF token."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from access.pick import pick_as
from access.policy import Permission, may, may_open_emergency
from access.web.core import arc, client, user, web
from archive.models import Record, RecordState, Scope, User


@web.get("/records/pick")
def pick_records() -> Any:
    """``?q=`` what was typed, ``&for=retention|audit`` the form it is for."""
    if not current_user.is_authenticated:
        response = jsonify(error=_("Please sign in to see this page."))
        status = 401
    elif not may(user().role, Permission.SEARCH):
        response = jsonify(error=_("Your role may not use this page."))
        status = 403
    else:
        found = pick_as(
            arc(), user().id, client(), request.args.get("q", ""), request.args.get("for", "")
        )
        response = jsonify(records=[p.as_json() for p in found])
        status = 200
    response.headers["Cache-Control"] = "no-store"
    return response, status


def record_actions(person: User, record: Record, allowed: set[str]) -> list[tuple[str, str]]:
    """What ``person`` may start from a record's page with the record already chosen: the
    forms that take records, for the roles that may use them (each view checks again).
    ``allowed``: what they may do with its content now (no green channel to read what they
    already may)."""
    token = record.reference_code or str(record.id)
    links: list[tuple[str, str]] = []
    gone = record.state == RecordState.DISPOSED  # nothing left to open, hold or list
    if not gone and Scope.VIEW.value not in allowed and may_open_emergency(person, record):
        links.append((_("Green channel"), url_for("web.emergency", record_id=token)))
    if not gone and may(person.role, Permission.MANAGE_RETENTION):
        links += [
            (_("Place a hold"), url_for("web.holds", record=token)),
            (_("Add to a disposition list"), url_for("web.lists", record=token)),
            (_("Record an event"), url_for("web.events", record=token)),
        ]
    if may(person.role, Permission.READ_ACCESS_LOG):
        links.append((_("Access log"), url_for("web.access_log", record=token)))
    if may(person.role, Permission.READ_AUDIT_TRAIL):
        links.append((_("Audit trail"), url_for("web.audit_trail", record=token)))
    return links
