"""The access workflow: request, route, approve or refuse, escalate, grant, revoke, and the
green channel. Plain functions on a session, shared by the API, the CLI and beat.

Errors are :class:`AccessError` with an HTTP-like status: 404 hides what the caller may not
know exists (another user's request, a record beyond their view), 403 says "known, but not
yours to do", 400 is bad input, 409 a request already decided.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from access.asking import MAX_TEXT, checked_request, required_text
from access.grants import grants_of
from access.policy import (
    Permission,
    may,
    may_decide,
    may_know,
    may_revoke,
    route,
    within_clearance,
)
from archive.audit import Actor, record_event
from archive.config import AccessSettings
from archive.db import utcnow
from archive.errors import DomainError, ErrorKind
from archive.models import (
    AccessDecision,
    AccessRequest,
    Approver,
    Grant,
    Record,
    RecordState,
    RequestStatus,
    Scope,
    User,
)
from archive.vocabulary import beijing


class AccessError(DomainError):
    """The caller may not do this (``FORBIDDEN``), or may not know the thing exists
    (``NOT_FOUND``: the same answer as for a thing that does not exist)."""

    kind = ErrorKind.FORBIDDEN


class DuplicateRequest(DomainError):
    """The person already has a pending request for this record and scope: a second one
    would only be a second item in the approver's inbox."""

    kind = ErrorKind.CONFLICT

    def __init__(self, pending: AccessRequest) -> None:
        super().__init__(
            "a request for this record and scope is already pending",
            code="duplicate_request",
            field="scope",
            params={"when": beijing(pending.created_at)},
        )
        self.asked_at = pending.created_at  # read now: the session is gone when it is shown


def known_record(session: Session, user: User, record_id: uuid.UUID) -> Record:
    """The record, if ``user`` may know it exists; else 404 (whether or not it exists)."""
    record = session.get(Record, record_id)
    if record is None or not may_know(user, record, grants_of(session, user, record_id), utcnow()):
        raise AccessError("no such record", ErrorKind.NOT_FOUND, "no_record", field="record")
    return record


def still_held(record: Record) -> Record:
    """The record, if its content is still in the archive: a destroyed one has nothing
    left to open, so no request or grant is made for it."""
    if record.state == RecordState.DISPOSED:
        raise AccessError(
            f"the record is {record.state.value}: its content is no longer here to open",
            ErrorKind.CONFLICT,
            "record_gone",
            params={"state": record.state.value},
        )
    return record


def submit(
    session: Session,
    settings: AccessSettings,
    user: User,
    actor: Actor,
    record_id: uuid.UUID,
    purpose: str,
    scope: str,
    days: int,
    recipient: str = "",
) -> AccessRequest:
    """File a request; it waits for the record's department head (or a director)."""
    record = still_held(known_record(session, user, record_id))
    if not within_clearance(user, record):  # no approver could grant it: say so now
        raise AccessError(
            f"the record is {record.sensitivity.value}, above your clearance "
            f"({user.clearance.value}): no request can open it",
            code="above_clearance",
            field="record",
            params={"level": record.sensitivity.value, "clearance": user.clearance.value},
        )
    asked = checked_request(settings, purpose, scope, days, recipient)
    wanted = asked.scope
    pending = session.scalar(
        select(AccessRequest).where(
            AccessRequest.requester_id == user.id,
            AccessRequest.record_id == record.id,
            AccessRequest.scope == wanted,
            AccessRequest.status == RequestStatus.PENDING,
        )
    )
    if pending is not None:
        raise DuplicateRequest(pending)
    approver, department_id = route(record)
    request = AccessRequest(
        requester_id=user.id,
        record_id=record.id,
        purpose=asked.purpose,
        scope=wanted,
        recipient=asked.recipient,
        days=days,
        steps=2 if wanted == Scope.EXTERNAL else 1,
        approver=approver,
        approver_department_id=department_id,
        due_at=utcnow() + timedelta(hours=settings.request_hours),
    )
    session.add(request)
    session.flush()
    record_event(
        session,
        actor,
        "access.request",
        "access_request",
        request.id,
        {
            "record": str(record.id),
            "scope": wanted.value,
            "days": days,
            "purpose": asked.purpose,
            **({"recipient": asked.recipient} if asked.recipient else {}),
        },
    )
    return request


