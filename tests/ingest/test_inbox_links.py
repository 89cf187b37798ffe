"""The hot folder and bulk import take regular files only, and leave no plaintext behind.

Each test is an attack by someone who can write the inbox (or the tree being imported): a
symbolic link to the archive's own secret, a hard link, a linked directory, a linked sidecar,
a file swapped for another between the check and the open. None of them may make the archive
read a file it was not given; each refusal is a receipt with a reason. After a job ends
(stored or quarantined) only the receipt stays in the inbox, unless the site asked to keep
the originals.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from archive.bootstrap import initialize
from archive.config import ConfigError, load_settings
from archive.core import Archive
from archive.models import IngestJob, IngestStatus, Version
from ingest.bulk import files_under, import_tree
from ingest.hotfolder import HotFolder
from ingest.pipeline import process
from ingest.rules import seed_default_rules
from tests.conftest import make_environ
from tests.ingest import samples
from tests.ingest.conftest import ACTOR, ingest_env

SECRET = b"ARCHIVE_SECRET_KEY=forge-me-a-director-cookie-5d41402abc4b2a76b9719d911017c592\n"
MARKER = "PLAINTEXT-MARKER-91c2"
ARCHIVE = str(Path(sys.executable).with_name("archive"))


def inline_folder(arc: Archive, inbox: Path) -> HotFolder:
    """A hot folder whose 'queue' processes each job at once, like a worker would."""
    return HotFolder(arc, inbox, lambda job_id: process(arc, job_id), settle_seconds=0)


def scan(folder: HotFolder, times: int = 3) -> None:
    for _ in range(times):
        folder.scan_once()


def receipts(inbox: Path) -> list[dict[str, Any]]:
    path = inbox / "receipts" / "receipts.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def jobs(arc: Archive) -> list[IngestJob]:
    with arc.sessions() as session:
        return list(session.scalars(select(IngestJob)))


def nothing_read_from(arc: Archive, secret: Path) -> None:
    """No job holds the secret's bytes, and the secret itself is untouched."""
    digest = hashlib.sha256(SECRET).hexdigest()
    assert [job for job in jobs(arc) if job.sha256 == digest] == []
    assert secret.read_bytes() == SECRET


def left_in(inbox: Path) -> list[str]:
    """Everything in the inbox that is not a directory or the receipts."""
    return sorted(
        p.relative_to(inbox).as_posix()
        for p in inbox.rglob("*")
        if (p.is_symlink() or not p.is_dir()) and p.parent != inbox / "receipts"
    )


def plaintext_in(inbox: Path, content: bytes) -> list[Path]:
    return [
        p
        for p in inbox.rglob("*")
        if p.is_file() and not p.is_symlink() and content in p.read_bytes()
    ]


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """The archive's web secret key, outside the inbox, readable by the archive's user."""
    path = tmp_path / "home-secrets" / "secret_key"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


# --- the hot folder -----------------------------------------------------------------------


def test_a_symlink_in_the_inbox_is_refused_and_its_target_never_read(
    iarc: Archive, tmp_path: Path, secret: Path
) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    (inbox / "CG" / "华东项目").mkdir(parents=True)
    (inbox / "CG" / "华东项目" / "secret.txt").symlink_to(secret)
    scan(folder, 4)
    nothing_read_from(iarc, secret)
    assert jobs(iarc) == []
    [receipt] = receipts(inbox)  # once, not again on every scan
    assert receipt["name"] == "CG/华东项目/secret.txt"
    assert (receipt["outcome"], receipt["job"], receipt["sha256"]) == ("refused", None, None)
    assert "symbolic link" in receipt["reason"]
    assert not (inbox / "CG" / "华东项目" / "secret.txt").is_symlink()  # out of the way


