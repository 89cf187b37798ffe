"""Receiving an ingest job and holding it: encrypted staging, then claims with leases.

The :class:`IngestJob` row is the source of truth. A worker *claims* a job by bumping its
``attempts`` and taking a lease; every later write checks that ``attempts`` still equals its
claim (a fencing token), so a worker that was presumed dead and comes back cannot overwrite
the work of the one that replaced it.

A file from disk (the hot folder, bulk import) is read only if it is a regular file with a
single link, opened without following any link (:func:`open_regular`): a link planted where
files are picked up can never make the archive ingest a file it was not given.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import uuid
from collections.abc import Iterator, Sequence
from contextlib import nullcontext, suppress
from datetime import timedelta
from io import BufferedReader
from pathlib import Path
from typing import IO, Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.content import seal, staging_binding, unseal
from archive.core import Archive
from archive.crypto import WrappedKey
from archive.db import utcnow
from archive.errors import DomainError
from archive.models import IngestJob, IngestStatus
from ingest.filenames import safe_filename
from ingest.metadata import MAX_SIDECAR_BYTES, MetadataError, clean_params, sidecar_path
from ingest.validate import validate_params

SOURCES = frozenset({"api", "upload", "hotfolder", "bulk", "cli", "transfer"})


class JobError(DomainError):
    """A request about a job cannot be done; the message says why."""


class NotRegularFile(DomainError):
    """A path offered for ingest is not a regular file of its own (a symbolic link, a file
    with more than one hard link, a directory, a device): it is never followed or read."""


class Superseded(Exception):
    """This worker's claim is no longer current: another attempt owns the job."""


def receive(
    arc: Archive,
    source: IO[bytes],
    *,
    filename: str,
    source_kind: str,
    actor: Actor,
    params: dict[str, Any] | None = None,
    source_path: str | None = None,
) -> uuid.UUID:
    """Stream ``source`` into encrypted staging and commit a queued job; return its id.

    The caller enqueues the job *after* this returns (after the commit). Raises
    :class:`~archive.content.ContentTooLarge`, or :class:`MetadataError` for explicit
    metadata that is invalid (an unknown department, a bad date), before anything is kept.
    """
    if source_kind not in SOURCES:
        raise JobError(f"unknown source {source_kind!r}")
    clean = clean_params(params or {})
    with arc.sessions() as session:
        problems = validate_params(session, clean, actor.user_id, source_kind)
    if problems:
        raise MetadataError("; ".join(problems))
    sidecar = (params or {}).get("sidecar")
    if isinstance(sidecar, dict):
        clean["sidecar"] = sidecar
    job_id = uuid.uuid4()
    sealed = seal(arc, source, staging_binding(job_id), limit=arc.settings.max_upload_bytes)
    name = safe_filename(filename)
    try:
        with arc.transaction() as session:
            session.add(
                IngestJob(
                    id=job_id,
                    source=source_kind,
                    original_filename=name,
                    source_path=source_path,
                    params=clean,
                    staging_key=sealed.object_key,
                    staging_kek_id=sealed.wrapped.kek_id,
                    staging_wrapped=sealed.wrapped.wrapped,
                    size=sealed.size,
                    sha256=sealed.sha256,
                    created_by_id=actor.user_id,
                )
            )
            session.flush()
            record_event(
                session,
                actor,
                "ingest.received",
                "ingest_job",
                job_id,
                {
                    "source": source_kind,
                    "filename": name,
                    "given_filename": filename[:300] if name != filename else None,
                    "size": sealed.size,
                    "sha256": sealed.sha256,
                    "source_path": source_path,
                },
            )
    except BaseException:
        arc.blobs.delete(sealed.object_key)
        raise
    return job_id


