"""The scanners' hot folder: wait until a file is complete, ingest it, file it away after.

Polling rather than inotify: scanners often write over SMB/NFS, where change events do not
arrive, and a settle check (size and mtime unchanged for a few seconds) is needed anyway to
know a scanner has finished writing. A file moves to ``.pending/<job id>/`` as soon as its
job is committed (so it is never ingested twice), then to ``processed/`` or to ``failed/``
with a ``.reason.txt`` once the job ends. Nothing is deleted.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from archive.audit import Actor
from archive.content import ContentError
from archive.core import Archive
from archive.models import IngestJob, IngestStatus
from ingest.jobs import receive_file
from ingest.metadata import SIDECAR_SUFFIX, MetadataError, is_sidecar, sidecar_path

log = logging.getLogger(__name__)
PENDING, PROCESSED, FAILED = ".pending", "processed", "failed"
_SKIP_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".swp", ".reason.txt")


@dataclass
class HotFolder:
    arc: Archive
    inbox: Path
    enqueue: Callable[[uuid.UUID], object]
    settle_seconds: float = 2.0
    actor: Actor = field(default_factory=lambda: Actor(f"hotfolder@{socket.gethostname()}"[:64]))
    _seen: dict[Path, tuple[int, int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in (PENDING, PROCESSED, FAILED):
            (self.inbox / name).mkdir(parents=True, exist_ok=True)

    def run(self, interval: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            self.scan_once()
            time.sleep(interval)

    def scan_once(self) -> None:
        now = time.monotonic()
        for path in self._candidates():
            stat = path.stat()
            signature = (stat.st_size, stat.st_mtime_ns)
            seen = self._seen.get(path)
            if seen is None or seen[:2] != signature:
                self._seen[path] = (*signature, now)
                continue
            if now - seen[2] >= self.settle_seconds:
                del self._seen[path]
                self._take(path)
        self._finish_pending()

    def _candidates(self) -> Iterator[Path]:
        for root, dirs, files in os.walk(self.inbox):
            here = Path(root)
            if here == self.inbox:
                dirs[:] = [d for d in dirs if d not in (PENDING, PROCESSED, FAILED)]
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            names = set(files)
            for name in sorted(files):
                if name.startswith((".", "~$")) or name.endswith(_SKIP_SUFFIXES):
                    continue
                if is_sidecar(name, names):
                    continue  # a sidecar travels with its file
                yield here / name

    def _take(self, path: Path) -> None:
        relative = path.relative_to(self.inbox).as_posix()
        try:
            job_id = receive_file(
                self.arc, path, relative=relative, source_kind="hotfolder", actor=self.actor
            )
        except (MetadataError, ContentError) as exc:
            self._file_away(path, FAILED, relative, reason=str(exc))
            return
        pending = self.inbox / PENDING / str(job_id)
        pending.mkdir(parents=True, exist_ok=True)
        shutil.move(path, pending / path.name)
        sidecar = sidecar_path(path)
        if sidecar.exists():
            shutil.move(sidecar, pending / sidecar.name)
        log.info("hot folder: %s is job %s", relative, job_id)
        self.enqueue(job_id)

    def _finish_pending(self) -> None:
        pending_root = self.inbox / PENDING
        entries = [p for p in pending_root.iterdir() if p.is_dir()]
        if not entries:
            return
        with self.arc.sessions() as session:
            for entry in entries:
                try:
                    job = session.get(IngestJob, uuid.UUID(entry.name))
                except ValueError:
                    continue
                if job is None or not job.status.finished:
                    continue
                relative = job.source_path or job.original_filename
                if job.status == IngestStatus.QUARANTINED:
                    reason = f"{job.failed_check}: {job.reason}\njob {job.id}\n"
                    self._move_tree(entry, FAILED, relative, reason)
                else:
                    self._move_tree(entry, PROCESSED, relative, None)

    def _move_tree(self, entry: Path, target: str, relative: str, reason: str | None) -> None:
        for item in sorted(entry.iterdir()):
            rel = str(Path(relative).parent / item.name)
            is_metadata = item.name.endswith(SIDECAR_SUFFIX)
            self._file_away(item, target, rel, None if is_metadata else reason)
        entry.rmdir()

    def _file_away(self, path: Path, target: str, relative: str, reason: str | None) -> None:
        destination = _free_path(self.inbox / target / relative)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, destination)
        if reason is not None:
            destination.with_name(destination.name + ".reason.txt").write_text(
                reason, encoding="utf-8"
            )


def _free_path(path: Path) -> Path:
    if not path.exists():
        return path
    for serial in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}({serial}){path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(path)
