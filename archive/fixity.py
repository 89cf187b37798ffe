"""Fixity: decrypt and hash stored versions to prove nothing changed since they were stored."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from archive.audit import Actor, record_event
from archive.content import ContentDestroyed, ContentError, read_content
from archive.core import Archive
from archive.crypto import ContentIntegrityError
from archive.models import Version
from archive.storage import BlobNotFound


@dataclass(frozen=True)
class FixityProblem:
    version_id: uuid.UUID
    name: str
    reason: str


@dataclass(frozen=True)
class FixityReport:
    checked: int
    destroyed: int
    problems: list[FixityProblem]


def verify_fixity(arc: Archive, actor: Actor) -> FixityReport:
    """Decrypt and hash every stored version; report each that does not match."""
    problems: list[FixityProblem] = []
    checked = destroyed = 0
    with arc.sessions() as session:
        versions = session.scalars(
            select(Version).order_by(Version.created_at).execution_options(yield_per=200)
        )
        for version in versions:
            digest = hashlib.sha256()
            try:
                for chunk in read_content(arc, session, version):
                    digest.update(chunk)
            except ContentDestroyed:
                destroyed += 1
                continue
            except (ContentIntegrityError, ContentError, BlobNotFound) as exc:
                problems.append(FixityProblem(version.id, version.name, str(exc)))
                checked += 1
                continue
            checked += 1
            if digest.hexdigest() != version.sha256:
                problems.append(
                    FixityProblem(
                        version.id,
                        version.name,
                        f"SHA-256 {digest.hexdigest()} differs from the recorded {version.sha256}",
                    )
                )
    with arc.transaction() as session:
        record_event(
            session,
            actor,
            "fixity.verified",
            "archive",
            "all",
            {
                "checked": checked,
                "destroyed": destroyed,
                "failed": [str(p.version_id) for p in problems],
            },
        )
    return FixityReport(checked, destroyed, problems)
