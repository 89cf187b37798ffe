"""Auditors' pages: the access log and the audit trail with filters and CSV export, the
alerts (bursts, odd hours, refusals, green-channel access never approved, fixity failures),
both hash chains verified; and, with records managers, the quarterly audit samples."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from access import audit_trail as trail
from access.alerts import alerts as find_alerts
from access.audit_sample import SampleError, current_quarter, draw, write_sample
from access.http import audit_trail_csv, status_of
from access.log_export import CSV_COLUMNS, access_log_csv, access_log_filters, record_name
from access.policy import Permission
from access.requests import violations
from access.web.core import actor, arc, form, record_id, requires, select_locale, web
from access.web.forms import FormState, Refused, about, sends_back
from access.web.refusals import explain
from archive.audit import record_event
from archive.checkpoints import public_key_text, verify_all
from archive.db import local_today
from archive.errors import DomainError
from archive.models import AccessEvent, User
from archive.vocabulary import ACTIONS, action_label, family_label

PAGE = 200


@web.get("/audit/access-log")
@requires(Permission.READ_ACCESS_LOG)
def access_log() -> Any:
    """The access log, newest first, filtered by user, record (档号 or id), outcome and
    time; a filter that cannot be read comes back beside its field, as typed."""
    args = request.args.to_dict()
    try:
        if args.get("record"):
            with about("record"):
                args["record"] = str(record_id(args["record"]))
        kind, conditions = access_log_filters(args)
    except DomainError as exc:
        refused = FormState(
            Refused(request.path, MultiDict(request.args), explain(exc), exc.field or "")
        )
        page = render_template(
            "access_log.html", events=[], columns=CSV_COLUMNS, limit=PAGE, f=refused
        )
        return page, status_of(exc)
    kind = "csv" if kind == "csv" else "html"  # this page, or its export
    archive = arc()
    with archive.transaction() as db:
        record_event(db, actor(), "access_log.read", "access_log", kind, dict(request.args))
    query = select(AccessEvent).where(*conditions).order_by(AccessEvent.seq.desc())
    if kind == "csv":
        ordered = query.order_by(None).order_by(AccessEvent.seq)
        return access_log_csv(archive, ordered, select_locale())
    with archive.sessions() as db:
        events = db.scalars(query.limit(PAGE)).all()
        names: dict[str, str] = {}  # record id → 档号 (or name), as people know it
        for event in events:
            record_name(db, names, event.record_id)
        usernames = {e.username for e in events}
        people = {
            username: shown
            for username, shown in db.execute(
                select(User.username, User.display_name).where(User.username.in_(usernames))
            )
        }
        return render_template(
            "access_log.html",
            events=events,
            names=names,
            people=people,
            columns=CSV_COLUMNS,
            limit=PAGE,
            f=FormState(None),
        )


#: What was wrong with a filter of the audit trail, in the page's language.
TRAIL_PROBLEMS: dict[str, Any] = {
    trail.INVALID_ACTION: _l(
        "An action is a code such as record.created, or a family such as record."
    ),
    trail.INVALID_DATE: _l("Enter a date like 2026-01-31."),
    trail.DATES_REVERSED: _l("The last day is before the first."),
    trail.UNKNOWN_RECORD: _l("No record has this reference code or id."),
    trail.INVALID_PAGE: _l("The page must be a whole number."),
}


@web.get("/audit/trail")
@requires(Permission.READ_AUDIT_TRAIL)
def audit_trail() -> Any:
    """Every audit event, newest first, by user, action, record (档号) and Beijing day."""
    kind = request.args.get("format", "html")
    archive = arc()
    with archive.transaction() as db:
        record_event(db, actor(), "audit_trail.read", "audit_trail", kind, dict(request.args))
    wanted, problems = trail.parse_filter(request.args)
    lang = select_locale()
    with archive.sessions() as db:
        where = trail.conditions(db, wanted, problems)
        if not problems and kind == "csv":
            return audit_trail_csv(archive, where, lang)
        page = None if problems else trail.trail_page(db, wanted, where, lang)
        errors = {name: TRAIL_PROBLEMS[code] for name, code in problems.items()}
        html = render_template(
            "audit_trail.html",
            page=page,
            errors=errors,
            actions=[(code, action_label(code, lang)) for code in sorted(ACTIONS)],
            families=[
                (family + ".", family_label(family, lang))
                for family in sorted({code.split(".")[0] for code in ACTIONS if "." in code})
            ],
        )
        return html, 400 if problems else 200


@web.get("/audit/alerts")
@requires(Permission.READ_ACCESS_LOG)
def alerts() -> Any:
    archive = arc()
    with archive.sessions() as db:
        return render_template(
            "alerts.html",
            alerts=find_alerts(db, archive.settings.access),
            violations=violations(db),
        )


@web.get("/audit/chain")
@requires(Permission.READ_ACCESS_LOG)
def chain() -> Any:
    """Walk both chains now (keyed) against the signed checkpoints outside the database."""
    archive = arc()
    with archive.sessions() as db:
        report = verify_all(db, archive.keyring, archive.settings.checkpoint_path)
    return render_template(
        "chain.html",
        reports=[
            ("audit", report.chains["audit_events"]),
            ("access", report.chains["access_events"]),
        ],
        checkpoints=report.checkpoints,
        public_key=public_key_text(archive.keyring),
    )


_REPORT = re.compile(r"^audit-sample-\d{4}Q[1-4](-\d{8}-\d{6})?\.(pdf|csv)$")


def _reports_dir() -> Path:
    return arc().settings.home / "reports"


def _samples_page() -> Any:
    folder = _reports_dir()
    reports = (
        sorted(
            (p.name for p in folder.glob("audit-sample-*") if _REPORT.match(p.name)), reverse=True
        )
        if folder.is_dir()
        else []
    )
    drawn: dict[str, dict[str, str]] = {}  # one row per draw: its PDF and CSV
    for name in reports:
        stem, kind = name.rsplit(".", 1)
        drawn.setdefault(stem, {})[kind] = name
    rows = [(_draw_label(stem), files) for stem, files in drawn.items()]
    return render_template(
        "audit_samples.html", reports=rows, quarter=current_quarter(local_today())
    )


def _draw_label(stem: str) -> str:
    """``audit-sample-2026Q4`` → 2026Q4 (the latest draw); an earlier one with its time."""
    quarter, _sep, when = stem.removeprefix("audit-sample-").partition("-")
    if not when:
        return quarter
    day, clock = when.split("-")
    at = f"{day[:4]}-{day[4:6]}-{day[6:]} {clock[:2]}:{clock[2:4]}"
    label: str = _("%(quarter)s, drawn %(when)s (an earlier draw)", quarter=quarter, when=at)
    return label


@web.route("/audit/samples", methods=["GET", "POST"])
@requires(Permission.READ_AUDIT_SAMPLES)
@sends_back(_samples_page)
def audit_samples() -> Any:
    """The quarterly audit samples drawn so far (beat draws one each quarter), and a form to
    draw one now; a refused draw comes back on the form as typed."""
    if request.method != "POST":
        return _samples_page()
    size = form("size", "20")
    if not size.isdigit() or not 1 <= int(size) <= 200:
        raise SampleError(_("Draw between 1 and 200 records."), field="size")
    sample = draw(arc(), actor(), form("quarter"), int(size))
    write_sample(sample, _reports_dir())
    unchecked = sum(1 for r in sample.records if any(r.unchecked.values()))
    flash(
        _(
            "%(quarter)s: %(n)s records drawn, %(findings)s findings; %(unchecked)s with checks "
            "that could not run (see the report).",
            quarter=sample.quarter,
            n=len(sample.records),
            findings=sample.findings,
            unchecked=unchecked,
        ),
        "error" if sample.findings else ("warn" if unchecked else "ok"),
    )
    return redirect(url_for("web.audit_samples"))


@web.get("/audit/samples/<name>")
@requires(Permission.READ_AUDIT_SAMPLES)
def audit_sample_file(name: str) -> Any:
    if not _REPORT.match(name):
        abort(404)
    return send_from_directory(_reports_dir(), name, as_attachment=name.endswith(".csv"))
