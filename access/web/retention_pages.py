"""Records managers' retention pages: schedules, events, holds, disposition lists with
signing, and the due report with its chart. Department heads and directors reach the lists
they sign; the services decide who may sign what."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from access.browse import visible_list, visible_lists
from access.http import certificate_response
from access.list_json import list_json
from access.policy import ListStep, Permission, list_steps, may
from access.requests import AccessError
from access.web.core import (
    actor,
    arc,
    form,
    me,
    reauthenticate,
    record_id,
    record_ids,
    requires,
    user,
    web,
)
from access.web.forms import about, records_in, row_number, sends_back, sent
from archive.core import Archive
from archive.errors import ErrorKind, InvalidInput
from archive.models import (
    Department,
    Disposal,
    DispositionList,
    FilingUnit,
    Hold,
    HoldScope,
    ListStatus,
    RetentionEvent,
    SignerRole,
    Trigger,
    User,
    VolumePeriod,
)
from archive.vocabulary import PROCESSES, RECORD_TYPES, STAGES
from ingest.package import check_transfer_folder
from retention import disposition, reports
from retention.execution import execute
from retention.holds import (
    holds_on,
    list_holds,
    place_hold,
    records_held,
    refusals_audited,
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
from retention.sweep import sweep
from retention.witness import open_witness_slots


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


def _visible_list(db: Session, person: User, list_id: int, lock: bool = False) -> DispositionList:
    """The list, if ``person`` may see it; the refusal in the page's language."""
    try:
        return visible_list(db, person, list_id, lock=lock)
    except AccessError:
        raise AccessError(_("No such list."), ErrorKind.NOT_FOUND) from None


def _lists_page() -> Any:
    archive = arc()
    with archive.sessions() as db:
        person = me(db)
        rows = visible_lists(db, person)
        return render_template(
            "lists.html",
            lists=rows,
            may_prepare=may(person.role, Permission.MANAGE_RETENTION),
            to_sign={
                lst.id
                for lst in rows
                if disposition.open_slots_for(archive.settings.retention, lst, person)
            },
            fully_signed={
                lst.id
                for lst in rows
                if lst.status == ListStatus.SIGNING
                and not disposition.missing_slots(archive.settings.retention, lst)
            },
        )


@web.route("/retention/lists", methods=["GET", "POST"])
@requires(Permission.SEE_DISPOSITION_LISTS)
@sends_back(_lists_page, {"records": "record_ids"})
def lists() -> Any:
    """Disposition lists (销毁清册 / 移交清册); records managers create them or run the sweep.
    A refused new list comes back on its form, as typed; nothing is created."""
    archive = arc()
    if request.method != "POST":
        return _lists_page()
    if not may(user().role, Permission.MANAGE_RETENTION):
        raise AccessError(_("Only records managers prepare lists."))
    if form("sweep"):
        report = sweep(archive, actor())
        flash(
            _(
                "Sweep done: %(n)s records proposed on %(l)s lists; %(r)s wait for "
                "appraisal; %(h)s are due but held.",
                n=sum(report.proposed.values()),
                l=len(report.lists),
                r=report.to_review,
                h=report.held,
            ),
            "ok",
        )
        return redirect(url_for("web.lists"))
    try:
        action = Disposal(form("action", "destroy"))
    except ValueError:
        raise InvalidInput(_("Choose destroy or transfer."), field="action") from None
    with refusals_audited(archive, actor()), archive.transaction() as db:
        lst = disposition.create_list(
            db,
            actor(),
            action,
            records_in("record_ids"),
            form("opinion"),
            receiver=form("receiver"),
        )
        list_id = lst.id
    return redirect(url_for("web.disposition_list", list_id=list_id))


@web.get("/retention/lists/<int:list_id>")
@requires(Permission.SEE_DISPOSITION_LISTS)
def disposition_list(list_id: int) -> Any:
    archive = arc()
    with archive.sessions() as db:
        person = me(db)
        lst = _visible_list(db, person, list_id)
        settings = archive.settings.retention
        return render_template(
            "list.html",
            lst=lst,
            data=list_json(lst, settings),
            mine=disposition.open_slots_for(settings, lst, person),
            missing=disposition.missing_slots(settings, lst),
            steps={step.value for step in list_steps(settings, person, lst)},
            held=_held(db, lst),
            witnesses_wanted=open_witness_slots(db, settings, lst)
            if lst.status == ListStatus.EXECUTED and lst.closed_at is None
            else [],
        )


