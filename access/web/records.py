"""Everyone's pages: search, the record page, asking for access, my requests and grants,
and the reader (the gated content route, framed in a page with the allowed actions)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from access.browse import (
    SearchParams,
    allowed_scopes,
    classification_for,
    knows,
    open_record,
    parse_search,
    refuse_view,
    search_as,
    versions_of,
)
from access.bulk import MAX_SELECTED, active_holds, draft_lists
from access.describe import describe_record, fixed
from access.grants import grants_of, standing_on
from access.http import content_response, read_content_for
from access.policy import Permission, may, route, sees_digests, within_clearance
from access.reader import Refused, shown_paged
from access.requests import AccessError, mine, refusal_reasons, submit, withdraw
from access.web.core import (
    actor,
    arc,
    client,
    error_page,
    form,
    me,
    requires,
    select_locale,
    user,
    web,
)
from access.web.forms import sends_back
from access.web.picker import record_actions
from access.web.refusals import explain
from archive.description import FIELDS as DESCRIPTION
from archive.errors import InvalidInput
from archive.models import DispositionList, Record, RequestStatus, Scope, Tombstone, User, Version
from archive.vocabulary_reasons import reason_text
from archive.volumes import volume_of
from retention.status import standing
from search.index import FACETS, FILTERS, Results


@web.get("/search")
@requires(Permission.SEARCH)
def search() -> Any:
    """Full-text and metadata search: Chinese and English, facets, filters, paging. Before
    any words: every record the person may know of, newest first. The results can be ticked
    and acted on together (:mod:`access.web.bulk`)."""
    return search_page(request.args)


def search_page(
    args: MultiDict[str, str],
    kept: MultiDict[str, str] | None = None,
    problem: str = "",
    problems: dict[str, str] | None = None,
) -> Any:
    """The search page for the query ``args``; ``kept``, ``problem`` and ``problems``: the
    selection form as it was sent, why it was refused and what is wrong with each field
    (the ticks and the input are kept)."""
    kept = kept or MultiDict()
    archive = arc()
    refused: InvalidInput | None = None
    try:
        params = parse_search(args)
        if params.filed_from and params.filed_to and params.filed_from > params.filed_to:
            flash(_("The first filing date is after the last: no record can match."), "error")
        results = search_as(archive, user().id, client(), params)
    except InvalidInput as exc:  # the page again, the words as typed, the reason beside them
        refused = exc
        params = SearchParams(q=args.get("q", ""))
        results = Results(total=0, hits=[])
    with archive.sessions() as db:
        person = me(db)
        managing = may(person.role, Permission.MANAGE_RETENTION)
        query = urlencode(list(args.items(multi=True)))
        standing = standing_on(db, person, [uuid.UUID(str(h.record_id)) for h in results.hits])
        page = render_template(
            "search.html",
            standing=standing,
            refused=explain(refused) if refused else "",
            refused_field=(refused.field or "q") if refused else "",
            params=params,
            results=results,
            args=args,
            here=url_for("web.search") + (f"?{query}" if query else ""),
            kept=kept,
            bulk_problems=problems or {},
            ticked=set(kept.getlist("record")),
            problem=problem,
            facets=FACETS,
            searched=any(args.get(k) for k in ("q", *FILTERS, "from", "to")),
            managing=managing,
            holds=active_holds(db) if managing else [],
            lists=draft_lists(db) if managing else [],
            scopes=[s.value for s in Scope],
            max_days=archive.settings.access.max_days,
            max_selected=MAX_SELECTED,
        )
    return (page, 400) if refused else page


@web.get("/records/<uuid:record_id>")
@requires(Permission.SEARCH)
def record(record_id: uuid.UUID) -> Any:
    """Metadata, class and why, versions with their names, 档号, retention, holds; what the
    person may do with it, or the form to ask."""
    return _record_page(record_id)


def _record_page(record_id: uuid.UUID) -> Any:
    """The record page (and the forms on it, sent back with their input when refused)."""
    archive = arc()
    with archive.sessions() as db:
        person = me(db)
        found = open_record(archive, db, person, client(), record_id)
        if found is None:
            return error_page(404, _("No such record, or it is not yours to see."))
        allowed = allowed_scopes(db, person, found)
        approver, _department = route(found)
        asked = [r for r in mine(db, person) if r.record_id == found.id]
        page = render_template(
            "record.html",
            record=found,
            versions=versions_of(db, found.id),
            allowed=allowed,
            digests=sees_digests(person, bool(allowed)),
            sees_holds=may(person.role, Permission.OVERSEE_RETENTION),  # a hold's why
            standing=standing(db, archive.settings.retention, found),
            volume=volume_of(db, found),
            requests=asked,
            pending=[r.scope.value for r in asked if r.status == RequestStatus.PENDING],
            approver=approver.value,
            scopes=[s.value for s in Scope],
            beyond_clearance=_beyond_clearance(person, found),
            may_describe=may(person.role, Permission.DESCRIBE_RECORDS) and not fixed(found),
            description={f: getattr(found, f) or "" for f in DESCRIPTION},
            actions=record_actions(person, found, allowed),
            why=classification_for(person, found, bool(allowed)),
            max_days=archive.settings.access.max_days,
            tombstone=(tombstone := db.get(Tombstone, found.id)),
            gone_list=_list_number(db, tombstone),
        )
        return page


def _list_number(db: Session, tombstone: Tombstone | None) -> str:
    """The number of the list that destroyed the record (a deletion has none)."""
    if tombstone is None or tombstone.list_id is None:
        return ""
    lst = db.get(DispositionList, tombstone.list_id)
    return lst.number if lst is not None else ""


def _beyond_clearance(person: User, found: Record) -> str:
    """Why no request of ``person``'s can open ``found`` (above their clearance), or ""."""
    if within_clearance(person, found):
        return ""
    return explain(
        AccessError(
            "above clearance",
            code="above_clearance",
            params={"level": found.sensitivity.value, "clearance": person.clearance.value},
        )
    )


