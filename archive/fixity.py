"""Fixity: decrypt and hash stored versions (and read back their renditions) to prove
nothing changed since they were stored.

Every check is kept (``fixity_checks``, append-only). The scheduled sweep re-reads a rolling
sample, the versions checked longest ago (never-checked ones first), so over time every
version is re-read; ``--all`` re-reads everything on demand. A failure is an alert
(:mod:`access.alerts` reads the failed checks) and the command exits 1.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.content import ContentDestroyed, ContentError, read_content
from archive.core import Archive
from archive.crypto import ContentIntegrityError
from archive.db import utcnow
from archive.models import DataKey, FixityCheck, RenditionRole, Version
from archive.storage import BlobNotFound, StorageError


@dataclass(frozen=True)
class FixityProblem:
    version_id: uuid.UUID
    name: str
    reason: str


@dataclass(frozen=True)
class FixityReport:
    run: str
    checked: int
    destroyed: int
    problems: list[FixityProblem]


def _check_one(arc: Archive, session: Session, version: Version) -> str | None:
    """Why the version fails, or None when its plaintext still hashes to the recorded value."""
    digest = hashlib.sha256()
    try:
        for chunk in read_content(arc, session, version):
            digest.update(chunk)
    except ContentDestroyed:
        raise  # not a failure: disposition destroyed it on purpose
    except (ContentIntegrityError, ContentError, StorageError) as exc:
        if isinstance(exc, BlobNotFound):
            return f"the blob is missing: {exc}"
        return str(exc)
    if digest.hexdigest() != version.sha256:
        return f"SHA-256 {digest.hexdigest()} differs from the recorded {version.sha256}"
    return renditions_problem(arc, session, version)


def renditions_problem(arc: Archive, session: Session, version: Version) -> str | None:
    """Why a rendition of the version (its text, OCR'd or laid-out PDF, the reader's
    copies) no longer reads back, or None. They carry no hash of their own: each segment's
    authenticated encryption is the proof, so reading every one to the end checks them."""
    roles = session.scalars(
        select(DataKey.role)
        .where(
            DataKey.version_id == version.id,
            DataKey.role != RenditionRole.ORIGINAL,
            DataKey.wrapped.is_not(None),
        )
        .order_by(DataKey.role)
    ).all()
    for role in roles:
        try:
            for _chunk in read_content(arc, session, version, role):
                pass
        except ContentDestroyed:
            continue
        except (ContentIntegrityError, ContentError, StorageError) as exc:
            if isinstance(exc, BlobNotFound):
                return f"rendition {role}: the blob is missing: {exc}"
            return f"rendition {role}: {exc}"
    return None


def due_for_check(session: Session, size: int) -> list[uuid.UUID]:
    """The ``size`` live versions checked longest ago, never-checked ones first."""
    last = (
        select(FixityCheck.version_id, func.max(FixityCheck.checked_at).label("last"))
        .group_by(FixityCheck.version_id)
        .subquery()
    )
    query = (
        select(Version.id)
        .join(
            DataKey,
            (DataKey.version_id == Version.id) & (DataKey.role == RenditionRole.ORIGINAL),
        )
        .where(DataKey.wrapped.is_not(None))
        .outerjoin(last, last.c.version_id == Version.id)
        .order_by(last.c.last.asc().nulls_first(), Version.created_at)
        .limit(size)
    )
    return list(session.scalars(query))


def check_versions(
    arc: Archive, actor: Actor, version_ids: Sequence[uuid.UUID] | None, kind: str
) -> FixityReport:
    """Re-read ``version_ids`` (None: every version), keep each result, audit the run."""
    run = secrets.token_hex(8)
    problems: list[FixityProblem] = []
    checked = destroyed = 0
    with arc.sessions() as session:
        query = select(Version).order_by(Version.created_at)
        if version_ids is not None:
            query = query.where(Version.id.in_(version_ids))
        versions = session.scalars(query.execution_options(yield_per=200))
        results: list[FixityCheck] = []
        for version in versions:
            try:
                reason = _check_one(arc, session, version)
            except ContentDestroyed:
                destroyed += 1
                continue
            checked += 1
            if reason is not None:
                problems.append(FixityProblem(version.id, version.name, reason))
            results.append(
                FixityCheck(
                    run=run,
                    version_id=version.id,
                    checked_at=utcnow(),
                    ok=reason is None,
                    detail=reason[:500] if reason else None,
                )
            )
    with arc.transaction() as session:
        session.add_all(results)
        record_event(
            session,
            actor,
            "fixity.verified",
            "archive",
            kind,
            {
                "run": run,
                "checked": checked,
                "destroyed": destroyed,
                "failed": [str(p.version_id) for p in problems],
            },
        )
    return FixityReport(run, checked, destroyed, problems)


def verify_fixity(arc: Archive, actor: Actor) -> FixityReport:
    """Decrypt and hash every stored version; report each that does not match."""
    return check_versions(arc, actor, None, "all")


def sweep_fixity(arc: Archive, actor: Actor, size: int) -> FixityReport:
    """The scheduled sweep: re-read the ``size`` versions checked longest ago."""
    with arc.sessions() as session:
        due = due_for_check(session, size)
    return check_versions(arc, actor, due, "sample")
