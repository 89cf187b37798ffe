"""Access on request over the API: requests and decisions, the green channel, and grants.

Ids of things the caller may not know of answer 404, exactly like ids that do not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, jsonify

from access.api.common import (
    api,
    archive,
    json_body,
    me,
    parse_record,
    requires,
    token_required,
    whole_number,
)
from access.emergency import emergency
from access.grants import grants_of
from access.policy import Permission
from access.requests import (
    decide,
    mine,
    revoke,
    submit,
    visible_request,
    waiting_for,
    withdraw,
)
from archive.models import AccessRequest, Grant


def request_json(item: AccessRequest) -> dict[str, Any]:
    return {
        "id": str(item.id),
        "record_id": str(item.record_id),
        "requester": item.requester.username,
        "purpose": item.purpose,
        "scope": item.scope.value,
        "recipient": item.recipient,
        "days": item.days,
        "status": item.status.value,
        "step": item.step,
        "steps": item.steps,
        "approver": item.approver.value,
        "due_at": item.due_at.isoformat(),
        "escalated": item.escalated,
        "emergency": item.emergency,
        "created_at": item.created_at.isoformat(),
    }


def grant_json(grant: Grant) -> dict[str, Any]:
    return {
        "id": str(grant.id),
        "record_id": str(grant.record_id),
        "user": grant.user.username,
        "scope": grant.scope.value,
        "valid_from": grant.valid_from.isoformat(),
        "valid_until": grant.valid_until.isoformat(),
        "emergency": grant.emergency,
        "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
        "revoke_reason": grant.revoke_reason,
    }


@api.post("/access-requests")
@requires(Permission.SEARCH, "the {role} role reads no records")
def create_access_request() -> Any:
    data = json_body()
    arc = archive()
    with arc.transaction() as session:
        item = submit(
            session,
            arc.settings.access,
            me(session),
            g.actor,
            parse_record(data.get("record_id"), "record_id", knowable=True),
            str(data.get("purpose") or ""),
            str(data.get("scope") or ""),
            whole_number(data.get("days", 0), "days"),
            str(data.get("recipient") or ""),
        )
        return jsonify(request_json(item)), 201


@api.get("/access-requests")
@requires(Permission.SEARCH, "the {role} role reads no records")
def list_access_requests() -> Any:
    with archive().sessions() as session:
        user = me(session)
        return jsonify(
            mine=[request_json(r) for r in mine(session, user)],
            waiting=[request_json(r) for r in waiting_for(session, user)],
        )


@api.get("/access-requests/<uuid:request_id>")
@token_required
def show_access_request(request_id: uuid.UUID) -> Any:
    with archive().sessions() as session:
        return jsonify(request_json(visible_request(session, me(session), request_id)))


def _decide(request_id: uuid.UUID, approve: bool) -> Any:
    arc = archive()
    with arc.transaction() as session:
        item = decide(
            session,
            arc.settings.access,
            me(session),
            g.actor,
            request_id,
            approve,
            str(json_body().get("reason") or ""),
        )
        return jsonify(request_json(item))


@api.post("/access-requests/<uuid:request_id>/approve")
@token_required
def approve_access_request(request_id: uuid.UUID) -> Any:
    return _decide(request_id, approve=True)


@api.post("/access-requests/<uuid:request_id>/deny")
@token_required
def deny_access_request(request_id: uuid.UUID) -> Any:
    return _decide(request_id, approve=False)


@api.post("/access-requests/<uuid:request_id>/withdraw")
@token_required
def withdraw_access_request(request_id: uuid.UUID) -> Any:
    """The requester takes back a request still waiting."""
    arc = archive()
    with arc.transaction() as session:
        return jsonify(request_json(withdraw(session, me(session), g.actor, request_id)))


@api.post("/emergency-access")
@token_required
def open_emergency_access() -> Any:
    data = json_body()
    arc = archive()
    with arc.transaction() as session:
        grant = emergency(
            session,
            arc.settings.access,
            me(session),
            g.actor,
            parse_record(data.get("record_id"), "record_id", knowable=True),
            str(data.get("justification") or ""),
            str(data.get("scope") or "view"),
            None if data.get("hours") in (None, "") else whole_number(data["hours"], "hours"),
        )
        return jsonify(grant_json(grant)), 201


@api.get("/grants")
@requires(Permission.SEARCH, "the {role} role reads no records")
def list_grants() -> Any:
    with archive().sessions() as session:
        return jsonify(grants=[grant_json(x) for x in grants_of(session, me(session))])


@api.post("/grants/<uuid:grant_id>/revoke")
@token_required
def revoke_grant(grant_id: uuid.UUID) -> Any:
    with archive().transaction() as session:
        reason = str(json_body().get("reason") or "")
        grant = revoke(session, me(session), g.actor, grant_id, reason)
        return jsonify(grant_json(grant))
