"""The REST API (``/api/v1``): bearer-token authentication, JSON in and out.

Deny by default: every view needs a token; a job is visible to the user who submitted it
and to records managers, and to nobody else (404, not 403: its existence is not theirs to
know).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from archive.accesslog import Client
from archive.audit import Actor
from archive.content import ContentTooLarge
from archive.core import Archive
from archive.models import IngestJob, Role, User, Version
from archive.people import user_for_token
from ingest.jobs import receive
from ingest.metadata import FIELDS, MetadataError
from ingest.tasks import enqueue

api = Blueprint("api", __name__, url_prefix="/api/v1")
F = TypeVar("F", bound=Callable[..., Any])

UPLOADERS = frozenset({Role.SPECIALIST, Role.SUPERVISOR, Role.DIRECTOR, Role.RECORDS_MANAGER})


def _archive() -> Archive:
    arc: Archive = current_app.extensions["archive"]
    return arc


def client_of_request() -> Client:
    """Where this request came from, for the access log (ProxyFix has set remote_addr)."""
    return Client(request.remote_addr, request.user_agent.string or "")


def error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


def token_required(view: F) -> F:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user: User | None = None
        if scheme.lower() == "bearer" and token:
            with _archive().transaction() as session:
                user = user_for_token(session, token.strip())
                if user is not None:
                    session.expunge(user)
        if user is None:
            response, status = error(401, "a valid API token is required")
            response.headers["WWW-Authenticate"] = 'Bearer realm="archive"'
            return response, status
        g.user = user
        g.actor = Actor.of(user, request.remote_addr)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> tuple[Response, int]:
    return error(exc.code or 500, exc.description or exc.name)


@api.post("/documents")
@token_required
def submit_document() -> Any:
    """Receive one file into staging and queue it: 202 with the job to poll."""
    if g.user.role not in UPLOADERS:
        return error(403, f"the {g.user.role.value} role does not file documents")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return error(400, "send the document as the multipart field 'file'")
    params = {key: request.form[key] for key in FIELDS if key in request.form}
    try:
        job_id = receive(
            _archive(),
            upload.stream,
            filename=upload.filename,
            source_kind="api",
            actor=g.actor,
            params=params,
        )
    except ContentTooLarge as exc:
        return error(413, str(exc))
    except MetadataError as exc:
        return error(400, str(exc))
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
    with _archive().sessions() as session:
        job = session.get(IngestJob, job_id)
        if job is None or not (
            job.created_by_id == g.user.id or g.user.role == Role.RECORDS_MANAGER
        ):
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


@api.get("/search")
@token_required
def search() -> Any:
    """Search what the caller may know exists; filters, paging, facets. Bad input: 400."""
    from access.browse import parse_search, search_as
    from access.requests import AccessError

    arc = _archive()
    try:
        params = parse_search(request.args)
        with arc.transaction() as session:
            user = session.merge(g.user, load=True)
            results = search_as(arc, session, user, client_of_request(), params)
    except AccessError as exc:
        return error(exc.status, str(exc))
    page = params.page
    return jsonify(
        total=results.total,
        page=page,
        hits=[
            {
                "record_id": hit.record_id,
                "version_id": hit.version_id,
                "title": hit.title,
                "name": hit.name,
                "project": hit.project,
                "department": hit.department,
                "sensitivity": hit.sensitivity,
                "filed": hit.filed.isoformat() if hit.filed else None,
                "score": round(hit.score, 4),
                "snippet": hit.snippet,
            }
            for hit in results.hits
        ],
        facets=results.facets,
    )
