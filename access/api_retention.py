"""Retention over the API (``/api/v1/retention/...``): the file plan, events, holds, reviews,
the sweep, disposition lists with signing and execution, reports and certificates.

Records managers run retention; auditors and directors read it; department heads and
directors sign lists; everyone may read the file plan. Administrators get nothing here:
running retention is not administration. Every change is audited by the service it calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from flask import Response, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.api import _archive, api, error, token_required
from access.api_access import _body, _int, _user, _uuid
from access.requests import AccessError, known_record
from archive.models import (
    Hold,
    HoldScope,
    Project,
    Record,
    RetentionEvent,
    RetentionSchedule,
    Role,
    User,
)
from retention import reports
from retention.errors import RetentionError
from retention.holds import (
    covered,
    hold_json,
    list_holds,
    place_hold,
    records_held,
    release_hold,
)
from retention.review import cut_off, delete_record, review, reviews_of
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
from retention.status import (
    event_json,
    record_occurrence,
    refresh_dirty,
    standing,
    void_occurrence,
)
from retention.sweep import review_queue, sweep

F = TypeVar("F", bound=Callable[..., Any])
MANAGERS = frozenset({Role.RECORDS_MANAGER})
OVERSEERS = frozenset({Role.RECORDS_MANAGER, Role.AUDITOR, Role.DIRECTOR})
#: Who may record events: records managers, and department heads for their own department.
EVENT_RECORDERS = frozenset({Role.RECORDS_MANAGER, Role.SUPERVISOR, Role.DIRECTOR})
PREFIX = "/retention"


def roles(allowed: frozenset[Role]) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.user.role not in allowed:
                return error(403, f"the {g.user.role.value} role may not do this")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


@api.errorhandler(RetentionError)
def _retention_error(exc: RetentionError) -> tuple[Response, int]:
    return error(exc.status, str(exc))


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return value.strip() if isinstance(value, str) else ""


def _date(value: object, what: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise AccessError(400, f"{what} must be a date YYYY-MM-DD") from None


def _ids(value: object, what: str) -> list[uuid.UUID]:
    if not isinstance(value, list):
        raise AccessError(400, f"{what} must be a list of record ids")
    return [_uuid(item, what) for item in value]


def _refreshed(payload: dict[str, Any], status: int = 200) -> tuple[Response, int]:
    """Bring changed clocks up to date before answering, so the caller sees them."""
    payload["recomputed"] = refresh_dirty(_archive())
    return jsonify(payload), status


# --- the file plan ----------------------------------------------------------------------


@api.get(f"{PREFIX}/schedules")
@token_required
def retention_schedules() -> Any:
    with _archive().sessions() as session:
        return jsonify(schedules=[schedule_json(row) for row in current_schedules(session)])


@api.get(f"{PREFIX}/schedules/<key>/history")
@token_required
def retention_schedule_history(key: str) -> Any:
    with _archive().sessions() as session:
        rows = session.scalars(
            select(RetentionSchedule)
            .where(RetentionSchedule.key == key)
            .order_by(RetentionSchedule.version)
        ).all()
        if not rows:
            return error(404, f"no schedule {key!r}")
        return jsonify(versions=[schedule_json(row) for row in rows])


@api.put(f"{PREFIX}/schedules/<key>")
@token_required
@roles(MANAGERS)
def retention_schedule_save(key: str) -> Any:
    body = {**_body(), "key": key}
    with _archive().transaction() as session:
        spec = spec_from_dict(body, event_codes(session))
        row, changed = save_schedule(session, g.actor, spec)
        payload = {"schedule": schedule_json(row), "changed": changed}
    return _refreshed(payload)


@api.delete(f"{PREFIX}/schedules/<key>")
@token_required
@roles(MANAGERS)
def retention_schedule_retire(key: str) -> Any:
    with _archive().transaction() as session:
        retire_schedule(session, g.actor, key, _text(_body(), "reason"))
    return _refreshed({"retired": key})


@api.get(f"{PREFIX}/file-plan")
@token_required
def retention_file_plan() -> Any:
    with _archive().sessions() as session:
        return jsonify(export_plan(session))


@api.post(f"{PREFIX}/file-plan")
@token_required
@roles(MANAGERS)
def retention_file_plan_load() -> Any:
    """Load the posted file plan, or the shipped default when the body is empty."""
    body = _body()
    with _archive().transaction() as session:
        report = load_plan(session, g.actor, body or None)
    return _refreshed(
        {"created": report.created, "changed": report.changed, "unchanged": report.unchanged}
    )


@api.get(f"{PREFIX}/event-types")
@token_required
def retention_event_types() -> Any:
    with _archive().sessions() as session:
        return jsonify(event_types=export_plan(session)["event_types"])


@api.post(f"{PREFIX}/event-types")
@token_required
@roles(MANAGERS)
def retention_event_type_add() -> Any:
    body = _body()
    with _archive().transaction() as session:
        row = add_event_type(session, g.actor, _text(body, "code"), _text(body, "label"))
        return jsonify(code=row.code, label=row.label), 201


# --- events -----------------------------------------------------------------------------


def _may_record_for(
    session: Session, user: User, project: str | None, record: uuid.UUID | None
) -> None:
    """Heads record events of their own department's projects and records only."""
    if user.role == Role.RECORDS_MANAGER:
        return
    if record:
        target = session.get(Record, record)
        department = target.department_id if target else None
    else:
        row = session.scalar(select(Project).where(Project.name == (project or "")))
        department = row.department_id if row else None
    if department is None or department != user.department_id:
        raise AccessError(403, "department heads record events of their own department only")


