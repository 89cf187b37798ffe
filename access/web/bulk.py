"""Actions on the records chosen in the search results: ask for access, hold, add to a
disposition list, export. The services (:mod:`access.bulk`) decide and audit each record as
the single action would; this page only words the outcomes."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from access.browse import visible_list
from access.bulk import (
    MAX_SELECTED,
    Outcome,
    TooMany,
    add_many,
    chosen,
    export_rows,
    hold_many,
    known_records,
    request_many,
)
from access.http import table_download
from access.policy import Permission, may
from access.requests import AccessError
from access.web.core import (
    actor,
    arc,
    error_page,
    form,
    me,
    requires,
    safe_next,
    select_locale,
    user,
    web,
)
from access.web.records import search_page
from access.web.refusals import explain
from archive.audit import record_event
from archive.errors import InvalidInput
from archive.models import Record
from archive.vocabulary import english
from retention.errors import RetentionError

#: What each outcome says, in the page's language; ``%(detail)s`` is the outcome's detail.
SAID: dict[str, Any] = {
    "requested": _l("Request sent; it waits for approval."),
    "already_pending": _l("Not sent: you already asked for this and wait for the answer."),
    "already_allowed": _l("Not sent: you may already do this with the record."),
    "above_clearance": _l("Not sent: the record is above your clearance."),
    "record_gone": _l("Not sent: the record was destroyed; its content no longer exists."),
    "unknown": _l("No such record, or it is not yours to see."),
    "held": _l("Now on hold “%(detail)s”."),
    "already_held": _l("Already named by hold “%(detail)s”."),
    "added": _l("Added to list %(detail)s."),
    "already_on_list": _l("Already on list %(detail)s."),
    "held_elsewhere": _l("Refused: on hold (%(detail)s)."),
    "unnumbered": _l("Refused: it has no 档号 yet."),
    "not_active": _l("Refused: it is no longer active."),
    "not_kept": _l("Not held: the record is no longer kept here (destroyed or transferred)."),
    "on_other_list": _l("Refused: it is already on another open list."),
    "not_due": _l("Refused: not due for disposition yet (kept until %(detail)s)."),
}
ACTIONS = ("request", "hold", "list", "csv", "xlsx")
#: The actions only records managers may take (others: 403, before anything is read).
MANAGING = ("hold", "list")


def said(outcome: Outcome) -> str:
    message = str(SAID[outcome.code])
    detail = outcome.detail or "—"
    return message % {"detail": detail} if "%(detail)s" in message else message


@web.post("/search/selected")
@requires(Permission.SEARCH)
def act_on_selected() -> Any:
    """One action on the records ticked in the search results (at most MAX_SELECTED)."""
    action = form("action")
    if action not in ACTIONS:
        return error_page(400, _("Choose what to do with the selected records."))
    if action in MANAGING and not may(user().role, Permission.MANAGE_RETENTION):
        return error_page(403, _l("Your role may not use this page."))
    back = safe_next(form("back"), "/search")
    try:
        ids = chosen(request.form.getlist("record"))
    except TooMany:
        return _refuse(back, _("Select at most %(n)s records at a time.", n=MAX_SELECTED))
    except InvalidInput:
        return _refuse(back, _("Select the records first: tick them in the results."))
    if action in ("csv", "xlsx"):
        return _export(ids, action)
    try:
        outcomes, title = _act(action, ids)
    except (InvalidInput, RetentionError) as exc:
        return _refuse(back, _problem(action), beside_fields(exc))
    done = sum(1 for o in outcomes if o.done)
    known = [o.record_id for o in outcomes if o.name]  # a record named is one they may know
    with arc().sessions() as db:
        titles = {
            i: t for i, t in db.execute(select(Record.id, Record.title).where(Record.id.in_(known)))
        }
    return render_template(
        "bulk_report.html",
        title=title,
        rows=[(o, said(o), titles.get(o.record_id, "")) for o in outcomes],
        done=done,
        refused=len(outcomes) - done,
        back=back,
        asked=action == "request",  # a request sent is not access given: said so
    )


def _act(action: str, ids: list[Any]) -> tuple[list[Outcome], str]:
    archive = arc()
    with archive.transaction() as db:
        person = me(db)
        if action == "request":
            days = int(form("days")) if form("days").isdigit() else 0
            outcomes = request_many(
                db, archive.settings.access, person, actor(), ids, form("purpose"),
                form("scope"), days, form("recipient"),
            )  # fmt: skip
            return outcomes, _("Access requests")
        if action == "hold":
            hold = form("hold")
            hold_id = int(hold) if hold.isdigit() else None
            outcomes = hold_many(db, actor(), ids, hold_id, form("name"), form("reason"))
            return outcomes, _("Holds")
        list_id = int(form("list")) if form("list").isdigit() else 0
        try:
            lst = visible_list(db, person, list_id, lock=True)
        except AccessError:
            raise InvalidInput("no such list") from None
        return add_many(db, actor(), lst, ids), _("Disposition list %(n)s", n=lst.number)


def _problem(action: str) -> str:
    """The refusal of a whole action, in the page's language (nothing was changed)."""
    if action == "request":
        days = arc().settings.access.max_days
        return str(_("Give a purpose, a scope and a period of 1 to %(n)s days.", n=days))
    if action == "hold":
        return str(_("Choose an active hold, or give the new hold a name and a reason."))
    return str(_("Choose a disposition list that is still being prepared (draft)."))


def _refuse(back: str, message: str, fields: dict[str, str] | None = None) -> Any:
    """The search page the selection came from, with the ticks and the input as they were
    sent, the reason above the actions and each problem beside its field: nothing to find
    and tick again."""
    query = urlsplit(back).query
    return search_page(MultiDict(parse_qsl(query)), request.form, message, fields), 400


def beside_fields(exc: Exception) -> dict[str, str]:
    """field → what is wrong with it, in the page's language, for every problem named."""
    found = getattr(exc, "problems", None) or [exc]
    return {p.field: explain(p) for p in found if getattr(p, "field", None)}


def _export(ids: list[Any], kind: str) -> Response:
    """The rows' metadata the person may see (records beyond their view are left out, as the
    search leaves them out); the export itself is audited."""
    lang = select_locale()
    archive = arc()
    with archive.sessions() as db:
        records = known_records(db, me(db), ids)
        rows = list(export_rows(records, lang))
    with archive.transaction() as db:
        record_event(
            db,
            actor(),
            "records.exported",
            "archive",
            kind,
            {"count": len(records), "records": [str(r.id) for r in records]},
        )
    name = "search-results" if english(lang) else "检索结果"
    return table_download(rows, name, kind)
