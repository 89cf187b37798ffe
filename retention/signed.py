"""What signers sign, and whether a list is still that: the digest of its frozen items and
opinion, recomputed rather than trusted, checked against the keyed audit trail (which a
database writer cannot add to unseen) and against the records' versions as they stand."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from archive.audit import authentic
from archive.models import AuditEvent, DispositionList, Version


def content_digest(lst: DispositionList) -> str:
    """SHA-256 of what is signed: the items as frozen, the opinion, and this submission."""
    body = {
        "number": lst.number,
        "action": lst.action.value,
        "opinion": lst.opinion,
        "submitted_at": lst.submitted_at.isoformat() if lst.submitted_at else None,
        "items": [item.snapshot for item in lst.items],
    }
    if lst.receiver:  # a transfer's signers approve where it goes, too
        body["receiver"] = lst.receiver
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def still_as_signed(lst: DispositionList) -> bool:
    """Whether the list is what its signers signed: its digest recomputed from the items and
    opinion as they stand, each item the record its frozen description names with the
    versions it names, and the submission and every signature on that digest in the keyed
    audit trail. A row added, dropped or edited in the database since the submission makes
    it false, and so does a list re-frozen there (digest recomputed, signatures inserted)
    without the archive."""
    if lst.digest is None or content_digest(lst) != lst.digest:
        return False
    if not all((item.snapshot or {}).get("record_id") == str(item.record_id) for item in lst.items):
        return False
    session = object_session(lst)
    return session is not None and _versions_as_signed(session, lst) and _in_the_trail(session, lst)


def _versions_as_signed(session: Session, lst: DispositionList) -> bool:
    """Each record not yet disposed of has the versions its frozen description lists: one
    added since (through the archive or the database) was never signed for."""
    pending = {item.record_id: item.snapshot or {} for item in lst.items if item.outcome is None}
    if not pending:
        return True
    now: dict[object, set[str]] = {record_id: set() for record_id in pending}
    for record_id, name in session.execute(
        select(Version.record_id, Version.name).where(Version.record_id.in_(list(pending)))
    ):
        now[record_id].add(name)
    return all(
        now[record_id] == {v.get("name") for v in snapshot.get("versions", [])}
        for record_id, snapshot in pending.items()
    )


def _in_the_trail(session: Session, lst: DispositionList) -> bool:
    """The last submission the trail holds froze the list on its digest, and each signature
    counted on it was given through the archive (a keyed ``disposition.signed`` event of the
    same person, role, department and digest)."""
    events = [
        event
        for event in session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.object_type == "disposition_list",
                AuditEvent.object_id == lst.number,
                AuditEvent.action.in_(("disposition.submitted", "disposition.signed")),
            )
            .order_by(AuditEvent.seq)
        )
        if authentic(session, event)
    ]
    submitted = [e.details or {} for e in events if e.action == "disposition.submitted"]
    if not submitted or submitted[-1].get("digest") != lst.digest:
        return False
    given = {
        (
            (e.details or {}).get("user_id", e.actor_id),
            (e.details or {}).get("role"),
            (e.details or {}).get("department_id"),
            (e.details or {}).get("digest"),
        )
        for e in events
        if e.action == "disposition.signed"
    }
    return all(
        (s.user_id, s.role.value, s.department_id, s.digest) in given
        for s in lst.signatures
        if s.digest == lst.digest
    )
