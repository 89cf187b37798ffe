"""The scanners' hot folder: wait until a file is complete, ingest it, keep a receipt of it.

Polling rather than inotify: scanners often write over SMB/NFS, where change events do not
arrive, and a settle check (size and mtime unchanged for a few seconds) is needed anyway to
know a scanner has finished writing.

Whoever can write the inbox is not trusted: only a regular file with a single link is taken,
opened without following any link (:func:`~ingest.jobs.receipt.open_regular`), and a linked
folder is never entered. Anything else is refused: it moves, itself and never what it points
at, to ``failed/`` and gets a receipt with the reason. A file moves to ``.pending/<job id>/``
as soon as its job is committed (so it is never ingested twice); once the job ends (stored,
duplicate or quarantined) its receipt is appended to ``receipts/receipts.jsonl`` and the
file and its sidecar are deleted: the archive holds the document encrypted, and no plaintext
copy stays in the inbox. A site that sets ``ARCHIVE_HOTFOLDER_KEEP_ORIGINALS=1`` keeps them,
in plaintext, under ``processed/`` or ``failed/``. Every move and delete is made through
folder descriptors opened without following links, so a link planted in the inbox cannot
send them elsewhere.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import stat
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.orm import Session

from archive.audit import Actor
from archive.content import ContentError
from archive.core import Archive
from archive.db import utcnow
from archive.models import IngestJob, IngestStatus, Version
from ingest.jobs import receive_file
from ingest.jobs.receipt import NotRegularFile, not_regular, open_directory, open_regular
from ingest.metadata import MetadataError, is_sidecar, sidecar_path

log = logging.getLogger(__name__)
PENDING, PROCESSED, FAILED, RECEIPTS = ".pending", "processed", "failed", "receipts"
RECEIPTS_FILE = "receipts.jsonl"
_OWN = (PENDING, PROCESSED, FAILED, RECEIPTS)
_SKIP_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".swp", ".reason.txt")
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass
class HotFolder:
    arc: Archive
    inbox: Path
    enqueue: Callable[[uuid.UUID], object]
    settle_seconds: float = 2.0
    actor: Actor = field(default_factory=lambda: Actor(f"hotfolder@{socket.gethostname()}"[:64]))
    keep_originals: bool | None = None  # None: ARCHIVE_HOTFOLDER_KEEP_ORIGINALS
    _seen: dict[Path, tuple[int, int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.keep_originals is None:
            self.keep_originals = self.arc.settings.ingest.hotfolder_keep_originals
        self.inbox.mkdir(parents=True, exist_ok=True)
        for name in (PENDING, FAILED, RECEIPTS, *([PROCESSED] if self.keep_originals else [])):
            (self.inbox / name).mkdir(exist_ok=True)

    def run(self, interval: float = 1.0, stop: Callable[[], bool] = lambda: False) -> None:
        while not stop():
            self.scan_once()
            time.sleep(interval)

    def scan_once(self) -> None:
        if not self._own_folders_intact():
            return
        now = time.monotonic()
        for path in self._candidates():
            try:
                info = os.lstat(path)  # the entry itself: a link is not followed
            except FileNotFoundError:
                continue
            signature = (info.st_size, info.st_mtime_ns)
            seen = self._seen.get(path)
            if seen is None or seen[:2] != signature:
                self._seen[path] = (*signature, now)
                continue
            if now - seen[2] >= self.settle_seconds:
                del self._seen[path]
                self._take(path)
        self._finish_pending()

    def _own_folders_intact(self) -> bool:
        """The inbox's own folders are real folders, not links someone put there."""
        for name in _OWN:
            try:
                info = os.lstat(self.inbox / name)
            except FileNotFoundError:
                continue
            if not stat.S_ISDIR(info.st_mode):
                log.error("hot folder: %s is not a folder (a link?); not scanning", name)
                return False
        return True

    def _candidates(self) -> Iterator[Path]:
        for root, dirs, files in os.walk(self.inbox):  # never descends a linked folder
            here = Path(root)
            if here == self.inbox:
                dirs[:] = [d for d in dirs if d not in _OWN]
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            linked = [d for d in dirs if os.path.islink(here / d)]
            dirs[:] = [d for d in dirs if d not in linked]
            names = set(files)
            for name in sorted([*files, *linked]):  # a linked folder is refused, not skipped
                if name.startswith((".", "~$")) or name.endswith(_SKIP_SUFFIXES):
                    continue
                if is_sidecar(name, names):
                    continue  # a sidecar travels with its file
                yield here / name

    def _take(self, path: Path) -> None:
        relative = path.relative_to(self.inbox).as_posix()
        try:
            source = open_regular(path, root=self.inbox)
        except FileNotFoundError:
            return  # gone before it settled
        except NotRegularFile as exc:
            self._refuse(path, relative, str(exc))
            return
        with source:
            taken = os.fstat(source.fileno())
            try:
                job_id = receive_file(
                    self.arc,
                    path,
                    relative=relative,
                    source_kind="hotfolder",
                    actor=self.actor,
                    root=self.inbox,
                    source=source,
                )
            except (NotRegularFile, MetadataError, ContentError) as exc:
                self._refuse(path, relative, str(exc))
                return
        try:
            self._move(_folder_of(relative), _entries(path, taken), [PENDING, str(job_id)])
        except (NotRegularFile, OSError) as exc:
            log.error("hot folder: job %s: could not set %s aside: %s", job_id, relative, exc)
        log.info("hot folder: %s is job %s", relative, job_id)
        self.enqueue(job_id)

    def _refuse(self, path: Path, relative: str, reason: str) -> None:
        """Move what was refused (the entry, never a link's target) to failed/, with a receipt."""
        log.warning("hot folder: refused %s: %s", relative, reason)
        original, folder = None, _folder_of(relative)
        try:
            moved = self._move(folder, _entries(path), [FAILED, *folder])
            original = "/".join([FAILED, *folder, moved[path.name]])
        except (NotRegularFile, OSError, KeyError) as exc:
            log.error("hot folder: could not move refused %s to %s: %s", relative, FAILED, exc)
        receipt = {
            "at": utcnow().isoformat(),
            "name": relative,
            "job": None,
            "canonical_name": None,
            "sha256": None,
            "outcome": "refused",
            "reason": reason,
            "original": original,
        }
        try:
            self._write_receipt(receipt)
        except (NotRegularFile, OSError) as exc:
            log.error("hot folder: no receipt for refused %s: %s", relative, exc)

    def _finish_pending(self) -> None:
        try:
            pending = open_directory(self.inbox, [PENDING])
        except (NotRegularFile, FileNotFoundError) as exc:
            log.error("hot folder: %s: %s", PENDING, exc)
            return
        try:
            job_ids = [job_id for name in os.listdir(pending) if (job_id := _uuid(name))]
            if not job_ids:
                return
            with self.arc.sessions() as session:
                for job_id in job_ids:
                    job = session.get(IngestJob, job_id)
                    if job is None or not job.status.finished:
                        continue
                    try:
                        self._finish(session, pending, job)
                    except (NotRegularFile, OSError) as exc:
                        log.error("hot folder: job %s: no receipt yet: %s", job_id, exc)
        finally:
            os.close(pending)

    def _finish(self, session: Session, pending: int, job: IngestJob) -> None:
        """Receipt, then the plaintext goes (or, if the site asked, is kept aside)."""
        entry = str(job.id)
        if not self.keep_originals:
            self._write_receipt(_receipt(session, job, original=None))
            shutil.rmtree(entry, dir_fd=pending)  # fd-based: never follows a link
            return
        relative = job.source_path or job.original_filename
        target = [FAILED if job.status == IngestStatus.QUARANTINED else PROCESSED]
        target += _folder_of(relative)
        folder = open_directory(self.inbox, [PENDING, entry])
        try:
            names = sorted(os.listdir(folder))
        finally:
            os.close(folder)
        moved = self._move([PENDING, entry], names, target)
        os.rmdir(entry, dir_fd=pending)
        name = PurePosixPath(relative).name
        original = "/".join([*target, moved[name]]) if name in moved else None
        self._write_receipt(_receipt(session, job, original=original))

    def _move(
        self, source: Sequence[str], names: Sequence[str], target: Sequence[str]
    ) -> dict[str, str]:
        """Move entries between folders of the inbox (made if missing), by descriptor, so a
        link is moved as itself and no link on the way is followed; return the new names."""
        moved: dict[str, str] = {}
        if not names:
            return moved
        src = open_directory(self.inbox, source)
        try:
            dst = open_directory(self.inbox, target, create=True)
            try:
                for name in names:
                    free = _free_name(dst, name)
                    os.rename(name, free, src_dir_fd=src, dst_dir_fd=dst)
                    moved[name] = free
            finally:
                os.close(dst)
        finally:
            os.close(src)
        return moved

    def _write_receipt(self, receipt: dict[str, Any]) -> None:
        """Append one JSON line to receipts/receipts.jsonl (one write, so lines never mix)."""
        data = (json.dumps(receipt, ensure_ascii=False) + "\n").encode("utf-8")
        folder = open_directory(self.inbox, [RECEIPTS], create=True)
        try:
            fd = os.open(RECEIPTS_FILE, _APPEND, 0o666, dir_fd=folder)
        finally:
            os.close(folder)
        try:
            reason = not_regular(os.fstat(fd))
            if reason is not None:
                raise NotRegularFile(f"{RECEIPTS}/{RECEIPTS_FILE} is {reason}")
            while data:
                data = data[os.write(fd, data) :]
        finally:
            os.close(fd)