def test_a_dangling_symlink_is_refused_without_stopping_the_scan(
    iarc: Archive, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    inbox.mkdir(exist_ok=True)
    (inbox / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    (inbox / "real.txt").write_text(f"真的文件 {MARKER}", encoding="utf-8")
    scan(folder)
    outcomes = {r["name"]: r["outcome"] for r in receipts(inbox)}
    assert outcomes == {"gone.txt": "refused", "real.txt": "stored"}


def test_a_hard_linked_file_in_the_inbox_is_refused(
    iarc: Archive, tmp_path: Path, secret: Path
) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    inbox.mkdir(exist_ok=True)
    os.link(secret, inbox / "copy.txt")
    scan(folder)
    nothing_read_from(iarc, secret)
    [receipt] = receipts(inbox)
    assert (receipt["name"], receipt["outcome"]) == ("copy.txt", "refused")
    assert "2 hard links" in receipt["reason"]


def test_a_pipe_is_refused_without_blocking_the_watcher(iarc: Archive, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    inbox.mkdir(exist_ok=True)
    os.mkfifo(inbox / "pipe.txt")
    scan(folder)  # opening it to read would wait for a writer forever
    [receipt] = receipts(inbox)
    assert (receipt["name"], receipt["outcome"]) == ("pipe.txt", "refused")
    assert "not a regular file" in receipt["reason"]


def test_a_symlinked_directory_in_the_inbox_is_not_followed(
    iarc: Archive, tmp_path: Path, secret: Path
) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    inbox.mkdir(exist_ok=True)
    (inbox / "CG").symlink_to(secret.parent, target_is_directory=True)
    scan(folder)
    nothing_read_from(iarc, secret)
    assert jobs(iarc) == []
    [receipt] = receipts(inbox)
    assert (receipt["name"], receipt["outcome"]) == ("CG", "refused")
    assert "symbolic link" in receipt["reason"]
    assert secret.exists()  # the linked directory is left alone


def test_a_symlinked_sidecar_is_refused_with_its_file(iarc: Archive, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    inbox.mkdir(exist_ok=True)
    elsewhere = tmp_path / "settings.json"
    elsewhere.write_text(json.dumps({"project": "偷看项目"}), encoding="utf-8")
    (inbox / "scan.txt").write_text("内容", encoding="utf-8")
    (inbox / "scan.txt.json").symlink_to(elsewhere)
    scan(folder)
    assert jobs(iarc) == []
    [receipt] = receipts(inbox)
    assert (receipt["name"], receipt["outcome"]) == ("scan.txt", "refused")
    assert "sidecar" in receipt["reason"]
    assert "symbolic link" in receipt["reason"]
    assert not (inbox / "scan.txt.json").is_symlink()  # travels with its file, not left behind


def _swap_on_open(monkeypatch: pytest.MonkeyPatch, name: str, swap: Callable[[], None]) -> None:
    """Run ``swap`` just before the archive opens ``name``: a race won by the attacker."""
    real_open = os.open
    done: list[bool] = []

    def racing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if not done and not isinstance(path, int) and os.fspath(path).endswith(name):
            done.append(True)
            swap()
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", racing_open)


def test_a_file_swapped_for_a_symlink_after_the_check_is_refused(
    iarc: Archive, tmp_path: Path, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    inbox.mkdir(exist_ok=True)
    target = inbox / "scan.txt"
    target.write_text("一份扫描件", encoding="utf-8")
    folder.scan_once()  # first sighting: a regular file

    def to_link() -> None:
        target.unlink()
        target.symlink_to(secret)

    _swap_on_open(monkeypatch, "scan.txt", to_link)
    folder.scan_once()
    folder.scan_once()
    nothing_read_from(iarc, secret)
    [receipt] = receipts(inbox)
    assert (receipt["name"], receipt["outcome"]) == ("scan.txt", "refused")


def test_a_file_replaced_between_the_check_and_the_open_is_refused(
    iarc: Archive, tmp_path: Path, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    inbox.mkdir(exist_ok=True)
    target = inbox / "scan.txt"
    target.write_text("一份扫描件", encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_bytes(SECRET)
    folder.scan_once()
    _swap_on_open(monkeypatch, "scan.txt", lambda: os.replace(other, target))
    folder.scan_once()
    folder.scan_once()
    assert [job for job in jobs(iarc) if job.sha256 == hashlib.sha256(SECRET).hexdigest()] == []
    [receipt] = receipts(inbox)
    assert (receipt["name"], receipt["outcome"]) == ("scan.txt", "refused")
    assert "replaced" in receipt["reason"]


# --- no plaintext left once the job has ended ------------------------------------------------


def test_a_stored_file_leaves_only_its_receipt_in_the_inbox(iarc: Archive, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    target = inbox / "CG" / "华东项目"
    target.mkdir(parents=True)
    content = f"季度报告 {MARKER} 保密内容\n".encode() * 20
    (target / "报告.txt").write_bytes(content)
    (target / "报告.txt.json").write_text(json.dumps({"date": "2025-11"}), encoding="utf-8")
    scan(folder)
    assert left_in(inbox) == []
    assert plaintext_in(inbox, MARKER.encode()) == []
    [job] = jobs(iarc)
    assert job.status == IngestStatus.STORED
    with iarc.sessions() as session:
        version = session.get(Version, job.version_id)
        assert version is not None
        canonical = version.name
    assert canonical.startswith("华东项目-2025-11-")
    [receipt] = receipts(inbox)
    assert receipt == {
        **receipt,
        "name": "CG/华东项目/报告.txt",
        "job": str(job.id),
        "canonical_name": canonical,
        "sha256": hashlib.sha256(content).hexdigest(),
        "outcome": "stored",
        "reason": None,
        "original": None,
    }


def test_a_quarantined_file_leaves_only_its_receipt_in_the_inbox(
    iarc: Archive, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(iarc, inbox)
    inbox.mkdir(exist_ok=True)
    content = samples.pdf([f"{MARKER} " * 4])[:-300]
    (inbox / "broken.pdf").write_bytes(content)
    scan(folder)
    assert left_in(inbox) == []
    [job] = jobs(iarc)
    assert job.status == IngestStatus.QUARANTINED
    [receipt] = receipts(inbox)
    assert (receipt["name"], receipt["job"], receipt["outcome"]) == (
        "broken.pdf",
        str(job.id),
        "quarantined",
    )
    assert receipt["sha256"] == hashlib.sha256(content).hexdigest()
    assert receipt["canonical_name"] is None
    assert "usability.opens" in receipt["reason"]
    assert receipt["original"] is None


def test_a_job_that_ends_while_the_watcher_is_down_gets_its_receipt_later(
    iarc: Archive, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    queued: list[Any] = []
    folder = HotFolder(iarc, inbox, queued.append, settle_seconds=0)
    (inbox / "a.txt").write_text(f"hello {MARKER}", encoding="utf-8")
    scan(folder, 2)
    [job_id] = queued
    assert receipts(inbox) == []  # not finished yet: no receipt, the job still runs
    process(iarc, job_id)
    inline_folder(iarc, inbox).scan_once()  # a new watcher process
    assert left_in(inbox) == []
    [receipt] = receipts(inbox)
    assert (receipt["job"], receipt["outcome"]) == (str(job_id), "stored")


@pytest.fixture
def keeping_arc(tmp_path: Path, clamav_database: str | None) -> Iterator[Archive]:
    """An archive whose site asked to keep the hot folder's originals (plaintext)."""
    env = ingest_env(make_environ(tmp_path / "home", "sqlite", "local"), clamav_database)
    archive = Archive(load_settings({**env, "ARCHIVE_HOTFOLDER_KEEP_ORIGINALS": "1"}))
    initialize(archive, ACTOR)
    seed_default_rules(archive, ACTOR)
    yield archive
    archive.close()


def test_with_the_setting_the_originals_are_kept(keeping_arc: Archive, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    folder = inline_folder(keeping_arc, inbox)
    (inbox / "CG").mkdir(parents=True)
    (inbox / "CG" / "好.txt").write_text(f"好文件 {MARKER}", encoding="utf-8")
    (inbox / "broken.pdf").write_bytes(samples.pdf(["x" * 40])[:-300])
    scan(folder)
    assert (inbox / "processed" / "CG" / "好.txt").read_text(encoding="utf-8").endswith(MARKER)
    assert (inbox / "failed" / "broken.pdf").exists()
    kept = {r["name"]: r["original"] for r in receipts(inbox)}
    assert kept == {"CG/好.txt": "processed/CG/好.txt", "broken.pdf": "failed/broken.pdf"}


def test_the_keep_originals_setting_is_off_unless_asked_and_validated() -> None:
    assert load_settings({}).ingest.hotfolder_keep_originals is False
    assert load_settings({"ARCHIVE_HOTFOLDER_KEEP_ORIGINALS": "1"}).ingest.hotfolder_keep_originals
    with pytest.raises(ConfigError, match="ARCHIVE_HOTFOLDER_KEEP_ORIGINALS"):
        load_settings({"ARCHIVE_HOTFOLDER_KEEP_ORIGINALS": "yes"})


# --- bulk import ---------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "old-share"
    (root / "2024").mkdir(parents=True)
    (root / "2024" / "report.txt").write_text("月度报表", encoding="utf-8")
    return root


def test_bulk_import_refuses_a_symlink_to_a_file_outside_the_tree(
    iarc: Archive, tree: Path, secret: Path
) -> None:
    (tree / "2024" / "secret.txt").symlink_to(secret)
    summary = import_tree(iarc, tree, ACTOR, {"project": "旧档案"})
    nothing_read_from(iarc, secret)
    assert summary.stored == 1
    [(name, reason)] = summary.refused
    assert name == "2024/secret.txt"
    assert "symbolic link" in reason


def test_bulk_import_refuses_a_hard_linked_file(iarc: Archive, tree: Path, secret: Path) -> None:
    os.link(secret, tree / "copy.txt")
    summary = import_tree(iarc, tree, ACTOR, {"project": "旧档案"})
    nothing_read_from(iarc, secret)
    assert summary.refused == [("copy.txt", summary.refused[0][1])]
    assert "2 hard links" in summary.refused[0][1]


def test_bulk_import_refuses_a_pipe(iarc: Archive, tree: Path) -> None:
    os.mkfifo(tree / "pipe.txt")
    summary = import_tree(iarc, tree, ACTOR, {"project": "旧档案"})
    assert summary.stored == 1
    [(name, reason)] = summary.refused
    assert name == "pipe.txt"
    assert "not a regular file" in reason


def test_bulk_import_does_not_descend_a_symlinked_directory(
    iarc: Archive, tree: Path, secret: Path
) -> None:
    (tree / "linked").symlink_to(secret.parent, target_is_directory=True)
    assert tree / "linked" / "secret_key" not in files_under(tree)
    summary = import_tree(iarc, tree, ACTOR, {"project": "旧档案"})
    nothing_read_from(iarc, secret)
    assert summary.stored == 1
    [(name, reason)] = summary.refused  # said, not silently skipped
    assert name == "linked"
    assert "symbolic link" in reason


def test_bulk_import_refuses_a_symlinked_sidecar(iarc: Archive, tree: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "settings.json"
    elsewhere.write_text(json.dumps({"project": "偷看项目"}), encoding="utf-8")
    (tree / "2024" / "report.txt.json").symlink_to(elsewhere)
    summary = import_tree(iarc, tree, ACTOR)
    assert summary.stored == 0
    [(name, reason)] = summary.refused
    assert name == "2024/report.txt"
    assert "sidecar" in reason
    assert "symbolic link" in reason


def test_archive_import_prints_the_refused_link_and_ingests_the_rest(
    iarc: Archive, tree: Path, secret: Path, tmp_path: Path, clamav_database: str | None
) -> None:
    (tree / "secret.txt").symlink_to(secret)
    os.link(secret, tree / "2024" / "copy.txt")
    env = ingest_env(make_environ(tmp_path / "home", "sqlite", "local"), clamav_database)
    proc = subprocess.run(
        [ARCHIVE, "import", str(tree), "--project", "旧档案"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert "1 stored" in proc.stdout
    assert "2 refused" in proc.stdout
    assert "REFUSED secret.txt: " in proc.stdout
    assert "REFUSED 2024/copy.txt: " in proc.stdout
    nothing_read_from(iarc, secret)
    with iarc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Version)) == 1
