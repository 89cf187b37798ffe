"""A record's metadata and the gated reader over the API.

Every content attempt and every metadata lookup is written to the access log with the
client's address before the response leaves.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, jsonify, request

from access.api.common import api, archive, error, json_body, me, requires, token_required
from access.browse import allowed_scopes, classification_for, open_record, versions_of
from access.describe import describe_record
from access.http import client_of_request, content_response, read_content_for
from access.pick import pick_as
from access.policy import Permission, sees_digests
from access.reader import Refused


@api.get("/records/pick")
@requires(Permission.SEARCH, "the {role} role reads no records")
def pick_records() -> Any:
    """Up to ten records the caller may see whose title, 档号, name or 文号 contains ``q``
    (``for=retention`` or ``audit``: every record, for the roles that see them there)."""
    found = pick_as(
        archive(),
        g.user.id,
        client_of_request(),
        request.args.get("q", ""),
        request.args.get("for", ""),
    )
    response = jsonify(records=[p.as_json() for p in found])
    response.headers["Cache-Control"] = "no-store"
    return response


@api.get("/records/<uuid:record_id>")
@token_required
def show_record(record_id: uuid.UUID) -> Any:
    """Metadata and versions, only for a record the caller may know exists."""
    with archive().sessions() as session:
        person = me(session)
        record = open_record(archive(), session, person, client_of_request(), record_id)
        if record is None:
            return error(404, "no such record")
        reads = bool(allowed_scopes(session, person, record))
        digests = sees_digests(person, reads)
        return jsonify(
            id=str(record.id),
            title=record.title,
            project=record.project.name,
            department=record.department.code if record.department else None,
            sensitivity=record.sensitivity.value,
            reference_code=record.reference_code,
            author=record.author,
            doc_number=record.doc_number,
            remarks=record.remarks,
            process=record.process,
            stage=record.stage,
            record_type=record.record_type,
            classification=classification_for(person, record, reads),
            state=record.state.value,
            created_at=record.created_at.isoformat(),
            versions=[
                {
                    "id": str(v.id),
                    "name": v.name,
                    "media_type": v.media_type,
                    "size": v.size,
                    "page_count": v.page_count,
                    "sha256": v.sha256 if digests else None,
                    "created_at": v.created_at.isoformat(),
                }
                for v in versions_of(session, record.id)
            ],
        )


@api.patch("/records/<uuid:record_id>")
@requires(Permission.DESCRIBE_RECORDS, "the {role} role may not change a record's description")
def record_describe(record_id: uuid.UUID) -> Any:
    """Records managers: ``{"author", "doc_number", "remarks"}``, any of them (null or ""
    clears one); audited with before and after. Answers what changed."""
    changed = describe_record(archive(), g.user.id, g.actor, record_id, json_body())
    return jsonify(record_id=str(record_id), changed=changed)


@api.get("/versions/<uuid:version_id>/content")
@token_required
def version_content(version_id: uuid.UUID) -> Any:
    """The gated reader: ``?action=view|download|print|external`` (view by default)."""
    outcome = read_content_for(g.user, version_id)
    if isinstance(outcome, Refused):  # a known record's id, to ask for access to it
        known = {"record_id": str(outcome.record_id)} if outcome.record_id else {}
        return error(outcome.status, outcome.message, **known)
    return content_response(outcome)
