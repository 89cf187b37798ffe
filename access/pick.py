"""The record picker's lookup: a few records, chosen by what people know of them (title,
档号, canonical name 项目名称-日期-版本号, 文号), among those the person may know of.

Metadata only, from the records table: nothing is decrypted and the search index is not
asked, so a keystroke costs one query. The visibility rule is the record page's
(:func:`archive.record_rules.may_know`), written once more as SQL so the limit counts only
visible records, and checked again per row. A purpose widens it only where a role already
sees every record's metadata on its own pages: records managers and auditors on the
retention pages, auditors in the audit trail and the access log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from access.grants import granted_records, grants_of
from access.policy import Permission, may
from access.record_refs import as_uuid
from archive.accesslog import ALLOWED, Client, log_access
from archive.core import Archive
from archive.db import utcnow
from archive.description import doc_number_key
from archive.models import Record, Role, Sensitivity, User, Version
from archive.record_rules import ALL_STAFF, may_know
from archive.roles import STAFF

#: What a purpose lets a role see beyond what it may know of, and which permission it takes.
PURPOSES: dict[str, Permission] = {
    "retention": Permission.SEE_ANY_RETENTION,
    "audit": Permission.READ_AUDIT_TRAIL,
}
LIMIT = 10
MAX_QUERY = 100


@dataclass(frozen=True)
class Pick:
    id: str
    reference_code: str | None
    title: str
    name: str  # the newest version's 项目名称-日期-版本号, or the name stem before any
    date: str  # filed on, YYYY-MM-DD
    doc_number: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference_code": self.reference_code,
            "title": self.title,
            "name": self.name,
            "date": self.date,
            "doc_number": self.doc_number,
            # What a form field takes for it: the 档号 people know, else the id.
            "value": self.reference_code or self.id,
        }


def _knowable(session: Session, user: User) -> ColumnElement[bool]:
    """``may_know`` as a WHERE clause (kept beside it by ``tests/access/test_picker.py``)."""
    if not user.active or user.role not in STAFF:
        return false()
    granted = [uuid.UUID(i) for i in granted_records(session, user)]
    allowed: list[ColumnElement[bool]] = [
        Record.sensitivity.in_([Sensitivity(v) for v in ALL_STAFF]),
    ]
    if granted:
        allowed.append(Record.id.in_(granted))
    if user.department_id is not None:
        allowed.append(
            and_(
                Record.sensitivity == Sensitivity.CONFIDENTIAL,
                Record.department_id == user.department_id,
            )
        )
    if user.role == Role.DIRECTOR:
        allowed.append(Record.sensitivity == Sensitivity.RESTRICTED)
    return or_(*allowed)


def sees_every_record(user: User, purpose: str) -> bool:
    permission = PURPOSES.get(purpose)
    return user.active and permission is not None and may(user.role, permission)


def _matching(q: str) -> ColumnElement[bool]:
    """Title, 档号, name and 文号 containing ``q`` (any case), the 文号 also as folded, and
    a full version name."""
    low = q.lower()
    conditions: list[ColumnElement[bool]] = [
        func.lower(column).contains(low, autoescape=True)
        for column in (Record.title, Record.reference_code, Record.name_stem, Record.doc_number)
    ]
    key = doc_number_key(q)
    if key:
        conditions.append(Record.doc_number_key == key)
    conditions.append(Record.id.in_(select(Version.record_id).where(Version.name == q)))
    as_id = as_uuid(q)
    if as_id is not None:  # a form sent back with an id in it: its chip is named
        conditions.append(Record.id == as_id)
    return or_(*conditions)


def pick(session: Session, user: User, q: str, purpose: str = "") -> list[Pick]:
    """Up to :data:`LIMIT` records matching ``q`` that ``user`` may see for ``purpose``:
    an exact 档号 first, then 档号 and titles that begin with it, then the newest."""
    q = " ".join(q.split())[:MAX_QUERY]
    if not q:
        return []
    every = sees_every_record(user, purpose)
    query = select(Record).where(_matching(q))
    if not every:
        query = query.where(_knowable(session, user))
    low = q.lower()
    rank = case(
        (Record.reference_code == q, 0),
        (func.lower(Record.reference_code).startswith(low, autoescape=True), 1),
        (func.lower(Record.title).startswith(low, autoescape=True), 2),
        else_=3,
    )
    rows = list(
        session.scalars(query.order_by(rank, Record.filed_on.desc(), Record.id).limit(LIMIT))
    )
    if not every:  # the rule itself, once more, on what the query found
        grants, now = grants_of(session, user), utcnow()
        rows = [r for r in rows if may_know(user, r, grants, now)]
    names = _newest_names(session, [r.id for r in rows])
    return [
        Pick(
            id=str(r.id),
            reference_code=r.reference_code,
            title=r.title,
            name=names.get(r.id, r.name_stem),
            date=r.document_date,
            doc_number=r.doc_number,
        )
        for r in rows
    ]


def _newest_names(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(Version.record_id, Version.name)
        .where(Version.record_id.in_(ids))
        .order_by(Version.major, Version.minor)
    )
    return {record_id: name for record_id, name in rows}  # the last is the newest


def pick_as(arc: Archive, user_id: int, client: Client, q: str, purpose: str = "") -> list[Pick]:
    """:func:`pick` for a signed-in person. Like a search that reaches restricted records,
    a pick that shows one is written to the access log (titles of contracts are telling)."""
    with arc.sessions() as session:
        user = session.get_one(User, user_id)
        found = pick(session, user, q, purpose)
        restricted = {
            str(rid)
            for rid in session.scalars(
                select(Record.id).where(
                    Record.id.in_([uuid.UUID(p.id) for p in found]),
                    Record.sensitivity == Sensitivity.RESTRICTED,
                )
            )
        }
    if restricted:
        arc.log_writes.run(
            lambda log: log_access(
                log,
                user,
                client,
                "search",
                ALLOWED,
                details=f"picker q={q!r} restricted={sorted(restricted)}",
            )
        )
    return found
