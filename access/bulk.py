"""Acting on many records at once, as chosen on the search page: ask for access, place or
extend a hold, add to a disposition list, export the rows' metadata.

Each action runs the service the single action runs, record by record, so each is decided
and audited as it would be alone, and each record gets its own outcome (done, or refused
with a reason code the page words). A record the person may not know of is answered as one
that does not exist: by the id they sent, nothing more."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.asking import checked_request
from access.grants import grants_of
from access.http import exported
from access.policy import may_read, within_clearance
from access.requests import submit
from archive.audit import Actor, record_event
from archive.config import AccessSettings
from archive.db import utcnow
from archive.errors import InvalidInput
from archive.models import (
    AccessRequest,
    DispositionList,
    Hold,
    HoldScope,
    ListStatus,
    Record,
    RecordState,
    RequestStatus,
    User,
)
from archive.record_rules import may_know
from archive.vocabulary import english, term
from retention import disposition
from retention.errors import Conflict, Held, NotFound, RetentionError, Unnumbered
from retention.holds import extend_hold, place_hold

#: The most records one action takes (a bigger selection is refused, not cut short).
MAX_SELECTED = 200


class TooMany(InvalidInput):
    """More records than :data:`MAX_SELECTED` were chosen."""


@dataclass(frozen=True)
class Outcome:
    record_id: uuid.UUID
    name: str  # 档号 or canonical name; "" for a record the person may not know of
    done: bool
    code: str  # requested, held, added, unknown, already_pending, already_allowed, ...
    detail: str = ""


def chosen(raw: Iterable[str]) -> list[uuid.UUID]:
    """The record ids a form sent, in order, once each; malformed ones are refused."""
    ids: list[uuid.UUID] = []
    for value in raw:
        try:
            ids.append(uuid.UUID(value.strip()))
        except ValueError:
            raise InvalidInput("a selected record id is malformed") from None
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise InvalidInput("no records were selected")
    if len(ids) > MAX_SELECTED:
        raise TooMany(f"at most {MAX_SELECTED} records at a time")
    return ids


def _name(record: Record) -> str:
    return record.reference_code or record.name_stem


def _unknown(record_id: uuid.UUID) -> Outcome:
    return Outcome(record_id, "", False, "unknown")


def request_many(
    session: Session,
    settings: AccessSettings,
    user: User,
    actor: Actor,
    record_ids: Sequence[uuid.UUID],
    purpose: str,
    scope: str,
    days: int,
    recipient: str = "",
) -> list[Outcome]:
    """One access request per record, the same purpose, scope, period (and recipient) for
    all; none for a record already allowed or already asked for in that scope."""
    wanted = checked_request(settings, purpose, scope, days, recipient).scope  # all problems
    now, grants = utcnow(), grants_of(session, user)
    pending = set(
        session.scalars(
            select(AccessRequest.record_id).where(
                AccessRequest.requester_id == user.id,
                AccessRequest.status == RequestStatus.PENDING,
                AccessRequest.scope == wanted,
            )
        )
    )
    outcomes = []
    for record_id in record_ids:
        record = session.get(Record, record_id)
        if record is None or not may_know(user, record, grants, now):
            outcomes.append(_unknown(record_id))
        elif record.state == RecordState.DISPOSED:  # nothing left to open
            outcomes.append(Outcome(record_id, _name(record), False, "record_gone"))
        elif record_id in pending:
            outcomes.append(Outcome(record_id, _name(record), False, "already_pending"))
        elif may_read(user, record, wanted, grants, now).allowed:
            outcomes.append(Outcome(record_id, _name(record), False, "already_allowed"))
        elif not within_clearance(user, record):
            outcomes.append(Outcome(record_id, _name(record), False, "above_clearance"))
        else:
            submit(session, settings, user, actor, record_id, purpose, scope, days, recipient)
            outcomes.append(Outcome(record_id, _name(record), True, "requested"))
    return outcomes


def hold_many(
    session: Session,
    actor: Actor,
    record_ids: Sequence[uuid.UUID],
    hold_id: int | None,
    name: str = "",
    reason: str = "",
) -> list[Outcome]:
    """A new hold naming the records (``hold_id`` None), or those records added to an active
    hold; a record not in the archive is reported, the others held."""
    records = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(record_ids)))}
    found = [i for i in record_ids if i in records and records[i].state == RecordState.ACTIVE]
    if not found:
        return [_not_holdable(record_id, records) for record_id in record_ids]
    if hold_id is None:
        hold, _count = place_hold(
            session, actor, name=name, reason=reason, scope=HoldScope.RECORDS, record_ids=found
        )
        new = set(found)
    else:
        new = set(extend_hold(session, actor, hold_id, found))
        hold = session.get_one(Hold, hold_id)
    return [
        _not_holdable(record_id, records)
        if record_id not in found
        else Outcome(
            record_id,
            _name(records[record_id]),
            record_id in new,
            "held" if record_id in new else "already_held",
            hold.name,
        )
        for record_id in record_ids
    ]


def _not_holdable(record_id: uuid.UUID, records: dict[uuid.UUID, Record]) -> Outcome:
    """Why a selected record was not held: not in the archive, or no longer kept there."""
    record = records.get(record_id)
    return (
        _unknown(record_id)
        if record is None
        else Outcome(record_id, _name(record), False, "not_kept")
    )


def add_many(
    session: Session, actor: Actor, lst: DispositionList, record_ids: Sequence[uuid.UUID]
) -> list[Outcome]:
    """The records added to a draft list one by one, as the list's page adds them: each
    refusal (not due, held, no 档号, on another list, not active) reported, a hold's
    refusal audited as there."""
    disposition.require(lst, ListStatus.DRAFT)
    present = {item.record_id for item in lst.items}
    outcomes = []
    for record_id in record_ids:
        record = session.get(Record, record_id)
        if record is None:
            outcomes.append(_unknown(record_id))
            continue
        name = _name(record)
        if record_id in present:
            outcomes.append(Outcome(record_id, name, False, "already_on_list", lst.number))
            continue
        try:
            disposition.add_records(session, actor, lst, [record_id])
        except Held as refusal:
            record_event(
                session,
                actor,
                "retention.refused",
                "record",
                record_id,
                {"action": refusal.action, "holds": refusal.holds},
            )
            holds = "、".join(str(h["name"]) for h in refusal.holds)
            outcomes.append(Outcome(record_id, name, False, "held_elsewhere", holds))
        except Unnumbered as refusal:
            outcomes.append(Outcome(record_id, name, False, "unnumbered", refusal.reason))
        except NotFound:
            outcomes.append(_unknown(record_id))
        except Conflict:
            if record.state != RecordState.ACTIVE:
                outcomes.append(Outcome(record_id, name, False, "not_active", record.state.value))
            else:
                outcomes.append(Outcome(record_id, name, False, "on_other_list"))
        except RetentionError:
            due = record.due_on.isoformat() if record.due_on else ""
            outcomes.append(Outcome(record_id, name, False, "not_due", due))
        else:
            outcomes.append(Outcome(record_id, name, True, "added", lst.number))
    return outcomes


def known_records(session: Session, user: User, record_ids: Sequence[uuid.UUID]) -> list[Record]:
    """The chosen records ``user`` may know of, in the order chosen (the others left out, as
    the search leaves them out)."""
    grants, now = grants_of(session, user), utcnow()
    rows = {r.id: r for r in session.scalars(select(Record).where(Record.id.in_(record_ids)))}
    return [rows[i] for i in record_ids if i in rows and may_know(user, rows[i], grants, now)]


#: The export's columns, Chinese and English, in the order of :func:`export_rows`.
EXPORT_HEADINGS = (
    ("档号", "Reference code"),
    ("题名", "Title"),
    ("名称", "Name"),
    ("文号", "Document number"),
    ("责任者", "Author"),
    ("项目", "Project"),
    ("部门", "Department"),
    ("业务流程", "Business process"),
    ("业务阶段", "Stage"),
    ("文件类型", "Record type"),
    ("密级", "Sensitivity"),
    ("状态", "State"),
    ("归档日期", "Filed on"),
    ("入库时间（北京时间）", "Stored at (Beijing time)"),
)


def export_rows(records: Sequence[Record], lang: str | None) -> Iterator[list[object]]:
    """The heading row, then the metadata the search page shows of each record: codes as
    words, times in Beijing time (:func:`access.http.exported`)."""
    yield [pair[1] if english(lang) else pair[0] for pair in EXPORT_HEADINGS]
    for record in records:
        yield [
            record.reference_code or "",
            record.title,
            record.name_stem,
            record.doc_number or "",
            record.author or "",
            record.project.name,
            record.department.name if record.department else "",
            term(record.process, lang),
            term(record.stage, lang),
            term(record.record_type, lang),
            term(record.sensitivity, lang),
            term(record.state, lang),
            record.document_date,
            exported(record.created_at, lang),
        ]


def active_holds(session: Session) -> list[Hold]:
    """The holds a selection can be added to: those not released, newest first."""
    return list(
        session.scalars(select(Hold).where(Hold.released_at.is_(None)).order_by(Hold.id.desc()))
    )


def draft_lists(session: Session) -> list[DispositionList]:
    """The disposition lists records can still be added to, newest first."""
    return list(
        session.scalars(
            select(DispositionList)
            .where(DispositionList.status == ListStatus.DRAFT)
            .order_by(DispositionList.id.desc())
        )
    )