def _earlier_approvers(session: Session, request: AccessRequest) -> set[int]:
    return set(
        session.scalars(
            select(AccessDecision.approver_id).where(AccessDecision.request_id == request.id)
        )
    )


def waiting_for(session: Session, user: User) -> list[AccessRequest]:
    """Pending requests ``user`` may decide now."""
    if not may(user.role, Permission.DECIDE_REQUESTS):
        return []
    pending = session.scalars(
        select(AccessRequest)
        .where(AccessRequest.status == RequestStatus.PENDING)
        .order_by(AccessRequest.due_at)
    )
    return [r for r in pending if may_decide(user, r, _earlier_approvers(session, r))]


def mine(session: Session, user: User) -> list[AccessRequest]:
    return list(
        session.scalars(
            select(AccessRequest)
            .where(AccessRequest.requester_id == user.id)
            .order_by(AccessRequest.created_at.desc())
        )
    )


def refusal_reasons(session: Session, requests: list[AccessRequest]) -> dict[uuid.UUID, str]:
    """Why each refused request among ``requests`` was refused, as its approver wrote it:
    the requester is told (the approver was told so when refusing)."""
    refused = [r.id for r in requests if r.status == RequestStatus.DENIED]
    if not refused:
        return {}
    rows = session.execute(
        select(AccessDecision.request_id, AccessDecision.reason).where(
            AccessDecision.request_id.in_(refused), AccessDecision.approved.is_(False)
        )
    )
    return {request_id: reason for request_id, reason in rows}


def visible_request(session: Session, user: User, request_id: uuid.UUID) -> AccessRequest:
    """The request, if ``user`` filed it or may decide it; else 404."""
    request = session.get(AccessRequest, request_id)
    if request is None:
        raise AccessError("no such request", ErrorKind.NOT_FOUND)
    if request.requester_id == user.id:
        return request
    earlier = _earlier_approvers(session, request)
    if user.id in earlier or (
        request.status == RequestStatus.PENDING and may_decide(user, request, earlier)
    ):
        return request
    raise AccessError("no such request", ErrorKind.NOT_FOUND)


def withdraw(session: Session, user: User, actor: Actor, request_id: uuid.UUID) -> AccessRequest:
    """The requester takes back their own request while it waits; anyone else's is not
    found. A green-channel request is not withdrawn: its approval is owed (grant given)."""
    request = session.get(AccessRequest, request_id, with_for_update=True)
    if request is None or request.requester_id != user.id:
        raise AccessError("no such request", ErrorKind.NOT_FOUND)
    if request.status != RequestStatus.PENDING or request.emergency:
        raise AccessError(
            f"the request was already {request.status.value}",
            ErrorKind.CONFLICT,
            "request_decided",
            params={"status": request.status.value},
        )
    request.status, request.decided_at = RequestStatus.WITHDRAWN, utcnow()
    record_event(
        session,
        actor,
        "access.withdrawn",
        "access_request",
        request.id,
        {"record": str(request.record_id), "scope": request.scope.value},
    )
    return request


