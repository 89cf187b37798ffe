"""One record's retention over the API: its standing (due date, schedule, holds, reviews),
and the records manager's review, cut-off and deletion of it."""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, jsonify

from access.api.common import (
    api,
    archive,
    json_body,
    me,
    parse_day,
    reauthenticated,
    requires,
    text_field,
    token_required,
    whole_number,
)
from access.browse import looked_up_retention
from access.http import client_of_request
from access.policy import Permission, may
from retention.deletion import confirm_deletion, may_confirm, pending_deletions, request_deletion
from retention.review import cut_off, review, reviews_of
from retention.status import standing

PREFIX = "/retention"


@api.get(f"{PREFIX}/records/<uuid:record_id>")
@token_required
def retention_record(record_id: uuid.UUID) -> Any:
    arc = archive()
    with arc.sessions() as session:
        record = looked_up_retention(arc, session, me(session), client_of_request(), record_id)
        status = standing(session, arc.settings.retention, record)
        reviews = [
            {
                "opinion": r.opinion,
                "outcome": r.outcome,
                "due_before": r.due_before.isoformat() if r.due_before else None,
                "due_after": r.due_after.isoformat() if r.due_after else None,
                "by": r.reviewed_by,
                "at": r.reviewed_at.isoformat(),
            }
            for r in reviews_of(session, record_id)
        ]
        data = dict(status.data)
        if not may(me(session).role, Permission.OVERSEE_RETENTION):  # held, not why
            data["holds"] = [{"id": hold["id"]} for hold in data.get("holds") or []]
        return jsonify(
            record_id=str(record.id),
            name=record.name_stem,
            status=status.status,
            **data,
            reviews=reviews,
        )


@api.post(f"{PREFIX}/records/<uuid:record_id>/review")
@requires(Permission.MANAGE_RETENTION)
def retention_record_review(record_id: uuid.UUID) -> Any:
    body = json_body()
    years = whole_number(body["years"], "years") if body.get("years") is not None else None
    row = review(
        archive(),
        g.actor,
        record_id,
        opinion=text_field(body, "opinion"),
        outcome=text_field(body, "outcome"),
        until=parse_day(body.get("until"), "until"),
        years=years,
        schedule=body.get("schedule") or None,
        department_opinion=str(body.get("department_opinion") or ""),
    )
    due = row.due_after.isoformat() if row.due_after else None
    return jsonify(outcome=row.outcome, due_on=due), 201


@api.post(f"{PREFIX}/records/<uuid:record_id>/cut-off")
@requires(Permission.MANAGE_RETENTION)
def retention_record_cut_off(record_id: uuid.UUID) -> Any:
    record = cut_off(archive(), g.actor, record_id, parse_day(json_body().get("on"), "on"))
    due = record.due_on.isoformat() if record.due_on else None
    return jsonify(cut_off_on=str(record.cut_off_on), due_on=due)


@api.post(f"{PREFIX}/records/<uuid:record_id>/delete")
@requires(Permission.MANAGE_RETENTION)
def retention_record_delete(record_id: uuid.UUID) -> Any:
    """Ask to delete a record filed in error; a second person confirms (202: nothing is
    destroyed yet)."""
    deletion = request_deletion(archive(), g.actor, record_id, text_field(json_body(), "reason"))
    return jsonify(deletion=deletion.id, record_id=str(record_id), status="pending"), 202


@api.get(f"{PREFIX}/deletions")
@requires(Permission.CONFIRM_DELETIONS)
def retention_deletions() -> Any:
    """Deletions of records filed in error that wait for a second person."""
    with archive().sessions() as session:
        user = me(session)
        return jsonify(
            deletions=[
                {
                    "id": d.id,
                    "record_id": str(d.record_id),
                    "name": d.record.name_stem,
                    "reason": d.reason,
                    "requested_by": d.requested_by,
                    "requested_at": d.requested_at.isoformat(),
                }
                for d in pending_deletions(session)
                if may_confirm(session, user, d.record)
            ]
        )


@api.post(f"{PREFIX}/deletions/<int:deletion_id>/confirm")
@requires(Permission.CONFIRM_DELETIONS)
def retention_deletion_confirm(deletion_id: int) -> Any:
    """The second person confirms: the record is crypto-shredded and tombstoned."""
    reauthenticated()
    keys = confirm_deletion(archive(), g.actor, g.user.id, deletion_id)
    return jsonify(deletion=deletion_id, keys_destroyed=keys)
