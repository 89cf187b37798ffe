"""Records managers' retention pages: schedules, events, holds and the due report with its
chart (the disposition lists are in :mod:`access.web.list_pages`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from access.policy import Permission
from access.web.core import (
    actor,
    arc,
    form,
    record_id,
    requires,
    web,
)
from access.web.forms import about, records_in, row_number, sends_back, sent
from archive.errors import InvalidInput
from archive.models import (
    Department,
    Disposal,
    FilingUnit,
    Hold,
    HoldScope,
    RetentionEvent,
    Trigger,
    VolumePeriod,
)
from archive.vocabulary import PROCESSES, RECORD_TYPES, STAGES
from retention import reports
from retention.holds import (
    list_holds,
    place_hold,
    records_held,
    release_hold,
)
from retention.schedules import (
    current_schedules,
    event_codes,
    export_plan,
    save_schedule,
    schedule_json,
    spec_from_dict,
)
from retention.status import record_occurrence, refresh_dirty, void_occurrence


def _day(raw: str, what: str, field: str = "") -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            _("%(what)s must be a date like 2026-01-31.", what=what), field=field
        ) from None


def _schedules_page() -> Any:
    """The file plan and the schedule form; after a refusal, the schedule as typed."""
    archive = arc()
    refused = sent()
    with archive.sessions() as db:
        rows = [schedule_json(r) for r in current_schedules(db)]
        editing = next((r for r in rows if r["key"] == request.args.get("edit")), None)
        if refused.refused is not None:
            editing = {**refused.refused.values.to_dict(), "events": refused.values("events")}
        return render_template(
            "schedules.html",
            schedules=rows,
            editing=editing or {"trigger": "year_end", "disposal": "review", "events": []},
            triggers=[t.value for t in Trigger],
            disposals=[d.value for d in Disposal],
            filings=[f.value for f in FilingUnit],
            periods=[p.value for p in VolumePeriod],
            default_category=archive.settings.category_code,
            event_types=export_plan(db)["event_types"],
            choices={
                "process": PROCESSES,
                "stage": STAGES,
                "record_type": sorted(
                    {*RECORD_TYPES, *(r["record_type"] for r in rows if r["record_type"])}
                ),
            },
            f=refused,
        )


@web.route("/retention/schedules", methods=["GET", "POST"])
@requires(Permission.MANAGE_RETENTION)
@sends_back(_schedules_page)
def schedules() -> Any:
    """The file plan: one row per schedule; a form to add or change one (versioned)."""
    if request.method != "POST":
        return _schedules_page()
    archive = arc()
    data: dict[str, Any] = {
        "key": form("key") or form("record_type"),  # the record type's code by default
        "name": form("name"),
        "code": form("code"),
        "trigger": form("trigger"),
        "disposal": form("disposal"),
        "process": form("process") or None,
        "stage": form("stage") or None,
        "record_type": form("record_type") or None,
        "events": [e for e in request.form.getlist("events") if e],
        "event_mode": form("event_mode", "any"),
        "basis": form("basis"),
        "category": form("category") or None,
        "filing": form("filing", "item"),
        "volume_by": (form("volume_by") or None) if form("filing") == "volume" else None,
    }
    with archive.transaction() as db:
        _row, changed = save_schedule(db, actor(), spec_from_dict(data, event_codes(db)))
    refresh_dirty(archive)
    flash(
        _("Schedule saved; due dates were recomputed.") if changed else _("Nothing changed."),
        "ok",
    )
    return redirect(url_for("web.schedules"))


def _events_page() -> Any:
    with arc().sessions() as db:
        rows = db.scalars(
            select(RetentionEvent).order_by(RetentionEvent.id.desc()).limit(200)
        ).all()
        return render_template(
            "events.html", events=rows, event_types=export_plan(db)["event_types"]
        )


@web.route("/retention/events", methods=["GET", "POST"])
@requires(Permission.MANAGE_RETENTION)
@sends_back(_events_page, {"record": "record_id"})
def events() -> Any:
    """Events that start clocks (a contract terminated, a project accepted), and voiding."""
    if request.method != "POST":
        return _events_page()
    archive = arc()
    with archive.transaction() as db:
        if form("void"):
            void_occurrence(db, actor(), row_number(form("void")), form("reason"))
        else:
            with about("record_id"):
                raw_record = form("record_id")
                wanted = record_id(raw_record) if raw_record else None
            record_occurrence(
                db,
                actor(),
                form("event_type"),
                _day(form("occurred_on"), _("The date of the event"), "occurred_on"),
                project=form("project") or None,
                record_id=wanted,
                note=form("note"),
            )
    refresh_dirty(archive)
    flash(_("Saved; the clocks it starts were recomputed."), "ok")
    return redirect(url_for("web.events"))


def _holds_page() -> Any:
    with arc().sessions() as db:
        rows = list_holds(db, include_released=request.args.get("all") == "1")
        shown = request.args.get("show", type=int)
        held = records_held(db, shown) if shown else []
        return render_template(
            "holds.html",
            holds=rows,
            shown=db.get(Hold, shown) if shown else None,
            held=held,
            scopes=[s.value for s in HoldScope],
            departments=db.scalars(select(Department).order_by(Department.code)).all(),
            choices={
                "process": PROCESSES,
                "record_type": sorted(
                    {
                        *RECORD_TYPES,
                        *(s.record_type for s in current_schedules(db) if s.record_type),
                    }
                ),
            },
        )


@web.route("/retention/holds", methods=["GET", "POST"])
@requires(Permission.MANAGE_RETENTION)
@sends_back(_holds_page, {"records": "record_ids"})
def holds() -> Any:
    """Legal and audit holds: place one on records, a project or a query; release one."""
    if request.method != "POST":
        return _holds_page()
    archive = arc()
    with archive.transaction() as db:
        if form("release"):
            release_hold(db, actor(), row_number(form("release")), form("reason"))
            flash(_("Hold released."), "ok")
        else:
            try:
                scope = HoldScope(form("scope", "records"))
            except ValueError:
                raise InvalidInput(_("Choose what the hold covers."), field="scope") from None
            query = {
                k: form(k) for k in ("department", "process", "record_type", "title") if form(k)
            }
            _hold, count = place_hold(
                db,
                actor(),
                name=form("name"),
                reason=form("reason"),
                scope=scope,
                record_ids=records_in("record_ids") if scope == HoldScope.RECORDS else [],
                project=form("project") or None,
                query=query if scope == HoldScope.QUERY else None,
            )
            flash(_("Hold placed on %(n)s records.", n=count), "ok")
    return redirect(url_for("web.holds"))


@web.get("/retention/due")
@requires(Permission.OVERSEE_RETENTION)
def due_report() -> Any:
    """Records due in the next months, by month (a bar chart) and by department and class."""
    months = min(max(request.args.get("months", 12, type=int) or 12, 1), 1200)
    with arc().sessions() as db:
        report = reports.due_report(db, months)
        codes = reports.codes_report(db)
    peak = max(report["by_month"].values(), default=0)
    return render_template("due.html", report=report, codes=codes, months=months, peak=peak)