@api.post(f"{PREFIX}/events")
@token_required
@roles(EVENT_RECORDERS)
def retention_event_record() -> Any:
    body = _body()
    occurred = _date(body.get("occurred_on"), "occurred_on")
    if occurred is None:
        return error(400, "occurred_on is required")
    record_id = _uuid(body["record_id"], "record_id") if body.get("record_id") else None
    with _archive().transaction() as session:
        _may_record_for(session, _user(session), body.get("project"), record_id)
        row = record_occurrence(
            session,
            g.actor,
            _text(body, "event_type"),
            occurred,
            project=body.get("project") or None,
            record_id=record_id,
            note=_text(body, "note"),
        )
        payload = {"event": event_json(row)}
    return _refreshed(payload, 201)


@api.get(f"{PREFIX}/events")
@token_required
@roles(OVERSEERS)
def retention_events() -> Any:
    with _archive().sessions() as session:
        rows = session.scalars(
            select(RetentionEvent).order_by(RetentionEvent.id.desc()).limit(500)
        ).all()
        return jsonify(events=[event_json(row) for row in rows])


@api.post(f"{PREFIX}/events/<int:event_id>/void")
@token_required
@roles(MANAGERS)
def retention_event_void(event_id: int) -> Any:
    with _archive().transaction() as session:
        row = void_occurrence(session, g.actor, event_id, _text(_body(), "reason"))
        payload = {"event": event_json(row)}
    return _refreshed(payload)


# --- holds ------------------------------------------------------------------------------


@api.get(f"{PREFIX}/holds")
@token_required
@roles(OVERSEERS)
def retention_holds() -> Any:
    everything = request.args.get("all") == "1"
    with _archive().sessions() as session:
        return jsonify(holds=[hold_json(h, n) for h, n in list_holds(session, everything)])


@api.post(f"{PREFIX}/holds")
@token_required
@roles(MANAGERS)
def retention_hold_place() -> Any:
    body = _body()
    try:
        scope = HoldScope(body.get("scope") or "records")
    except ValueError:
        return error(400, "scope must be records, project or query")
    ids = _ids(body.get("record_ids"), "record_ids") if scope == HoldScope.RECORDS else []
    query = body.get("query") if isinstance(body.get("query"), dict) else None
    with _archive().transaction() as session:
        hold, count = place_hold(
            session,
            g.actor,
            name=_text(body, "name"),
            reason=_text(body, "reason"),
            scope=scope,
            record_ids=ids,
            project=body.get("project"),
            query=query,
        )
        return jsonify(hold_json(hold, count)), 201


@api.get(f"{PREFIX}/holds/<int:hold_id>")
@token_required
@roles(OVERSEERS)
def retention_hold(hold_id: int) -> Any:
    with _archive().sessions() as session:
        records = records_held(session, hold_id)  # the first 1000; 404 if no such hold
        hold = session.get(Hold, hold_id)
        assert hold is not None  # noqa: S101 - records_held found it
        return jsonify(
            {
                **hold_json(hold, covered(session, hold)),
                "record_list": [
                    {"id": str(r.id), "name": r.name_stem, "title": r.title} for r in records
                ],
            }
        )


