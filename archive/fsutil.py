"""Durable file writes (temp file in the same directory, fsync, rename, fsync the directory)
and a file's SHA-256 read in 1 MiB chunks."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_chunks(path: Path, chunks: Iterable[bytes], mode: int = 0o600) -> int:
    """Write ``chunks`` to ``path`` so readers see the old file or the whole new one.

    Returns the number of bytes written. A crash or an exception from ``chunks`` leaves no
    partial file behind.
    """
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    tmp = Path(tmp_name)
    written = 0
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return written


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o600) -> None:
    atomic_write_chunks(path, [data], mode)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


#: What the archive creates is its owner's alone: files 0600, directories 0700.
PRIVATE_UMASK = 0o077


def keep_private() -> None:
    """From now on this process creates files and directories for its owner only (the
    database file, the index, the blob directory, logs and reports included)."""
    os.umask(PRIVATE_UMASK)


def make_private(root: Path, shallow: tuple[str, ...] = ("blobs",)) -> int:
    """Take group and other permissions off everything under ``root`` (an installation made
    before ``keep_private``); links are left alone, never followed. The ``shallow`` folders
    (the blob store: ciphertext, maybe millions of files) are fixed themselves, not walked.
    Returns how many modes changed."""
    changed = 0
    stack = [root]
    while stack:
        path = stack.pop()
        if path.is_symlink() or not path.exists():
            continue
        mode = path.lstat().st_mode & 0o7777
        if mode & PRIVATE_UMASK:
            path.chmod(mode & ~PRIVATE_UMASK)
            changed += 1
        if path.is_dir() and not (path.parent == root and path.name in shallow):
            stack.extend(path.iterdir())
    return changed