def decide(
    session: Session,
    settings: AccessSettings,
    user: User,
    actor: Actor,
    request_id: uuid.UUID,
    approve: bool,
    reason: str = "",
) -> AccessRequest:
    """Approve or refuse the step a request waits at; the last approval grants access."""
    request = session.get(AccessRequest, request_id)
    if request is None:
        raise AccessError("no such request", ErrorKind.NOT_FOUND)
    earlier = _earlier_approvers(session, request)
    if request.requester_id == user.id:
        raise AccessError("nobody decides their own request", code="own_access_request")
    if user.id not in earlier and not may_decide(user, request, earlier):
        raise AccessError("no such request", ErrorKind.NOT_FOUND)  # not theirs to know of
    if request.status != RequestStatus.PENDING:
        raise AccessError(
            f"the request was already {request.status.value}",
            ErrorKind.CONFLICT,
            "request_decided",
            params={"status": request.status.value},
        )
    if user.id in earlier:
        raise AccessError("this step waits for another approver", code="other_approver")
    if not approve:
        reason = required_text(reason, "reason for the refusal", "reason")
    elif not request.emergency:
        still_held(request.record)  # destroyed meanwhile: it can only be refused
        if not within_clearance(request.requester, request.record):
            raise AccessError(  # the clearance may have been lowered since the request
                "the record is above the requester's clearance: it can only be refused",
                code="requester_clearance",
                params={
                    "level": request.record.sensitivity.value,
                    "clearance": request.requester.clearance.value,
                },
            )
    now = utcnow()
    session.add(
        AccessDecision(
            request_id=request.id,
            step=request.step,
            approver_id=user.id,
            approved=approve,
            reason=reason.strip()[:MAX_TEXT],
            at=now,
            ip=actor.ip,
        )
    )
    before = {"status": request.status.value, "step": request.step}
    if not approve:
        request.status, request.decided_at = RequestStatus.DENIED, now
        if request.emergency:  # the green-channel grant ends now
            for grant in session.scalars(select(Grant).where(Grant.request_id == request.id)):
                if grant.revoked_at is None:
                    grant.revoked_at, grant.revoked_by_id = now, user.id
                    grant.revoke_reason = "emergency access refused afterwards: " + reason
    elif request.step < request.steps:
        request.step += 1
        request.approver, request.approver_department_id = Approver.DIRECTOR, None
        request.due_at = now + timedelta(hours=settings.request_hours)
    else:
        request.status, request.decided_at = RequestStatus.APPROVED, now
        if not request.emergency:
            grant = Grant(
                user_id=request.requester_id,
                record_id=request.record_id,
                scope=request.scope,
                valid_from=now,
                valid_until=now + timedelta(days=request.days),
                request_id=request.id,
            )
            session.add(grant)
            session.flush()
            record_event(
                session,
                actor,
                "grant.create",
                "grant",
                grant.id,
                {
                    "user": request.requester.username,
                    "record": str(request.record_id),
                    "scope": grant.scope.value,
                    "from": grant.valid_from.isoformat(),
                    "until": grant.valid_until.isoformat(),
                },
            )
    session.flush()
    record_event(
        session,
        actor,
        "access.approve" if approve else "access.refuse",
        "access_request",
        request.id,
        {
            "before": before,
            "after": {"status": request.status.value, "step": request.step},
            "reason": reason,
        },
    )
    return request


def escalate_overdue(session: Session, settings: AccessSettings, actor: Actor) -> int:
    """Overdue steps move up: a department head's to the directors; a director's stays
    with the directors, flagged. Returns how many requests were escalated now."""
    now = utcnow()
    overdue = session.scalars(
        select(AccessRequest).where(
            AccessRequest.status == RequestStatus.PENDING,
            AccessRequest.due_at < now,
            or_(AccessRequest.approver == Approver.HEAD, AccessRequest.escalated.is_(False)),
        )
    )
    count = 0
    for request in overdue:
        before = {"approver": request.approver.value, "escalated": request.escalated}
        request.approver, request.approver_department_id = Approver.DIRECTOR, None
        request.escalated = True
        request.due_at = now + timedelta(hours=settings.request_hours)
        record_event(
            session,
            actor,
            "access.escalate",
            "access_request",
            request.id,
            {"before": before, "after": {"approver": "director", "escalated": True}},
        )
        count += 1
    return count


def revoke(session: Session, user: User, actor: Actor, grant_id: uuid.UUID, reason: str) -> Grant:
    """End a grant early, with a reason: directors, the record's department heads, records
    managers."""
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise AccessError("no such grant", ErrorKind.NOT_FOUND)
    if not may_revoke(user, grant.record):  # the holder learns it exists; others do not
        hidden = grant.user_id != user.id
        raise AccessError("no such grant", ErrorKind.NOT_FOUND if hidden else None)
    if grant.revoked_at is not None:
        raise AccessError("the grant was already revoked", ErrorKind.CONFLICT)
    why = required_text(reason, "reason", "reason")
    grant.revoked_at, grant.revoked_by_id, grant.revoke_reason = utcnow(), user.id, why
    record_event(
        session,
        actor,
        "access.revoke",
        "grant",
        grant.id,
        {"before": {"revoked": False}, "after": {"revoked": True}, "reason": why},
    )
    return grant


def violations(session: Session, now: datetime | None = None) -> list[AccessRequest]:
    """Green-channel accesses never approved: refused, or still pending past the deadline."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(AccessRequest)
            .where(
                AccessRequest.emergency.is_(True),
                or_(
                    AccessRequest.status == RequestStatus.DENIED,
                    (AccessRequest.status == RequestStatus.PENDING) & (AccessRequest.due_at < now),
                ),
            )
            .order_by(AccessRequest.created_at)
        )
    )
