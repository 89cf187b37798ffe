"""Filing documents over the API: ``POST /documents`` receives one file into staging and
queues it; ``GET /jobs/<id>`` follows it. A job is visible to whoever submitted it and to
records managers, and to nobody else (404, not 403: its existence is not theirs to know).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import g, jsonify, request, url_for

from access.api.common import api, archive, error, requires, token_required
from access.policy import Permission, may_see_job
from archive.models import IngestJob, Version
from ingest.jobs import receive
from ingest.metadata import FIELDS
from ingest.tasks import enqueue


@api.post("/documents")
@requires(Permission.UPLOAD, "the {role} role does not file documents")
def submit_document() -> Any:
    """Receive one file into staging and queue it: 202 with the job to poll."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return error(400, "send the document as the multipart field 'file'")
    params = {key: request.form[key] for key in FIELDS if key in request.form}
    job_id = receive(
        archive(),
        upload.stream,
        filename=upload.filename,
        source_kind="api",
        actor=g.actor,
        params=params,
    )
    enqueue(job_id)
    location = url_for("api.job_status", job_id=job_id)
    return (
        jsonify(job_id=str(job_id), status="queued", status_url=location),
        202,
        {"Location": location},
    )


@api.get("/jobs/<uuid:job_id>")
@token_required
def job_status(job_id: uuid.UUID) -> Any:
    with archive().sessions() as session:
        job = session.get(IngestJob, job_id)
        if job is None or not may_see_job(g.user, job.created_by_id):
            return error(404, "no such job")
        name = None
        if job.version_id is not None:
            version = session.get(Version, job.version_id)
            name = version.name if version else None
        return jsonify(
            job_id=str(job.id),
            status=job.status.value,
            stage=job.stage,
            filename=job.original_filename,
            media_type=job.media_type,
            record_id=str(job.record_id) if job.record_id else None,
            version_id=str(job.version_id) if job.version_id else None,
            name=name,
            duplicate_of=str(job.duplicate_of_id) if job.duplicate_of_id else None,
            failed_check=job.failed_check,
            reason=job.reason,
            checks=job.checks,
            attempts=job.attempts,
        )