def _held(db: Session, lst: DispositionList) -> dict[str, str]:
    """The records of a list not yet disposed of that a hold covers now: they will be kept
    when it is carried out, and the pages say so before anyone signs or executes."""
    held = {}
    for item in lst.items:
        if item.outcome is None:
            holds = holds_on(db, item.record_id)
            if holds:
                held[str(item.record_id)] = "、".join(f"#{h.id} {h.name}" for h in holds)
    return held


def _step_page(list_id: int, step: str) -> Any:
    """Where a refused step comes back: execution to its confirmation, the rest to the list."""
    return confirm_execute(list_id) if step == "execute" else disposition_list(list_id)


@web.get("/retention/lists/<int:list_id>/execute")
@requires(Permission.SEE_DISPOSITION_LISTS)
def confirm_execute(list_id: int) -> Any:
    """Before executing: what will happen (which list, how many records, for a destruction
    that their keys are destroyed and the content is gone for good), and the password."""
    archive = arc()
    with archive.sessions() as db:
        person = me(db)
        lst = _visible_list(db, person, list_id)
        settings = archive.settings.retention
        if ListStep.EXECUTE not in list_steps(settings, person, lst):
            raise AccessError(_("Only records managers execute a list."))
        return render_template(
            "execute.html",
            lst=lst,
            data=list_json(lst, settings),
            missing=disposition.missing_slots(settings, lst),
            held=_held(db, lst),
        )


@web.post(
    "/retention/lists/<int:list_id>/<any(edit, submit, sign, 'send-back', cancel, execute):step>"
)
@requires(Permission.SEE_DISPOSITION_LISTS)
@sends_back(_step_page)
def list_step(list_id: int, step: str) -> Any:
    """A step on a list; a refusal (a wrong password too) comes back on its form as typed."""
    archive = arc()
    if step in ("sign", "execute"):  # irreversible: the password again
        reauthenticate()
    if step == "execute":
        with archive.sessions() as db:
            person = me(db)
            allowed = ListStep.EXECUTE in list_steps(
                archive.settings.retention, person, _visible_list(db, person, list_id)
            )
        if not allowed:
            raise AccessError(_("Only records managers execute a list."))
        result = execute(archive, actor(), list_id, check_transfer_folder)
        flash(
            _(
                "Executed: %(done)s done, %(skipped)s skipped.",
                done=result.done,
                skipped=len(result.skipped),
            ),
            "ok",
        )
        return redirect(url_for("web.disposition_list", list_id=list_id))
    _change_list(archive, list_id, step)
    return redirect(url_for("web.disposition_list", list_id=list_id))


def _change_list(archive: Archive, list_id: int, step: str) -> None:
    with refusals_audited(archive, actor()), archive.transaction() as db:
        person = me(db)
        lst = _visible_list(db, person, list_id, lock=True)
        if ListStep(step) not in list_steps(archive.settings.retention, person, lst):
            raise AccessError(_refusal(ListStep(step)))
        if step == "sign":
            role = SignerRole(form("role")) if form("role") else None
            disposition.sign(
                db, actor(), archive.settings.retention, lst, person, role, form("opinion")
            )
            flash(_("Signed."), "ok")
        elif step == "send-back":
            disposition.send_back(db, actor(), lst, form("reason"))
        elif step == "edit":
            if form("opinion"):
                disposition.set_opinion(db, actor(), lst, form("opinion"))
            if form("receiver"):
                disposition.set_receiver(db, actor(), lst, form("receiver"))
            if form("add"):
                with about("add"):
                    disposition.add_records(db, actor(), lst, record_ids(form("add")))
            if form("remove"):
                with about("remove"):
                    disposition.remove_records(db, actor(), lst, record_ids(form("remove")))
        elif step == "submit":
            disposition.submit(db, actor(), lst)
        else:
            disposition.cancel(db, actor(), lst, form("reason"))


def _refusal(step: ListStep) -> str:
    if step == ListStep.SEND_BACK:
        refusal: str = _("Only its signers and records managers send a list back.")
    elif step == ListStep.SIGN:
        refusal = _("Only department heads, directors and records managers sign a list.")
    else:
        refusal = _("Only records managers change a list.")
    return refusal


@web.get("/retention/lists/<int:list_id>/certificate.<any(csv, pdf):kind>")
@requires(Permission.SEE_DISPOSITION_LISTS)
def list_certificate(list_id: int, kind: str) -> Any:
    with arc().sessions() as db:
        return certificate_response(_visible_list(db, me(db), list_id), kind)


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
