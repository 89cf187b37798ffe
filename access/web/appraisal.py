"""The appraisal queue (鉴定) for records managers: each due record that asks for a review,
why it is due, and a form to decide it with the department's opinion. A refused decision
comes back on the record's own form with what was typed."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from access.http import status_of
from access.policy import Permission
from access.web.core import actor, arc, form, requires, web
from access.web.labels import label
from access.web.refusals import explain
from archive.errors import DomainError, InvalidInput
from archive.models import DispositionItem, DispositionList, ListStatus
from retention.appraisal import appraisal_queue
from retention.review import OUTCOMES, review
from retention.schedules import current_schedules


def _decide(record_id: uuid.UUID) -> str:
    """Carry out the submitted decision; returns what it did, in words (and the list a
    record was put on)."""
    until_raw, years_raw = form("until"), form("years")
    try:
        until = date.fromisoformat(until_raw) if until_raw else None
    except ValueError:
        raise InvalidInput(_("Keep until must be a date like 2036-12-31.")) from None
    if years_raw and not years_raw.isdigit():
        raise InvalidInput(_("Years must be a whole number."))
    row = review(
        arc(),
        actor(),
        record_id,
        opinion=form("opinion"),
        department_opinion=form("department_opinion"),
        outcome=form("outcome"),
        until=until,
        years=int(years_raw) if years_raw else None,
        schedule=form("schedule") or None,
    )
    if row.outcome in ("destroy", "transfer"):
        with arc().sessions() as db:
            number = db.scalar(
                select(DispositionList.number)
                .join(DispositionItem)
                .where(DispositionItem.record_id == record_id)
                .where(DispositionList.status == ListStatus.DRAFT)
            )
        if number:
            listed: str = _("%(o)s: put on the draft list %(n)s", o=label(row.outcome), n=number)
            return listed
    return label(row.outcome)


@web.route("/retention/appraisal", methods=["GET", "POST"])
@requires(Permission.MANAGE_RETENTION)
def appraisal() -> Any:
    """The queue, oldest due first; POST decides one record."""
    failed: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        raw_id = form("record_id")
        try:
            record_id = uuid.UUID(raw_id)
        except ValueError:
            record_id = None
        if record_id is not None:
            try:
                outcome = _decide(record_id)
            except DomainError as exc:
                failed = {**request.form.to_dict(), "message": explain(exc)}
                status = status_of(exc)
            else:
                flash(_("Appraisal recorded: %(o)s.", o=outcome), "ok")
                return redirect(url_for("web.appraisal"))
        else:
            failed, status = {"record_id": raw_id, "message": _("Choose a record.")}, 400
    archive = arc()
    with archive.sessions() as db:
        waiting = appraisal_queue(db)
        schedules = [(s.key, s.name, s.code) for s in current_schedules(db)]
    return (
        render_template(
            "appraisal.html",
            waiting=waiting,
            schedules=schedules,
            outcomes=OUTCOMES,
            failed=failed,
        ),
        status,
    )