def receive_file(
    arc: Archive,
    path: Path,
    *,
    relative: str,
    source_kind: str,
    actor: Actor,
    params: dict[str, Any] | None = None,
    root: Path | None = None,
    source: BinaryIO | None = None,
) -> uuid.UUID:
    """:func:`receive` a file from disk, with the metadata of its sidecar if it has one.

    Both are opened with :func:`open_regular` below ``root`` (default: the file's folder), so
    a link, a hard-linked file or a swap is refused with :class:`NotRegularFile`. ``source``
    is the file already opened that way (bulk import hashes it first).
    """
    sidecar = _read_sidecar(sidecar_path(path), root)
    opened = nullcontext(source) if source is not None else open_regular(path, root=root)
    with opened as handle:
        return receive(
            arc,
            handle,
            filename=path.name,
            source_kind=source_kind,
            actor=actor,
            params={**(params or {}), **({"sidecar": sidecar} if sidecar else {})},
            source_path=relative,
        )


_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_LINK = "not a regular file but a symbolic link (links are never followed)"


def open_directory(root: Path, parts: Sequence[str], *, create: bool = False) -> int:
    """A descriptor on ``root/parts...``, no part below ``root`` followed if it is a link.

    ``root`` itself is the operator's (the inbox, the tree given to ``archive import``).
    With ``create``, missing folders are made. Raises :class:`NotRegularFile` for a link.
    """
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts:
            if part in ("", ".", "..") or os.sep in part:
                raise NotRegularFile(f"not a plain path: {part!r}")
            if create:
                with suppress(FileExistsError):
                    os.mkdir(part, dir_fd=fd)
            try:
                child = os.open(part, _DIRECTORY_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise NotRegularFile(
                        f"inside {part!r}, which is not a folder but a symbolic link or a "
                        "file (links are never followed)"
                    ) from None
                raise
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def not_regular(info: os.stat_result) -> str | None:
    """Why a file with this (``lstat``) status is refused, or None for a regular file."""
    if stat.S_ISLNK(info.st_mode):
        return _LINK
    if stat.S_ISDIR(info.st_mode):
        return "not a regular file but a folder"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a pipe, socket or device)"
    if info.st_nlink != 1:
        return (
            f"a file with {info.st_nlink} hard links (only a file with a single link is "
            "taken: another name may point at the same data)"
        )
    return None