def _receipt(session: Session, job: IngestJob, original: str | None) -> dict[str, Any]:
    canonical, reason = None, None
    if job.status == IngestStatus.STORED and job.version_id is not None:
        version = session.get(Version, job.version_id)
        canonical = version.name if version is not None else None
    elif job.status == IngestStatus.QUARANTINED:
        reason = f"{job.failed_check}: {job.reason}"
    elif job.status == IngestStatus.DUPLICATE:
        reason = "the same content is already a version of the record: nothing new stored"
    return {
        "at": utcnow().isoformat(),
        "name": job.source_path or job.original_filename,
        "job": str(job.id),
        "canonical_name": canonical,
        "sha256": job.sha256,
        "outcome": job.status.value,
        "reason": reason,
        "original": original,
    }


def _folder_of(relative: str) -> list[str]:
    return list(PurePosixPath(relative).parent.parts)


def _entries(path: Path, taken: os.stat_result | None = None) -> list[str]:
    """The file's name and its sidecar's, if there; with ``taken``, the file only if it is
    still the one that was read (not something swapped in since)."""
    names = []
    try:
        info = os.lstat(path)
        if taken is None or (info.st_dev, info.st_ino) == (taken.st_dev, taken.st_ino):
            names.append(path.name)
    except FileNotFoundError:
        pass
    if os.path.lexists(sidecar_path(path)):
        names.append(sidecar_path(path).name)
    return names


def _uuid(name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(name)
    except ValueError:
        return None


def _free_name(folder: int, name: str) -> str:
    def taken(candidate: str) -> bool:
        try:
            os.lstat(candidate, dir_fd=folder)
        except FileNotFoundError:
            return False
        return True

    if not taken(name):
        return name
    path = PurePosixPath(name)
    for serial in range(2, 10_000):
        candidate = f"{path.stem}({serial}){path.suffix}"
        if not taken(candidate):
            return candidate
    raise FileExistsError(name)
