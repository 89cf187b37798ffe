"""Bulk import of a directory tree, processed in this process, re-runnable.

A re-run skips every file already in: one whose path and content match a job that ended
stored, duplicate or quarantined (a quarantined one is reported again, not re-ingested;
retry it after a fix).

Only regular files with a single link are imported, opened without following any link
(:func:`~ingest.jobs.receipt.open_regular`); a linked folder is not entered. Each of them,
and anything else that is not a regular file, is reported as refused with the reason.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive.audit import Actor
from archive.content import ContentError
from archive.core import Archive
from archive.models import IngestJob, IngestStatus
from ingest.jobs import receive_file
from ingest.jobs.receipt import NotRegularFile, open_regular
from ingest.metadata import MetadataError, is_sidecar
from ingest.pipeline import process


@dataclass
class Summary:
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    refused: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            self.stored + self.duplicates + self.skipped + len(self.quarantined) + len(self.refused)
        )


def files_under(root: Path) -> list[Path]:
    """Files to import, sidecars and hidden files left out, in a stable order.

    A linked folder is listed itself (to be refused), never entered.
    """
    found: list[Path] = []
    for directory, dirs, files in os.walk(root):
        here = Path(directory)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        linked = [d for d in dirs if os.path.islink(here / d)]
        dirs[:] = [d for d in dirs if d not in linked]
        names = set(files)
        for name in sorted([*files, *linked]):
            if name.startswith(".") or is_sidecar(name, names):
                continue
            found.append(here / name)
    return found


def _already_in(arc: Archive, source_path: str, sha256: str) -> IngestJob | None:
    with arc.sessions() as session:
        return session.scalar(
            select(IngestJob)
            .where(
                IngestJob.source == "bulk",
                IngestJob.source_path == source_path,
                IngestJob.sha256 == sha256,
                IngestJob.status.in_(
                    [IngestStatus.STORED, IngestStatus.DUPLICATE, IngestStatus.QUARANTINED]
                ),
            )
            .limit(1)
        )


def import_tree(
    arc: Archive,
    root: Path,
    actor: Actor,
    params: dict[str, Any] | None = None,
    files: list[Path] | None = None,
    progress: Callable[[Path], None] = lambda path: None,
) -> Summary:
    summary = Summary()
    root = root.resolve()
    for path in files if files is not None else files_under(root):
        base = root if path != root else root.parent
        relative = path.relative_to(base).as_posix()
        _import_one(arc, path, base, relative, actor, params or {}, summary)
        progress(path)
    return summary


def _import_one(
    arc: Archive,
    path: Path,
    root: Path,
    relative: str,
    actor: Actor,
    params: dict[str, Any],
    summary: Summary,
) -> None:
    try:
        source = open_regular(path, root=root)
    except NotRegularFile as exc:
        summary.refused.append((relative, str(exc)))
        return
    with source:
        previous = _already_in(arc, relative, hashlib.file_digest(source, "sha256").hexdigest())
        if previous is not None:
            if previous.status == IngestStatus.QUARANTINED:
                summary.quarantined.append((relative, f"(earlier run) {previous.reason}"))
            else:
                summary.skipped += 1
            return
        source.seek(0)
        try:
            job_id = receive_file(
                arc,
                path,
                relative=relative,
                source_kind="bulk",
                actor=actor,
                params=params,
                root=root,
                source=source,
            )
        except (NotRegularFile, MetadataError, ContentError) as exc:
            summary.refused.append((relative, str(exc)))
            return
    status = process(arc, job_id)
    if status == IngestStatus.STORED:
        summary.stored += 1
    elif status == IngestStatus.DUPLICATE:
        summary.duplicates += 1
    else:
        with arc.sessions() as session:
            job = session.get(IngestJob, job_id)
            reason = f"{job.failed_check}: {job.reason}" if job else "unknown"
        summary.quarantined.append((relative, reason))
