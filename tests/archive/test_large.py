"""A 1 GiB file streams in and out with bounded memory (RSS measured in a child process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = r'''
import hashlib, io, json, os, sys
from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import NewRecord, read_content, store
from archive.core import Archive
from archive.models import Version

SIZE = int(sys.argv[2])


def peak_rss_mb():
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the parent
    # through fork and exec, so under pytest it reports the test runner's size.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

class Generated(io.RawIOBase):
    """SIZE pseudo-random bytes, produced on demand and hashed as they go."""
    def __init__(self):
        self.left, self.digest, self.block = SIZE, hashlib.sha256(), os.urandom(1 << 20)
    def readable(self):
        return True
    def readinto(self, buffer):
        n = min(len(buffer), self.left, len(self.block))
        self.block = hashlib.sha256(self.block[:32]).digest() + self.block[32:]  # vary it
        buffer[:n] = self.block[:n]
        self.digest.update(self.block[:n])
        self.left -= n
        return n

arc = Archive(load_settings({"ARCHIVE_HOME": sys.argv[1]}))
initialize(arc, Actor.cli())
source = io.BufferedReader(Generated(), 1 << 20)
result = store(arc, source, actor=Actor.cli(), original_filename="big.bin",
               media_type="application/octet-stream",
               new_record=NewRecord(project="大文件项目", title="1 GiB"))
after_store = peak_rss_mb()
read_back, size = hashlib.sha256(), 0
with arc.sessions() as session:
    for chunk in read_content(arc, session, session.get(Version, result.version_id)):
        read_back.update(chunk)
        size += len(chunk)
print(json.dumps({
    "generated": source.raw.digest.hexdigest(), "recorded": result.sha256,
    "read": read_back.hexdigest(), "size": size,
    "max_rss_mb_after_store": after_store,
    "max_rss_mb": peak_rss_mb(),
}))
'''


@pytest.mark.slow
def test_one_gib_streams_with_bounded_memory(tmp_path: Path) -> None:
    size = 1 << 30
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "home"), str(size)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["size"] == size
    assert result["generated"] == result["recorded"] == result["read"]
    assert result["max_rss_mb"] < 150, {k: v for k, v in result.items() if "rss" in k}
    blobs = [p for p in (tmp_path / "home" / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1
    assert blobs[0].stat().st_size > size