@web.post("/records/<uuid:record_id>/description")
@requires(Permission.DESCRIBE_RECORDS)
@sends_back(_record_page)
def describe(record_id: uuid.UUID) -> Any:
    """A records manager corrects 责任者, 文号, 备注 (audited with before and after). Bad
    input comes back on the record page, as typed, the reason beside its field."""
    entered = {name: request.form.get(name, "") for name in DESCRIPTION}
    changed = describe_record(arc(), user().id, actor(), record_id, dict(entered))
    flash(_("Description saved.") if changed else _("Nothing changed."), "ok")
    return redirect(url_for("web.record", record_id=record_id))


@web.post("/records/<uuid:record_id>/request")
@requires(Permission.SEARCH)
@sends_back(_record_page)
def request_access(record_id: uuid.UUID) -> Any:
    """Ask for access; a refusal comes back on the record page with the request as typed."""
    try:
        days = int(form("days", "7"))
    except ValueError:
        raise InvalidInput(_("The period must be a whole number of days."), field="days") from None
    archive = arc()
    with archive.transaction() as db:
        submit(
            db,
            archive.settings.access,
            me(db),
            actor(),
            record_id,
            form("purpose"),
            form("scope"),
            days,
            form("recipient"),
        )
    flash(_("Your request was sent. You will find it under My requests."), "ok")
    return redirect(url_for("web.record", record_id=record_id))


@web.post("/requests/<uuid:request_id>/withdraw")
@requires(Permission.SEARCH)
def withdraw_request(request_id: uuid.UUID) -> Any:
    """Take back one's own request while it waits (nobody decides it after)."""
    with arc().transaction() as db:
        withdraw(db, me(db), actor(), request_id)
    flash(_("Your request is withdrawn."), "ok")
    return redirect(url_for("web.my_requests"))


@web.get("/requests")
@requires(Permission.SEARCH)
def my_requests() -> Any:
    with arc().sessions() as db:
        person = me(db)
        requests = mine(db, person)
        grants = grants_of(db, person)
        may_know_it = knows(db, person)  # a record raised above them since is named no more
        known = {r.record_id for r in requests if may_know_it(r.record)} | {
            g.record_id for g in grants if g.record is not None and may_know_it(g.record)
        }
        return render_template(
            "my_requests.html",
            requests=requests,
            refused_because=refusal_reasons(db, requests),
            grants=grants,
            known=known,
            now=datetime.now(UTC),
        )


@web.get("/reader/<uuid:version_id>")
@requires(Permission.SEARCH)
def reader(version_id: uuid.UUID) -> Any:
    """The reader page: the stamped PDF framed from the gated route, and the actions the
    grant allows. The frame's request is the one that is decided and logged."""
    with arc().sessions() as db:
        version = db.get(Version, version_id)
        person = me(db)
        # An unknown id is looked up and logged like a forbidden one: the same answer, the
        # same wait for the log's lock, the same line.
        record_id = version.record_id if version is not None else None
        found = open_record(arc(), db, person, client(), record_id)
        if found is None or version is None:
            return error_page(404, _("No such version."))
        allowed = allowed_scopes(db, person, found)
        if Scope.VIEW.value not in allowed:
            why = refuse_view(arc(), db, person, client(), found, version.id)
            ask_at = url_for("web.record", record_id=found.id) + "#ask"
            return error_page(403, reason_text(why, select_locale()), ask_at)
        return render_template(
            "reader.html",
            version=version,
            record=found,
            allowed=allowed,
            paged=shown_paged(db, version),
        )


@web.get("/versions/<uuid:version_id>/content")
@requires(Permission.SEARCH)
def version_content(version_id: uuid.UUID) -> Any:
    """The web side of the gated reader: the same decision, log and stamp as the API."""
    outcome = read_content_for(user(), version_id)
    if isinstance(outcome, Refused):
        said = reason_text(outcome.reason or outcome.message, select_locale())
        ask_at = None
        if outcome.record_id is not None:
            ask_at = url_for("web.record", record_id=outcome.record_id) + "#ask"
        return error_page(outcome.status, said, ask_at)
    response = content_response(outcome)
    if outcome.inline:
        # Framed by our own reader page only.
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    return response
