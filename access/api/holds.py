"""Holds over the API (``/api/v1/retention/holds``): records managers place and release
them; auditors and directors read them. Any hold blocks destruction, deletion and transfer."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from access.api.common import (
    api,
    archive,
    error,
    json_body,
    me,
    parse_ids,
    requires,
    text_field,
)
from access.browse import shown_on_lists
from access.policy import Permission
from archive.models import Hold, HoldScope
from retention.holds import covered, hold_json, list_holds, place_hold, records_held, release_hold

PREFIX = "/retention"


@api.get(f"{PREFIX}/holds")
@requires(Permission.OVERSEE_RETENTION)
def retention_holds() -> Any:
    everything = request.args.get("all") == "1"
    with archive().sessions() as session:
        return jsonify(holds=[hold_json(h, n) for h, n in list_holds(session, everything)])


@api.post(f"{PREFIX}/holds")
@requires(Permission.MANAGE_RETENTION)
def retention_hold_place() -> Any:
    body = json_body()
    try:
        scope = HoldScope(body.get("scope") or _scope_given(body))
    except ValueError:
        return error(400, "scope must be records, project or query")
    ids = parse_ids(body.get("record_ids"), "record_ids") if scope == HoldScope.RECORDS else []
    query = body.get("query") if isinstance(body.get("query"), dict) else None
    with archive().transaction() as session:
        hold, count = place_hold(
            session,
            g.actor,
            name=text_field(body, "name"),
            reason=text_field(body, "reason"),
            scope=scope,
            record_ids=ids,
            project=body.get("project"),
            query=query,
        )
        return jsonify(hold_json(hold, count)), 201


def _scope_given(body: dict[str, Any]) -> str:
    """The scope a request without one means: what it names (a project, a query), else
    records, so a project hold sent without ``scope`` is not refused for its record_ids."""
    return "project" if body.get("project") else "query" if body.get("query") else "records"


@api.get(f"{PREFIX}/holds/<int:hold_id>")
@requires(Permission.OVERSEE_RETENTION)
def retention_hold(hold_id: int) -> Any:
    with archive().sessions() as session:
        records = records_held(session, hold_id)  # the first 1000; 404 if no such hold
        hold = session.get(Hold, hold_id)
        assert hold is not None  # noqa: S101 - records_held found it
        shown = shown_on_lists(session, me(session))  # a director: what they may know
        return jsonify(
            {
                **hold_json(hold, covered(session, hold)),
                "record_list": [
                    {"id": str(r.id), "name": r.name_stem, "title": r.title}
                    if shown(r)
                    else {"id": str(r.id), "reference_code": r.reference_code, "withheld": True}
                    for r in records
                ],
            }
        )


@api.post(f"{PREFIX}/holds/<int:hold_id>/release")
@requires(Permission.MANAGE_RETENTION)
def retention_hold_release(hold_id: int) -> Any:
    with archive().transaction() as session:
        hold = release_hold(session, g.actor, hold_id, text_field(json_body(), "reason"))
        return jsonify(hold_json(hold))
