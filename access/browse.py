"""Searching and opening records, and finding disposition lists, as a person: the lookups,
decisions and log lines the API and the web pages share, so neither can drift from the
other."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.grants import granted_records, grants_of
from access.policy import (
    Permission,
    may,
    may_read,
    may_see_list,
    readable_for,
    visibility_for,
)
from access.requests import AccessError, known_record
from archive.accesslog import ALLOWED, REFUSED, Client, log_access
from archive.core import Archive
from archive.db import utcnow
from archive.errors import ErrorKind, InvalidInput
from archive.models import (
    AccessEvent,
    DispositionList,
    Project,
    Record,
    Scope,
    Sensitivity,
    User,
    Version,
)
from archive.record_rules import may_know
from retention import disposition
from search.index import FILTERS, MAX_RESULT_WINDOW, Hit, QueryError, Results
from search.indexer import open_index, snippet_texts

SORTS = ("relevance", "date")
#: The access log's action for a search snippet shown (a read, counted by the alerts).
SNIPPET = "snippet"
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    page: int = 1
    per_page: int = 20
    sort: str = "relevance"
    filed_from: datetime | None = None
    filed_to: datetime | None = None


def _date(args: Mapping[str, str], name: str) -> datetime | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            f"{name} must be a date like 2026-01-31",
            code="search_date",
            field=name,
            params={"v": raw},
        ) from None
    if name == "to" and len(raw) == 10:
        parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed


def parse_search(args: Mapping[str, str]) -> SearchParams:
    """Query-string arguments to search parameters; anything malformed is a 400."""
    try:
        page = int(args.get("page") or "1")
        per_page = int(args.get("per_page") or "20")
        if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError
    except ValueError:
        raise InvalidInput(
            f"page must be a whole number from 1 and per_page one from 1 to {MAX_PER_PAGE}",
            code="search_paging",
            field="page",
            params={"n": MAX_PER_PAGE},
        ) from None
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        raise InvalidInput("sort must be relevance or date", code="search_sort", field="sort")
    return SearchParams(
        q=args.get("q", ""),
        filters={name: args[name].strip() for name in FILTERS if (args.get(name) or "").strip()},
        page=page,
        per_page=per_page,
        sort=sort,
        filed_from=_date(args, "from"),
        filed_to=_date(args, "to"),
    )


def search_as(arc: Archive, user_id: int, client: Client, params: SearchParams) -> Results:
    """What the user may know exists, the words reaching the text only of what they may
    read; snippets only from what they may read, each one an access-log line (its own
    action, per record, per response). A search that can reach
    restricted records is itself written to the access log.

    The search and its snippets run in a read transaction; only the log lines take the
    write lock, briefly, and they are written before any snippet is returned."""
    with arc.sessions() as session:
        user = session.get_one(User, user_id)
        granted = granted_records(session, user)
        visibility = visibility_for(user, granted)
        grants, now, reasons = grants_of(session, user), utcnow(), {}
        ids = [uuid.UUID(record_id) for record_id in granted]
        opened = session.scalars(select(Record).where(Record.id.in_(ids))).all() if ids else []
        readable = readable_for(user, list(opened))

        def snippets_of(wanted: list[tuple[Hit, int | None]]) -> list[str | None]:
            # Decided as the reader decides, on the records as the database has them now:
            # the index's copy of a department and sensitivity lags a change by a flush.
            ids = {uuid.UUID(hit.record_id) for hit, _ in wanted}
            records = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(ids)))}
            readable: dict[int, tuple[uuid.UUID, int | None]] = {}
            for number, (hit, block) in enumerate(wanted):
                record = records.get(uuid.UUID(hit.record_id))
                decision = may_read(user, record, Scope.VIEW, grants, now) if record else None
                if decision is not None and decision.allowed:
                    reasons[hit.record_id] = decision.reason
                    readable[number] = (uuid.UUID(hit.version_id), block)
            # Only the piece of text each snippet is cut from is decrypted (search.blocks).
            found = snippet_texts(arc, session, list(readable.values()))
            texts = dict(zip(readable, found, strict=True))
            return [texts.get(number) for number in range(len(wanted))]

        try:
            results = open_index(arc).search(
                params.q,
                visibility,
                params.filters,
                page=params.page,
                per_page=params.per_page,
                sort=params.sort,
                filed_from=params.filed_from,
                filed_to=params.filed_to,
                snippets=snippets_of if params.q.strip() else None,  # browsing: no text
                readable=readable,
            )
        except QueryError as exc:
            if params.page * params.per_page > MAX_RESULT_WINDOW:  # paged too deep
                raise InvalidInput(
                    str(exc), code="search_deep", field="page", params={"n": MAX_RESULT_WINDOW}
                ) from None
            raise InvalidInput(str(exc), code="search_words", field="q") from None
    shown = [hit for hit in results.hits if hit.snippet is not None]
    reaches_restricted = Sensitivity.RESTRICTED.value in visibility.everywhere
    if not shown and not reaches_restricted:
        return results

    def log_search(session: Session) -> None:
        line: AccessEvent | None = None  # each line follows the one before: one head lookup
        for hit in shown:  # a snippet shows document text: it is a read, logged as one
            line = log_access(
                session,
                user,
                client,
                SNIPPET,
                ALLOWED,
                record_id=hit.record_id,
                version_id=hit.version_id,
                reason=reasons.get(hit.record_id, ""),
                details=f"q={params.q!r}",
                after=line,
            )
        if reaches_restricted:
            log_access(
                session,
                user,
                client,
                "search",
                ALLOWED,
                details=f"q={params.q!r} "
                + "".join(f"{name}={value} " for name, value in params.filters.items())
                + f"total={results.total}",
                after=line,
            )

    arc.log_writes.run(log_search)  # committed before any snippet is shown
    return results


def open_record(
    arc: Archive, session: Session, user: User, client: Client, record_id: uuid.UUID | None
) -> Record | None:
    """A record's metadata for someone who may know it exists, looked up in ``session`` (a
    read session: a page is built without the write lock); None for one beyond the caller's
    view, answered like an id that does not exist. Every lookup is logged, in a short
    transaction (shared with other readers' lines), committed before this returns, so before
    anything is shown."""
    record: Record | None = None
    if record_id is not None:  # None: a version or the like that does not exist
        with contextlib.suppress(AccessError):
            record = known_record(session, user, record_id)
    _log_lookup(arc, user, client, record_id, known=record is not None)
    return record


def _log_lookup(
    arc: Archive, user: User, client: Client, record_id: uuid.UUID | None, *, known: bool
) -> None:
    """A ``metadata`` line for a look at a record, committed (with other readers' lines)."""
    arc.log_writes.run(
        lambda log: log_access(
            log,
            user,
            client,
            "metadata",
            ALLOWED if known else REFUSED,
            record_id=record_id,
            reason="" if known else "unknown or beyond the caller's view",
        )
    )


def versions_of(session: Session, record_id: uuid.UUID) -> list[Version]:
    return list(
        session.scalars(
            select(Version)
            .where(Version.record_id == record_id)
            .order_by(Version.major, Version.minor)
        )
    )


def allowed_scopes(session: Session, user: User, record: Record) -> set[str]:
    """What ``user`` may do with ``record``'s content now (view, download...): what its
    page offers; the reader decides again on every read."""
    now = utcnow()
    grants = grants_of(session, user, record.id)
    return {s.value for s in Scope if may_read(user, record, s, grants, now).allowed}


def classification_for(user: User, record: Record, reads: bool) -> dict[str, Any]:
    """How ``record`` was classified, as ``user`` may be told. The rules' evidence (the
    keywords and patterns found in its text) goes only to someone who may read the content
    (``reads``) or confirms classes: to anyone else it would tell the text word by word."""
    why = dict(record.classification or {})
    if reads or may(user.role, Permission.MANAGE_CLASSIFICATION):
        return why
    kept: dict[str, Any] = without_evidence(why)  # at any depth: a correction keeps the
    return kept  # rules' earlier finding under "previous"


def without_evidence(value: Any) -> Any:
    """``value`` without the rules' evidence (``because``: the keywords they found in the
    text), at any depth, for whoever may not read the text (the record page, the API, the
    audit trail's readers)."""
    if isinstance(value, dict):
        return {k: without_evidence(v) for k, v in value.items() if k != "because"}
    if isinstance(value, list):
        return [without_evidence(v) for v in value]
    return value


def refuse_view(
    arc: Archive,
    session: Session,
    user: User,
    client: Client,
    record: Record,
    version_id: uuid.UUID,
) -> str:
    """The reader opened by someone who may not view ``record``: the refusal is logged as
    the frame's read would have been (it counts towards the refusals alert), committed
    before the page says why; returns the reason."""
    decision = may_read(user, record, Scope.VIEW, grants_of(session, user, record.id), utcnow())
    arc.log_writes.run(
        lambda log: log_access(
            log,
            user,
            client,
            Scope.VIEW.value,
            REFUSED,
            record_id=record.id,
            version_id=version_id,
            reason=decision.reason,
        )
    )
    return decision.reason


def retention_record_for(session: Session, user: User, record_id: uuid.UUID) -> Record:
    """A record whose retention ``user`` may see: records managers and auditors see every
    record's (metadata, never content); others only records they may know exist."""
    if may(user.role, Permission.SEE_ANY_RETENTION):
        record = session.get(Record, record_id)
        if record is None:
            raise AccessError("no such record", ErrorKind.NOT_FOUND)
        return record
    return known_record(session, user, record_id)


def looked_up_retention(
    arc: Archive, session: Session, user: User, client: Client, record_id: uuid.UUID
) -> Record:
    """:func:`retention_record_for`, logged as the record page is (a ``metadata`` line,
    allowed or refused, committed before anything is answered): who looked at which
    record's retention, including the lookups records managers may make of any record."""
    try:
        record = retention_record_for(session, user, record_id)
    except AccessError:
        _log_lookup(arc, user, client, record_id, known=False)
        raise
    _log_lookup(arc, user, client, record_id, known=True)
    return record


def department_of(session: Session, project: str | None, record_id: uuid.UUID | None) -> int | None:
    """The department a retention event would concern: its record's, else its project's."""
    if record_id:
        record = session.get(Record, record_id)
        return record.department_id if record else None
    row = session.scalar(select(Project).where(Project.name == (project or "")))
    return row.department_id if row else None


def visible_lists(session: Session, user: User) -> list[DispositionList]:
    """The disposition lists ``user`` may see, newest first."""
    rows = session.scalars(select(DispositionList).order_by(DispositionList.id.desc())).all()
    return [lst for lst in rows if may_see_list(user, lst)]


def visible_list(session: Session, user: User, list_id: int, lock: bool = False) -> DispositionList:
    """One list ``user`` may see; 404 for one they may not, like a list that does not exist."""
    lst = disposition.get_list(session, list_id, lock=lock)
    if not may_see_list(user, lst):
        raise AccessError("no such list", ErrorKind.NOT_FOUND)
    return lst


def shown_on_lists(session: Session, user: User) -> Callable[[Record], bool]:
    """Whose titles ``user`` reads on a disposition list and its register: records managers
    and auditors every record's (their retention views show every 档号 and title); a signer
    or a director only the records they may know of, the others by 档号 alone."""
    if may(user.role, Permission.SEE_ANY_RETENTION):
        return lambda _record: True
    return knows(session, user)


def knows(session: Session, user: User) -> Callable[[Record], bool]:
    """Whether ``user`` may know of a record, for pages that list many (registers, the 监销
    page): their grants read once, the rule the record page applies."""
    grants, now = grants_of(session, user), utcnow()
    return lambda record: may_know(user, record, grants, now)
