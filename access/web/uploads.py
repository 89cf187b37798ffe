"""Uploaders' pages: upload one or many files (a progress bar with JavaScript, a plain form
without), a batch page that follows each job live, and retry / fix-and-retry / release
of quarantined files. A job is visible to whoever submitted it and to records managers."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from flask import jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from access.browse import knows
from access.policy import Permission, may
from access.requests import AccessError
from access.web.core import actor, arc, form, me, requires, select_locale, user, web
from access.web.forms import sends_back
from access.web.refusals import explain
from archive.content import ContentTooLarge
from archive.errors import ErrorKind, InvalidInput
from archive.models import Department, IngestJob, IngestStatus, Record, Sensitivity, Version
from archive.naming import NamingError, format_date
from archive.vocabulary_reasons import reason_text
from ingest.jobs import receive, release, retry
from ingest.metadata import FIELDS, MetadataError, clean_params
from ingest.tasks import enqueue

MAX_BATCH = 200
FINAL = frozenset({IngestStatus.STORED, IngestStatus.DUPLICATE, IngestStatus.QUARANTINED})


def _metadata() -> dict[str, str]:
    found = {key: form(key) for key in FIELDS if key != "major" and form(key)}
    if "date" in found:
        found["date"] = iso_date(found["date"])
    return found


#: How people write a date on a form: 2026-11, 2026/11, 2026.11, 2026年11月, with a day too.
_WRITTEN_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:月\s*)?(?:[-/.]?\s*(\d{1,2})\s*[日号]?)?", re.ASCII
)


def iso_date(value: str) -> str:
    """A date as people write it, as ISO (2026年11月3日 → 2026-11-03); anything else as it
    was, for the check to refuse beside the field."""
    value = unicodedata.normalize("NFKC", value)  # ２０２６／１１ typed full-width: 2026/11
    found = _WRITTEN_DATE.fullmatch(value.strip())
    if not found:
        return value.strip()
    year, month, day = found.groups()
    return f"{year}-{int(month):02d}" + (f"-{int(day):02d}" if day else "")


def _check_date(value: str) -> None:
    """The date is the same for the whole batch: refused once, beside its field."""
    if not value:
        return
    try:
        format_date(value, "day" if len(value) == 10 else "month")
    except NamingError:
        raise InvalidInput(
            _("%(v)s is not a date: give the year and month, like 2026-11, or the day.", v=value),
            field="date",
        ) from None


def _upload_page() -> Any:
    with arc().sessions() as db:
        departments = list(db.scalars(select(Department).order_by(Department.code)))
    return render_template(
        "upload.html",
        departments=departments,
        levels=[s.value for s in Sensitivity],
        mine=_own_department(),
    )


@web.route("/upload", methods=["GET", "POST"])
@requires(Permission.UPLOAD)
@sends_back(_upload_page)
def upload() -> Any:
    """Upload a batch; a refused one comes back with the metadata as typed (a browser never
    lets a page fill in files again: they are chosen anew)."""
    archive = arc()
    if request.method == "GET":
        return _upload_page()
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if not files:
        raise InvalidInput(_("Choose at least one file."), field="files")
    if len(files) > MAX_BATCH:
        raise InvalidInput(_("At most %(n)s files at a time.", n=MAX_BATCH), field="files")
    params = _metadata()
    if len(files) > 1:  # each file its own record: a shared title must not make versions
        params["new_record"] = "1"
    _check_date(params.get("date", ""))
    clean_params(params)  # the batch's own metadata: refused once, beside its field
    received: list[uuid.UUID] = []
    problems: list[str] = []
    for upload_file in files:
        try:
            received.append(
                receive(
                    archive,
                    upload_file.stream,
                    filename=upload_file.filename or "upload",
                    source_kind="upload",
                    actor=actor(),
                    params=params,
                )
            )
        except (ContentTooLarge, MetadataError) as exc:
            problems.append(f"{upload_file.filename}: {reason_text(explain(exc), select_locale())}")
    for job_id in received:  # each job was committed by receive(): enqueue after commit
        enqueue(job_id)
    target = url_for("web.jobs", ids=",".join(str(j) for j in received))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(jobs=[str(j) for j in received], problems=problems, batch_url=target), (
            202 if received else 400
        )
    if not received:
        raise InvalidInput("; ".join(problems))
    return redirect(target)


def _own_department() -> str:
    department = user().department
    return department.code if department is not None else ""


def _visible(query: Any) -> Any:
    if may(user().role, Permission.SEE_EVERY_JOB):
        return query
    return query.where(IngestJob.created_by_id == user().id)


def _ids(raw: str) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for part in raw.split(",")[:MAX_BATCH]:
        try:
            ids.append(uuid.UUID(part.strip()))
        except ValueError:
            continue
    return ids


def _jobs() -> list[IngestJob]:
    query = _visible(select(IngestJob))
    ids = _ids(request.args.get("ids", ""))
    if ids:
        query = query.where(IngestJob.id.in_(ids))
    status = request.args.get("status")
    if status in {s.value for s in IngestStatus}:
        query = query.where(IngestJob.status == IngestStatus(status))
    with arc().sessions() as db:
        return list(db.scalars(query.order_by(IngestJob.created_at.desc()).limit(MAX_BATCH)))


def job_json(
    job: IngestJob, name: str | None, unseen: dict[uuid.UUID, str], same_as: str | None = None
) -> dict[str, Any]:
    """One job as the batch page shows it; ``unseen``: the records filed above what the
    viewer may know of (the rules raised them, a contract say), by their sensitivity;
    ``same_as``: the version elsewhere whose content this one repeats (flagged, not merged)."""
    from access.web.labels import label, reason

    raised = unseen.get(job.record_id) if job.record_id else None
    state = job.status.value if job.status != IngestStatus.PROCESSING else job.stage
    return {
        "id": str(job.id),
        "filename": job.original_filename,
        "status": job.status.value,
        "state": state,
        "state_label": label(state),
        "final": job.status in FINAL,
        "failed_check": job.failed_check,
        "failed_check_label": label(job.failed_check) if job.failed_check else None,
        "reason": reason(job.reason) if job.reason else None,
        "problem": f"{label(job.failed_check) if job.failed_check else ''}{_(': ')}"
        f"{reason(job.reason)}"
        if job.reason
        else None,
        "name": name,
        "record_url": url_for("web.record", record_id=job.record_id)
        if job.record_id and raised is None
        else None,
        "note": _(
            "Filed. Its sensitivity was set to %(level)s (see the classification rules), "
            "above what you may see: ask a records manager.",
            level=label(raised),
        )
        if raised
        else None,
        "same_as": _(
            "Same content as %(name)s, in another record: kept as its own record.", name=same_as
        )
        if same_as
        else None,
    }


def _unseen(jobs: list[IngestJob]) -> dict[uuid.UUID, str]:
    """The records of ``jobs`` the viewer may not know of, with their sensitivity."""
    record_ids = {j.record_id for j in jobs if j.record_id}
    if not record_ids:
        return {}
    with arc().sessions() as db:
        may_know = knows(db, me(db))
        records = db.scalars(select(Record).where(Record.id.in_(record_ids)))
        return {r.id: r.sensitivity.value for r in records if not may_know(r)}


def _names(jobs: list[IngestJob]) -> dict[uuid.UUID, str]:
    version_ids = [j.version_id for j in jobs] + [j.duplicate_of_id for j in jobs]
    wanted = [v for v in version_ids if v is not None]
    if not wanted:
        return {}
    with arc().sessions() as db:
        return dict(
            db.execute(select(Version.id, Version.name).where(Version.id.in_(wanted))).all()
        )


def _rows(found: list[IngestJob]) -> list[dict[str, Any]]:
    names, unseen = _names(found), _unseen(found)
    return [
        job_json(
            j,
            names.get(j.version_id or j.duplicate_of_id),  # type: ignore[arg-type]
            unseen,
            names.get(j.duplicate_of_id) if j.version_id and j.duplicate_of_id else None,
        )
        for j in found
    ]


@web.get("/jobs")
@requires(Permission.UPLOAD)
def jobs() -> Any:
    found = _jobs()
    rows = _rows(found)
    return render_template(
        "jobs.html",
        rows=rows,
        ids=request.args.get("ids", ""),
        status=request.args.get("status", ""),
        may_release=may(user().role, Permission.SEE_EVERY_JOB),
        statuses=[s.value for s in IngestStatus],
    )


@web.get("/jobs/status.json")
@requires(Permission.UPLOAD)
def jobs_status() -> Any:
    """What the batch page polls: each job's state, until all are final."""
    return jsonify(jobs=_rows(_jobs()))


def _own_job(job_id: uuid.UUID) -> None:
    with arc().sessions() as db:
        job = db.scalar(_visible(select(IngestJob).where(IngestJob.id == job_id)))
    if job is None:
        raise AccessError(_("No such job."), ErrorKind.NOT_FOUND)


@web.post("/jobs/<uuid:job_id>/retry")
@requires(Permission.UPLOAD)
def job_retry(job_id: uuid.UUID) -> Any:
    """Retry as it is, or with a fixed file and corrected metadata."""
    _own_job(job_id)
    replacement = request.files.get("file")
    stream = replacement.stream if replacement and replacement.filename else None
    name = replacement.filename if stream is not None and replacement else None
    retry(arc(), actor(), job_id, stream, _metadata() or None, filename=name)
    enqueue(job_id)
    return redirect(url_for("web.jobs", ids=str(job_id)))


@web.post("/jobs/<uuid:job_id>/release")
@requires(Permission.SEE_EVERY_JOB)
def job_release(job_id: uuid.UUID) -> Any:
    """A records manager accepts a file despite its failed check, with a reason (audited)."""
    release(arc(), actor(), job_id, form("reason"))
    enqueue(job_id)
    return redirect(url_for("web.jobs", ids=str(job_id)))