@api.post(f"{PREFIX}/holds/<int:hold_id>/release")
@token_required
@roles(MANAGERS)
def retention_hold_release(hold_id: int) -> Any:
    with _archive().transaction() as session:
        hold = release_hold(session, g.actor, hold_id, _text(_body(), "reason"))
        return jsonify(hold_json(hold))


# --- single records ---------------------------------------------------------------------


def _record_for(session: Session, record_id: uuid.UUID) -> Record:
    """Records managers and auditors see every record's retention (metadata, never
    content); others only records they may know exist."""
    user = _user(session)
    if user.role in (Role.RECORDS_MANAGER, Role.AUDITOR):
        record = session.get(Record, record_id)
        if record is None:
            raise AccessError(404, "no such record")
        return record
    return known_record(session, user, record_id)


@api.get(f"{PREFIX}/records/<uuid:record_id>")
@token_required
def retention_record(record_id: uuid.UUID) -> Any:
    arc = _archive()
    with arc.sessions() as session:
        record = _record_for(session, record_id)
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
        return jsonify(
            record_id=str(record.id),
            name=record.name_stem,
            status=status.status,
            **status.data,
            reviews=reviews,
        )


@api.post(f"{PREFIX}/records/<uuid:record_id>/review")
@token_required
@roles(MANAGERS)
def retention_record_review(record_id: uuid.UUID) -> Any:
    body = _body()
    years = _int(body["years"], "years") if body.get("years") is not None else None
    row = review(
        _archive(),
        g.actor,
        record_id,
        opinion=_text(body, "opinion"),
        outcome=_text(body, "outcome"),
        until=_date(body.get("until"), "until"),
        years=years,
        schedule=body.get("schedule") or None,
    )
    due = row.due_after.isoformat() if row.due_after else None
    return jsonify(outcome=row.outcome, due_on=due), 201


@api.post(f"{PREFIX}/records/<uuid:record_id>/cut-off")
@token_required
@roles(MANAGERS)
def retention_record_cut_off(record_id: uuid.UUID) -> Any:
    record = cut_off(_archive(), g.actor, record_id, _date(_body().get("on"), "on"))
    due = record.due_on.isoformat() if record.due_on else None
    return jsonify(cut_off_on=str(record.cut_off_on), due_on=due)


@api.post(f"{PREFIX}/records/<uuid:record_id>/delete")
@token_required
@roles(MANAGERS)
def retention_record_delete(record_id: uuid.UUID) -> Any:
    keys = delete_record(_archive(), g.actor, record_id, _text(_body(), "reason"))
    return jsonify(deleted=str(record_id), keys_destroyed=keys)


# --- sweep, reports ---------------------------------------------------------------------


@api.post(f"{PREFIX}/sweep")
@token_required
@roles(MANAGERS)
def retention_sweep() -> Any:
    report = sweep(_archive(), g.actor)
    return jsonify(
        refreshed=report.refreshed,
        proposed=report.proposed,
        lists=report.lists,
        to_review=report.to_review,
        held=report.held,
    )


@api.get(f"{PREFIX}/review-queue")
@token_required
@roles(MANAGERS)
def retention_review_queue() -> Any:
    with _archive().sessions() as session:
        return jsonify(
            records=[
                {"id": str(r.id), "name": r.name_stem, "title": r.title, "due_on": str(r.due_on)}
                for r in review_queue(session)
            ]
        )


@api.get(f"{PREFIX}/reports/due")
@token_required
@roles(OVERSEERS)
def retention_due_report() -> Any:
    months = _int(request.args.get("months", "12"), "months")
    if not 0 <= months <= 600:
        return error(400, "months must be 0-600")
    with _archive().sessions() as session:
        return jsonify(reports.due_report(session, months))


@api.get(f"{PREFIX}/reports/codes")
@token_required
@roles(OVERSEERS)
def retention_codes_report() -> Any:
    with _archive().sessions() as session:
        return jsonify(reports.codes_report(session))