def open_regular(path: Path, *, root: Path | None = None) -> BufferedReader:
    """Open ``path`` for reading if it is a regular file with exactly one link.

    No link is followed, neither ``path`` nor a folder between ``root`` (default: the file's
    folder) and it: ``lstat``, then open with ``O_NOFOLLOW`` and ``fstat`` the descriptor,
    which must still be a regular file with one link and the same inode, so a file swapped
    between the check and the open is caught. Raises :class:`NotRegularFile` with the reason
    (``FileNotFoundError`` if it is gone).
    """
    base = path.parent if root is None else root
    parts = path.relative_to(base).parts
    if not parts:
        raise NotRegularFile("not a regular file but a folder")
    folder = open_directory(base, parts[:-1])
    try:
        before = os.lstat(parts[-1], dir_fd=folder)
        if (reason := not_regular(before)) is not None:
            raise NotRegularFile(reason)
        try:
            fd = os.open(parts[-1], _FILE_FLAGS, dir_fd=folder)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # it became a link after the lstat
                raise NotRegularFile(_LINK) from None
            raise
    finally:
        os.close(folder)
    try:
        after = os.fstat(fd)
        reason = not_regular(after)
        if reason is None and (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            reason = "replaced by another file while it was being opened"
        if reason is not None:
            raise NotRegularFile(reason)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_sidecar(path: Path, root: Path | None) -> dict[str, Any] | None:
    """A file's sidecar metadata, opened as carefully as the file (as ``read_sidecar``)."""
    try:
        handle = open_regular(path, root=root)
    except FileNotFoundError:
        return None
    except NotRegularFile as exc:
        raise NotRegularFile(f"its sidecar {path.name} is {exc}") from None
    with handle:
        data = handle.read(MAX_SIDECAR_BYTES + 1)
    if len(data) > MAX_SIDECAR_BYTES:
        raise MetadataError(f"sidecar {path.name} is larger than {MAX_SIDECAR_BYTES} bytes")
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MetadataError(f"sidecar {path.name} is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise MetadataError(f"sidecar {path.name} must hold a JSON object")
    return clean_params(parsed)


def staged_content(arc: Archive, job: IngestJob) -> Iterator[bytes]:
    if job.staging_key is None or job.staging_kek_id is None or job.staging_wrapped is None:
        raise JobError(f"job {job.id} has no staged file")
    wrapped = WrappedKey(job.staging_kek_id, job.staging_wrapped)
    return unseal(arc, job.staging_key, wrapped, staging_binding(job.id))


def fenced(session: Session, job_id: uuid.UUID, attempt: int) -> IngestJob:
    """The job, locked, if ``attempt`` still owns it; else :class:`Superseded`."""
    job = session.get(IngestJob, job_id, with_for_update=True)
    if job is None or job.attempts != attempt or job.status != IngestStatus.PROCESSING:
        raise Superseded(f"job {job_id}: attempt {attempt} no longer owns it")
    return job


def claim(arc: Archive, job_id: uuid.UUID) -> int | None:
    """Take the job for processing; return the attempt number, or None if not ours to do."""
    settings = arc.settings.ingest
    with arc.transaction() as session:
        job = session.get(IngestJob, job_id, with_for_update=True)
        if job is None:
            raise JobError(f"no ingest job {job_id}")
        now = utcnow()
        if job.status.finished:
            return None
        if job.status == IngestStatus.PROCESSING and job.lease_until and job.lease_until > now:
            return None  # another worker holds a live lease
        if job.attempts >= settings.max_attempts:
            _finish_quarantined(
                session,
                job,
                "ingest.attempts",
                f"gave up after {job.attempts} attempts; last error: {job.reason or 'none'}",
            )
            return None
        job.status = IngestStatus.PROCESSING
        job.attempts += 1
        job.lease_until = now + timedelta(seconds=settings.lease_seconds)
        return job.attempts


def set_stage(arc: Archive, job_id: uuid.UUID, attempt: int, stage: str, **fields: Any) -> None:
    """Record progress (shown live to the uploader) and renew the lease."""
    with arc.transaction() as session:
        job = fenced(session, job_id, attempt)
        job.stage = stage
        job.lease_until = utcnow() + timedelta(seconds=arc.settings.ingest.lease_seconds)
        for name, value in fields.items():
            setattr(job, name, value)


def release_claim(arc: Archive, job_id: uuid.UUID, attempt: int, error: str) -> None:
    """Give a job back after a transient failure (storage or database down): retry later."""
    with arc.transaction() as session:
        try:
            job = fenced(session, job_id, attempt)
        except Superseded:
            return
        job.status = IngestStatus.QUEUED
        job.lease_until = None
        job.reason = f"retrying after: {error}"[:2000]


def finish_job(job: IngestJob, status: IngestStatus, checks: dict[str, Any] | None) -> None:
    """End a job in a final status (stored, duplicate, quarantined): the lease goes too."""
    job.status, job.stage = status, status.value
    job.checks = checks if checks is not None else job.checks
    job.lease_until, job.finished_at = None, utcnow()


def _finish_quarantined(
    session: Session,
    job: IngestJob,
    check: str,
    reason: str,
    report: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> None:
    finish_job(job, IngestStatus.QUARANTINED, report or None)
    job.failed_check = check
    job.reason = reason[:2000]
    record_event(
        session,
        actor or Actor("ingest"),
        "ingest.quarantined",
        "ingest_job",
        job.id,
        {"check": check, "reason": reason[:500], "filename": job.original_filename},
    )


def quarantine(
    arc: Archive,
    job_id: uuid.UUID,
    attempt: int,
    check: str,
    reason: str,
    report: dict[str, Any] | None = None,
) -> None:
    with arc.transaction() as session:
        _finish_quarantined(session, fenced(session, job_id, attempt), check, reason, report)


def drop_staging(arc: Archive, job_id: uuid.UUID) -> None:
    """Delete the staged blob of a finished job (the sweeper repeats this after a crash)."""
    with arc.sessions() as session:
        key = session.scalar(select(IngestJob.staging_key).where(IngestJob.id == job_id))
    if key is None:
        return
    arc.blobs.delete(key)
    with arc.transaction() as session:
        job = session.get(IngestJob, job_id, with_for_update=True)
        if job is not None and job.staging_key == key:
            job.staging_key = job.staging_kek_id = None
            job.staging_wrapped = None
