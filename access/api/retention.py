"""Retention over the API (``/api/v1/retention/...``): the file plan, event types, events
that start clocks, the sweep, the review queue and the due reports.

Records managers run retention; auditors and directors read it; department heads record
their own department's events; everyone may read the file plan. Administrators get nothing
here: running retention is not administration. Every change is audited by the service.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from sqlalchemy import select

from access.api.common import (
    api,
    archive,
    error,
    json_body,
    me,
    parse_day,
    parse_record,
    requires,
    text_field,
    token_required,
    whole_number,
)
from access.browse import department_of, knows
from access.policy import Permission, may, may_record_event
from access.requests import AccessError
from archive.errors import ErrorKind
from archive.models import Record, RetentionEvent, RetentionSchedule
from archive.volumes import list_volumes, volume_json
from retention import reports
from retention.appraisal import appraisal_queue
from retention.schedules import (
    add_event_type,
    current_schedules,
    event_codes,
    export_plan,
    load_plan,
    retire_schedule,
    save_schedule,
    schedule_json,
    spec_from_dict,
)
from retention.status import event_json, record_occurrence, refresh_dirty, void_occurrence
from retention.sweep import sweep

PREFIX = "/retention"


def refreshed(payload: dict[str, Any], status: int = 200) -> tuple[Response, int]:
    """Bring changed clocks up to date before answering, so the caller sees them."""
    payload["recomputed"] = refresh_dirty(archive())
    return jsonify(payload), status


# --- the file plan ----------------------------------------------------------------------


@api.get(f"{PREFIX}/schedules")
@token_required
def retention_schedules() -> Any:
    with archive().sessions() as session:
        return jsonify(schedules=[schedule_json(row) for row in current_schedules(session)])


@api.get(f"{PREFIX}/schedules/<key>/history")
@token_required
def retention_schedule_history(key: str) -> Any:
    with archive().sessions() as session:
        rows = session.scalars(
            select(RetentionSchedule)
            .where(RetentionSchedule.key == key)
            .order_by(RetentionSchedule.version)
        ).all()
        if not rows:
            return error(404, f"no schedule {key!r}")
        return jsonify(versions=[schedule_json(row) for row in rows])


@api.put(f"{PREFIX}/schedules/<key>")
@requires(Permission.MANAGE_RETENTION)
def retention_schedule_save(key: str) -> Any:
    body = {**json_body(), "key": key}
    with archive().transaction() as session:
        spec = spec_from_dict(body, event_codes(session))
        row, changed = save_schedule(session, g.actor, spec)
        payload = {"schedule": schedule_json(row), "changed": changed}
    return refreshed(payload)


@api.delete(f"{PREFIX}/schedules/<key>")
@requires(Permission.MANAGE_RETENTION)
def retention_schedule_retire(key: str) -> Any:
    with archive().transaction() as session:
        retire_schedule(session, g.actor, key, text_field(json_body(), "reason"))
    return refreshed({"retired": key})


@api.get(f"{PREFIX}/volumes")
@token_required
def retention_volumes() -> Any:
    """The volumes (案卷) of volume-filed classes, with their 档号, dates and item counts."""
    with archive().sessions() as session:
        rows = list_volumes(session, request.args.get("series") or None)
        return jsonify(volumes=[volume_json(row) for row in rows])


@api.get(f"{PREFIX}/file-plan")
@token_required
def retention_file_plan() -> Any:
    with archive().sessions() as session:
        return jsonify(export_plan(session))


@api.post(f"{PREFIX}/file-plan")
@requires(Permission.MANAGE_RETENTION)
def retention_file_plan_load() -> Any:
    """Load the posted file plan, or the shipped default when the body is empty."""
    body = json_body()
    with archive().transaction() as session:
        report = load_plan(session, g.actor, body or None)
    return refreshed(
        {"created": report.created, "changed": report.changed, "unchanged": report.unchanged}
    )


@api.get(f"{PREFIX}/event-types")
@token_required
def retention_event_types() -> Any:
    with archive().sessions() as session:
        return jsonify(event_types=export_plan(session)["event_types"])


@api.post(f"{PREFIX}/event-types")
@requires(Permission.MANAGE_RETENTION)
def retention_event_type_add() -> Any:
    body = json_body()
    with archive().transaction() as session:
        row = add_event_type(session, g.actor, text_field(body, "code"), text_field(body, "label"))
        return jsonify(code=row.code, label=row.label), 201


# --- events -----------------------------------------------------------------------------


@api.post(f"{PREFIX}/events")
@requires(Permission.RECORD_EVENTS)
def retention_event_record() -> Any:
    body = json_body()
    occurred = parse_day(body.get("occurred_on"), "occurred_on")
    if occurred is None:
        return error(400, "occurred_on is required")
    given = body.get("record_id")
    record_id = parse_record(given, "record_id", knowable=True) if given else None
    with archive().transaction() as session:
        person = me(session)
        if record_id is not None and not may(person.role, Permission.MANAGE_RETENTION):
            record = session.get(Record, record_id)
            if record is None or not knows(session, person)(record):  # as if it did not exist
                raise AccessError("no such record", ErrorKind.NOT_FOUND)
        department = department_of(session, body.get("project"), record_id)
        if not may_record_event(person, department):
            raise AccessError("department heads record events of their own department only")
        row = record_occurrence(
            session,
            g.actor,
            text_field(body, "event_type"),
            occurred,
            project=body.get("project") or None,
            record_id=record_id,
            note=text_field(body, "note"),
        )
        payload = {"event": event_json(row)}
    return refreshed(payload, 201)


@api.get(f"{PREFIX}/events")
@requires(Permission.OVERSEE_RETENTION)
def retention_events() -> Any:
    with archive().sessions() as session:
        rows = session.scalars(
            select(RetentionEvent).order_by(RetentionEvent.id.desc()).limit(500)
        ).all()
        return jsonify(events=[event_json(row) for row in rows])


@api.post(f"{PREFIX}/events/<int:event_id>/void")
@requires(Permission.MANAGE_RETENTION)
def retention_event_void(event_id: int) -> Any:
    with archive().transaction() as session:
        row = void_occurrence(session, g.actor, event_id, text_field(json_body(), "reason"))
        payload = {"event": event_json(row)}
    return refreshed(payload)


# --- sweep, reports ---------------------------------------------------------------------


@api.post(f"{PREFIX}/sweep")
@requires(Permission.MANAGE_RETENTION)
def retention_sweep() -> Any:
    report = sweep(archive(), g.actor)
    return jsonify(
        refreshed=report.refreshed,
        proposed=report.proposed,
        lists=report.lists,
        to_review=report.to_review,
        held=report.held,
        unnumbered=report.unnumbered,
    )


@api.get(f"{PREFIX}/review-queue")
@requires(Permission.MANAGE_RETENTION)
def retention_review_queue() -> Any:
    """The appraisal queue: each record with why it is due (schedule, basis, counted from,
    kept until, eligible from)."""
    with archive().sessions() as session:
        return jsonify(records=[waiting.as_dict() for waiting in appraisal_queue(session)])


@api.get(f"{PREFIX}/reports/due")
@requires(Permission.OVERSEE_RETENTION)
def retention_due_report() -> Any:
    months = whole_number(request.args.get("months", "12"), "months")
    if not 0 <= months <= 600:
        return error(400, "months must be 0-600")
    with archive().sessions() as session:
        return jsonify(reports.due_report(session, months))


@api.get(f"{PREFIX}/reports/codes")
@requires(Permission.OVERSEE_RETENTION)
def retention_codes_report() -> Any:
    with archive().sessions() as session:
        return jsonify(reports.codes_report(session))
