"""Backup to a bag, restore onto a clean installation, and prove nothing was lost."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import bagit
import pytest
from sqlalchemy import func, select

from archive.accesslog import ALLOWED, REFUSED, Client, log_access
from archive.audit import verify_chain
from archive.backup import BackupError, backup, verify_backup
from archive.bag_seal import SEAL_FILE
from archive.bootstrap import initialize
from archive.checkpoints import verify_all
from archive.config import load_settings
from archive.content import ContentDestroyed
from archive.core import Archive
from archive.db import Base
from archive.keys import destroy_version_content
from archive.models import AuditEvent, RecordState, Tombstone, Version
from archive.restore import restore
from tests.archive.test_content import ACTOR, put, raw_blob, read
from tests.conftest import make_environ

DATA = {
    "contract": "采购合同 甲方 乙方 第一版\n".encode() * 300,
    "contract-v2": "采购合同 甲方 乙方 第二版\n".encode() * 300,
    "invoice": "发票 invoice 2026-07\n".encode() * 50,
    "doomed": "将被销毁的会议纪要\n".encode() * 40,
}


def _counts(arc: Archive) -> dict[str, int]:
    with arc.sessions() as session:
        return {
            t.name: session.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def _fill(arc: Archive) -> dict[str, uuid.UUID]:
    ids = {"contract": put(arc, DATA["contract"])}
    with arc.sessions() as session:
        record_id = session.get_one(Version, ids["contract"]).record_id
    ids["contract-v2"] = put(arc, DATA["contract-v2"], record_id=record_id)
    ids["invoice"] = put(arc, DATA["invoice"], project="财务项目")
    ids["doomed"] = put(arc, DATA["doomed"], project="会议项目")
    with arc.transaction() as session:
        for outcome in (ALLOWED, REFUSED):
            log_access(
                session,
                None,
                Client("10.0.0.7", "pytest"),
                "view",
                outcome,
                record_id=record_id,
                reason="" if outcome == ALLOWED else "no grant",
            )
    return ids


@pytest.fixture
def clean_target(tmp_path: Path, arc: Archive) -> Iterator[Archive]:
    """A fresh data directory on the embedded default, given a copy of the source keyring:
    the keyring is backed up apart from the bag and comes back from there."""
    keyring = tmp_path / "keyring-backup" / "keyring.json"
    keyring.parent.mkdir()
    shutil.copy(arc.settings.keyring_path, keyring)
    env = make_environ(tmp_path / "restored", "sqlite", "local")
    target = Archive(load_settings({**env, "ARCHIVE_KEYRING": str(keyring)}))
    yield target
    target.close()


def test_restore_onto_a_clean_machine_matches_and_keeps_destroyed_content_gone(
    arc: Archive, clean_target: Archive, tmp_path: Path
) -> None:
    ids = _fill(arc)
    bag = tmp_path / "bag-2026-11-23"
    made = backup(arc, ACTOR, bag)
    assert made.blobs == 4
    assert made.blob_bytes == sum(len(raw_blob(arc, v)) for v in ids.values())
    with arc.sessions() as session:
        head = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert head is not None
        assert head.action == "backup.created"
        head_at_backup = (head.seq - 1, head.prev_hash)  # the chain as the bag holds it
    # After the bag was made, disposition destroys one version (and copies the keyring
    # again, as the README asks after every disposition).
    destroy_version_content(arc, ACTOR, ids["doomed"], "销毁清册 XH-2026-001")
    shutil.copy(arc.settings.keyring_path, clean_target.settings.keyring_path)

    checked = verify_backup(bag, arc.keyring)
    assert checked.ok, checked.problems
    assert checked.notes == []
    assert all(chain.keyed for chain in checked.chains.values())
    unkeyed = verify_backup(bag)  # without the keyring: links only, and it says so
    assert unkeyed.ok, unkeyed.problems
    assert "no keyring" in unkeyed.notes[0]
    assert checked.chains["audit chain"].head_hash == head_at_backup[1]
    assert checked.chains["access log"].count == 2

    report = restore(clean_target, ACTOR, bag)
    assert report.tables == made.tables
    assert report.shredded_since == 1
    restored = _counts(clean_target)
    # backup.reshredded and backup.restored; the doomed version was its record's only one,
    # so that record is destroyed here too: a tombstone, and out of the index.
    added = {"audit_events": 2, "tombstones": 1, "record_changes": 1}
    for table, count in made.tables.items():
        assert restored[table] == count + added.get(table, 0), table
    with clean_target.sessions() as session:
        gone = session.get_one(Version, ids["doomed"]).record
        assert gone.state == RecordState.DISPOSED
        tombstone = session.get_one(Tombstone, gone.id)
        assert "after this backup was made" in tombstone.reason
        assert (
            tombstone.description["versions"][0]["name"]
            == session.get_one(Version, ids["doomed"]).name
        )
    for name, version_id in ids.items():
        if name == "doomed":
            with pytest.raises(ContentDestroyed):
                read(clean_target, version_id)
            continue
        content = read(clean_target, version_id)
        assert content == DATA[name]
        assert raw_blob(clean_target, version_id) == raw_blob(arc, version_id)
        with clean_target.sessions() as session:
            recorded = session.get_one(Version, version_id).sha256
        assert recorded == hashlib.sha256(content).hexdigest()
    with clean_target.sessions() as session:
        chain = verify_chain(session)
        assert chain.ok, chain.problem
        # The bag's signed checkpoints came back with the chains, and still hold.
        audit = verify_all(session, clean_target.keyring, clean_target.settings.checkpoint_path)
        assert audit.ok, audit.problems()
        assert audit.checkpoints.count >= 2
        seq, digest = head_at_backup
        assert session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq)) == digest
    doomed_key = _object_key(clean_target, ids["doomed"])
    assert not clean_target.blobs.exists(doomed_key)  # the restored blob went again


def _object_key(arc: Archive, version_id: uuid.UUID) -> str:
    with arc.sessions() as session:
        return session.get_one(Version, version_id).object_key


def test_a_bag_from_sqlite_restores_onto_postgresql(
    sqlite_arc: Archive, pg_url: str, tmp_path: Path
) -> None:
    ids = _fill(sqlite_arc)
    backup(sqlite_arc, ACTOR, tmp_path / "bag")
    env = make_environ(tmp_path / "pg-home", pg_url, "local")
    target = Archive(
        load_settings({**env, "ARCHIVE_KEYRING": str(sqlite_arc.settings.keyring_path)})
    )
    try:
        restore(target, ACTOR, tmp_path / "bag")
        assert read(target, ids["contract-v2"]) == DATA["contract-v2"]
        # Sequences were moved past the restored ids: the archive keeps working.
        new = put(target, "恢复后的新文件".encode())
        assert read(target, new) == "恢复后的新文件".encode()
        with target.sessions() as session:
            assert verify_chain(session).ok
            audit = verify_all(session, target.keyring, target.settings.checkpoint_path)
            assert audit.ok, audit.problems()
    finally:
        target.close()


def test_verify_names_what_was_altered(sqlite_arc: Archive, tmp_path: Path) -> None:
    _fill(sqlite_arc)
    bag_dir = tmp_path / "bag"
    backup(sqlite_arc, ACTOR, bag_dir)
    blob = next((bag_dir / "data" / "blobs").iterdir())
    damaged = bytearray(blob.read_bytes())
    damaged[40] ^= 1
    blob.write_bytes(bytes(damaged))
    problems = verify_backup(bag_dir).problems
    assert any(blob.name in p for p in problems), problems

    # Someone who rewrites an audit row and the bag's manifests too is caught by the chain.
    blob.write_bytes(bytes(damaged[:40]) + bytes([damaged[40] ^ 1]) + bytes(damaged[41:]))
    events = bag_dir / "data" / "database" / "audit_events.jsonl"
    rows = [json.loads(line) for line in events.read_text("utf-8").splitlines()]
    rows[1]["actor"] = "someone-else"
    events.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    bagit.Bag(str(bag_dir)).save(manifests=True)
    report = verify_backup(bag_dir, sqlite_arc.keyring)
    assert not report.ok
    assert report.chains["audit chain"].problem
    assert f"#{rows[1]['seq']}" in report.chains["audit chain"].problem


def test_restore_refuses_a_used_archive_and_a_missing_keyring(
    sqlite_arc: Archive, tmp_path: Path
) -> None:
    _fill(sqlite_arc)
    backup(sqlite_arc, ACTOR, tmp_path / "bag")
    with pytest.raises(BackupError, match=r"empty (archive|blob store)"):
        restore(sqlite_arc, ACTOR, tmp_path / "bag")
    env = make_environ(tmp_path / "elsewhere", "sqlite", "local")
    lost = Archive(load_settings({**env, "ARCHIVE_KEYRING": str(tmp_path / "nowhere.json")}))
    try:
        with pytest.raises(BackupError, match="keyring"):
            restore(lost, ACTOR, tmp_path / "bag")
        initialize(lost, ACTOR)  # a new, different keyring
        with pytest.raises(BackupError, match="lacks"):
            restore(lost, ACTOR, tmp_path / "bag")
    finally:
        lost.close()
    with pytest.raises(BackupError, match="already exists"):
        backup(sqlite_arc, ACTOR, tmp_path / "bag")


def test_restore_refuses_a_forged_bag_and_a_store_in_use(
    sqlite_arc: Archive, tmp_path: Path
) -> None:
    """A bag whose history was rewritten (manifests regenerated, checkpoints dropped) is not
    brought back to be signed anew; nor is a bag restored into a store another installation
    uses (a drill with the production env file), whose objects a collection would delete."""
    _fill(sqlite_arc)
    bag_dir = tmp_path / "bag"
    backup(sqlite_arc, ACTOR, bag_dir)
    keyring = tmp_path / "keyring-copy.json"
    shutil.copy(sqlite_arc.settings.keyring_path, keyring)

    shared = make_environ(tmp_path / "drill", "sqlite", "local")
    drill = Archive(
        load_settings(
            {**shared, "ARCHIVE_KEYRING": str(keyring),
             "ARCHIVE_STORAGE_URL": sqlite_arc.settings.storage_url}
        )
    )  # fmt: skip
    try:
        with pytest.raises(BackupError, match="empty blob store"):
            restore(drill, ACTOR, bag_dir)
    finally:
        drill.close()

    events = bag_dir / "data" / "database" / "audit_events.jsonl"
    rows = [json.loads(line) for line in events.read_text("utf-8").splitlines()]
    rows[1]["actor"] = "nobody"
    events.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    (bag_dir / "data" / "checkpoints.jsonl").unlink()
    bagit.Bag(str(bag_dir)).save(manifests=True)
    env = make_environ(tmp_path / "elsewhere", "sqlite", "local")
    target = Archive(load_settings({**env, "ARCHIVE_KEYRING": str(keyring)}))
    try:
        with pytest.raises(BackupError, match="fails verification"):
            restore(target, ACTOR, bag_dir)
    finally:
        target.close()


def test_a_bag_edited_and_re_manifested_is_refused_by_its_seal(
    sqlite_arc: Archive, tmp_path: Path
) -> None:
    """The attack: a user's role changed in the bag's users table (here a department's
    name: a table no chain covers), the manifests and
    Payload-Oxum rewritten (plain SHA-256): the bag verified and restored a director nobody
    approved. The seal, keyed by the keyring kept apart, does not hold on the new manifests;
    a bag made before seals is read only when asked for (``--unsealed``), never a wrong one."""
    _fill(sqlite_arc)
    bag_dir = tmp_path / "bag"
    backup(sqlite_arc, ACTOR, bag_dir)
    assert verify_backup(bag_dir, sqlite_arc.keyring).ok
    table = bag_dir / "data" / "database" / "departments.jsonl"  # not chained, like users
    rows = [json.loads(line) for line in table.read_text("utf-8").splitlines()]
    assert rows
    rows[0]["name"] = "改过的部门"
    table.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    bagit.Bag(str(bag_dir)).save(manifests=True)  # manifests, Payload-Oxum, tag manifest
    assert verify_backup(bag_dir).ok  # without the keyring only the manifests: they agree
    report = verify_backup(bag_dir, sqlite_arc.keyring)
    assert any("manifests were changed" in p for p in report.problems), report.problems
    (bag_dir / SEAL_FILE).unlink()  # dropping the seal does not help
    assert not verify_backup(bag_dir, sqlite_arc.keyring).ok
    keyring = tmp_path / "keyring-copy.json"
    shutil.copy(sqlite_arc.settings.keyring_path, keyring)
    env = make_environ(tmp_path / "elsewhere", "sqlite", "local")
    target = Archive(load_settings({**env, "ARCHIVE_KEYRING": str(keyring)}))
    try:
        with pytest.raises(BackupError, match=r"fails (verification|validation)"):
            restore(target, ACTOR, bag_dir)
        # Asked to accept a bag from before seals, it still checks the chains and the rest:
        # the users table is not chained, which is why the seal exists.
        unsealed = verify_backup(bag_dir, target.keyring, unsealed_ok=True)
        assert any("no seal" in note for note in unsealed.notes)
    finally:
        target.close()
