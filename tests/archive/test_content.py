"""Storing and reading versions on every database × storage combination."""

from __future__ import annotations

import hashlib
import io
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from archive.audit import Actor
from archive.content import (
    ContentDestroyed,
    ContentError,
    NewRecord,
    read_content,
    store,
)
from archive.content.seal import content_binding
from archive.core import Archive
from archive.crypto import ContentIntegrityError
from archive.crypto.keyring import Keyring, KeyringError, WrappedKey
from archive.fixity import verify_fixity
from archive.keys import destroy_version_content, retire_old_keys, rotate_keys
from archive.models import AuditEvent, DataKey, Record, Version
from archive.people import PeopleError
from archive.signals import version_stored
from archive.storage import LocalBlobStore
from retention.registers import register_day

ACTOR = Actor(name="tester")
CN_MARKER = "绝密合同条款甲方乙方"
EN_MARKER = "PLAINTEXT-MARKER-7f3a"


def put(arc: Archive, data: bytes, project: str = "XX项目", **kwargs: object) -> uuid.UUID:
    spec = (
        None
        if "record_id" in kwargs
        else NewRecord(project=project, title="测试文件", when="2023-01")
    )
    result = store(
        arc,
        io.BytesIO(data),
        actor=ACTOR,
        original_filename="合同.txt",
        media_type="text/plain",
        new_record=spec,
        **kwargs,
    )  # type: ignore[arg-type]
    return result.version_id


def read(arc: Archive, version_id: uuid.UUID) -> bytes:
    with arc.sessions() as session:
        version = session.get(Version, version_id)
        assert version is not None
        return b"".join(read_content(arc, session, version))


def raw_blob(arc: Archive, version_id: uuid.UUID) -> bytes:
    with arc.sessions() as session:
        version = session.get(Version, version_id)
        assert version is not None
        with arc.blobs.open(version.object_key) as blob:
            return blob.read()


def replace_blob(arc: Archive, version_id: uuid.UUID, data: bytes) -> None:
    with arc.sessions() as session:
        version = session.get(Version, version_id)
        assert version is not None
        arc.blobs.put(version.object_key, [data])


def test_store_and_read_back(arc: Archive) -> None:
    data = f"{CN_MARKER}\n{EN_MARKER}\n".encode() * 1000
    received: list[uuid.UUID] = []

    def listener(_sender: object, version_id: uuid.UUID, record_id: uuid.UUID) -> None:
        received.append(version_id)

    version_stored.connect(listener)
    try:
        version_id = put(arc, data)
    finally:
        version_stored.disconnect(listener)
    assert received == [version_id]
    assert read(arc, version_id) == data
    with arc.sessions() as session:
        version = session.get(Version, version_id)
        assert version is not None
        assert version.name == "XX项目-2023-01-1.0"
        assert version.sha256 == hashlib.sha256(data).hexdigest()
        assert version.size == len(data)
        assert version.object_key != str(version_id)
        assert "项目" not in version.object_key


def test_blob_holds_no_plaintext(arc: Archive) -> None:
    data = f"{CN_MARKER} {EN_MARKER}".encode() * 50
    blob = raw_blob(arc, put(arc, data))
    assert CN_MARKER.encode() not in blob
    assert CN_MARKER.encode("gb18030") not in blob
    assert EN_MARKER.encode() not in blob


def test_versions_and_names(arc: Archive) -> None:
    first = put(arc, b"v1")
    with arc.sessions() as session:
        record_id = session.get_one(Version, first).record_id
    second = put(arc, b"v2", record_id=record_id)
    third = put(arc, b"v3", record_id=record_id, major_revision=True)
    fourth = put(arc, b"v4", record_id=record_id)
    other = put(arc, b"another record, same project and month")
    with arc.sessions() as session:
        names = [session.get_one(Version, v).name for v in (first, second, third, fourth, other)]
        record = session.get_one(Record, record_id)
        assert [v.number for v in record.versions] == ["1.0", "1.1", "2.0", "2.1"]
    assert names == [
        "XX项目-2023-01-1.0",
        "XX项目-2023-01-1.1",
        "XX项目-2023-01-2.0",
        "XX项目-2023-01-2.1",
        "XX项目(2)-2023-01-1.0",
    ]
    assert [read(arc, v) for v in (first, second, third)] == [b"v1", b"v2", b"v3"]


def test_versions_are_immutable_in_the_database(arc: Archive) -> None:
    version_id = put(arc, b"immutable")
    for statement in (
        sa.update(Version).where(Version.id == version_id).values(sha256="0" * 64),
        sa.delete(Version).where(Version.id == version_id),
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), arc.transaction() as s:
            s.execute(statement)
    assert read(arc, version_id) == b"immutable"


def test_empty_file_round_trips(arc: Archive) -> None:
    assert read(arc, put(arc, b"")) == b""


def test_flipped_byte_is_an_integrity_error(arc: Archive) -> None:
    version_id = put(arc, b"x" * 5000)
    blob = bytearray(raw_blob(arc, version_id))
    blob[len(blob) // 2] ^= 0x04
    replace_blob(arc, version_id, bytes(blob))
    with pytest.raises(ContentIntegrityError):
        read(arc, version_id)


def test_swapped_blobs_of_two_versions_fail(arc: Archive) -> None:
    a, b = put(arc, b"version A"), put(arc, b"version B")
    blob_a, blob_b = raw_blob(arc, a), raw_blob(arc, b)
    replace_blob(arc, a, blob_b)
    replace_blob(arc, b, blob_a)
    for version_id in (a, b):
        with pytest.raises(ContentIntegrityError):
            read(arc, version_id)
    report = verify_fixity(arc, ACTOR)
    assert {p.version_id for p in report.problems} == {a, b}


def test_fixity_names_the_damaged_version(arc: Archive) -> None:
    good, bad = put(arc, b"good"), put(arc, b"bad" * 100)
    replace_blob(arc, bad, raw_blob(arc, bad)[:-1])
    report = verify_fixity(arc, ACTOR)
    assert report.checked == 2
    assert [p.version_id for p in report.problems] == [bad]
    assert good not in {p.version_id for p in report.problems}


def test_key_rotation_rewraps_without_touching_blobs(arc: Archive) -> None:
    ids = [put(arc, f"文件 {n}".encode() * 100) for n in range(3)]
    before = {v: hashlib.sha256(raw_blob(arc, v)).hexdigest() for v in ids}
    with arc.sessions() as session:
        old_kek = {row.kek_id for row in session.scalars(select(DataKey))}
    new_id, count = rotate_keys(arc, ACTOR, batch=2)  # several batches
    assert count == 3
    with arc.sessions() as session:
        assert {row.kek_id for row in session.scalars(select(DataKey))} == {new_id}
    assert new_id not in old_kek
    assert {v: hashlib.sha256(raw_blob(arc, v)).hexdigest() for v in ids} == before
    assert [read(arc, v) for v in ids] == [f"文件 {n}".encode() * 100 for n in range(3)]


def test_crypto_shredding_defeats_an_earlier_copy(arc: Archive) -> None:
    version_id = put(arc, f"{CN_MARKER} to be destroyed".encode())
    copy = raw_blob(arc, version_id)  # e.g. a replica or a backup taken earlier
    keep = put(arc, b"unrelated record stays readable")
    assert destroy_version_content(arc, ACTOR, version_id, "销毁清册 2026-001") == 1
    with pytest.raises(ContentDestroyed):
        read(arc, version_id)
    replace_blob(arc, version_id, copy)  # restore the old ciphertext: still unreadable
    with pytest.raises(ContentDestroyed):
        read(arc, version_id)
    with arc.sessions() as session:
        row = session.scalars(select(DataKey).where(DataKey.version_id == version_id)).one()
        assert row.wrapped is None
        assert row.kek_id is None
        assert row.destroyed_at is not None
        actions = list(session.scalars(select(AuditEvent.action)))
    assert "version.content_destroyed" in actions
    assert read(arc, keep) == b"unrelated record stays readable"
    assert verify_fixity(arc, ACTOR).destroyed == 1


def test_a_destroyed_key_leaves_no_copy_in_the_database_files(sqlite_arc: Archive) -> None:
    """The wrapped key of a destroyed version is gone from the SQLite file and its WAL, not
    only from the row: freed space is zeroed and the log emptied when keys are destroyed,
    so a copy of the live files (with the keyring) opens nothing destroyed."""
    version_id = put(sqlite_arc, f"{CN_MARKER} destroyed".encode())
    keep = put(sqlite_arc, b"kept")
    with sqlite_arc.sessions() as session:
        wrapped = session.scalars(
            select(DataKey.wrapped).where(DataKey.version_id == version_id)
        ).one()
        kept = session.scalars(select(DataKey.wrapped).where(DataKey.version_id == keep)).one()
    assert wrapped
    assert kept
    database = Path(sqlite_arc.settings.database_url.removeprefix("sqlite:///"))

    def on_disk() -> bytes:
        files = [database, database.with_name(database.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())

    assert wrapped in on_disk()  # the check can see a key where it lies
    destroy_version_content(sqlite_arc, ACTOR, version_id, "误归档")
    disk = on_disk()
    assert wrapped not in disk
    assert kept in disk
    assert read(sqlite_arc, keep) == b"kept"


def test_retiring_old_keys_makes_destruction_hold_against_an_older_backup(arc: Archive) -> None:
    """An older backup keeps the wrapped key of a version destroyed since; with the keyring's
    shred register emptied (anyone holding the keyring can edit it) that key would unwrap.
    After a rotation with the old keys retired, nothing wrapped before opens any more, in
    any process, and what is live is still read."""
    version_id = put(arc, f"{CN_MARKER} destroyed later".encode())
    keep = put(arc, b"still here")
    with arc.sessions() as session:
        old = session.scalars(select(DataKey).where(DataKey.version_id == version_id)).one()
        backed_up = WrappedKey(old.kek_id, old.wrapped)  # type: ignore[arg-type]
        owner = content_binding(old.version_id, old.role).decode()
    stale = Keyring.load(arc.keyring.path)  # another process, loaded before the retirement
    destroy_version_content(arc, ACTOR, version_id, "销毁清册 2026-002")
    edited = Keyring.load(arc.keyring.path)
    edited.shredded.clear()
    assert edited.unwrap(backed_up, owner)  # the hole: an old copy and an edited register

    new_id, _ = rotate_keys(arc, ACTOR)
    retired = retire_old_keys(arc, ACTOR)
    assert retired == [backed_up.kek_id]
    stale.save()  # a process that still held the old key writes the keyring: not back
    edited = Keyring.load(arc.keyring.path)
    edited.shredded.clear()
    assert edited.key_ids == [new_id]
    with pytest.raises(KeyringError, match="not in the keyring"):
        edited.unwrap(backed_up, owner)
    assert read(arc, keep) == b"still here"
    assert retire_old_keys(arc, ACTOR) == []  # nothing more to retire
    with arc.sessions() as session:
        assert "keys.retired" in list(session.scalars(select(AuditEvent.action)))


def test_a_month_only_date_is_never_shown_as_a_day(arc: Archive) -> None:
    """``2014-06`` counts retention from the month's end, and is shown as given."""
    month_only = put(arc, b"month only", project="月份项目")  # when="2023-01"
    with arc.sessions() as session:
        record = session.scalars(select(Record).join(Version).where(Version.id == month_only)).one()
        assert (record.filed_on.isoformat(), record.filed_day_known) == ("2023-01-31", False)
        assert record.document_date == "2023-01"
    assert register_day("2023-01") == "20230100"  # DA/T 22's eight digits, the day unknown
    assert register_day("2024-05-08") == "20240508"


def test_destroying_needs_a_reason(arc: Archive) -> None:
    with pytest.raises(ContentError, match="reason"):
        destroy_version_content(arc, ACTOR, put(arc, b"x"), "  ")


def test_failed_store_leaves_no_blob(sqlite_arc: Archive) -> None:
    with pytest.raises(PeopleError, match="no department"):
        store(
            sqlite_arc,
            io.BytesIO(b"data"),
            actor=ACTOR,
            original_filename="a.txt",
            media_type="text/plain",
            new_record=NewRecord(project="P", title="t", department="无此部门"),
        )
    assert isinstance(sqlite_arc.blobs, LocalBlobStore)
    assert [p for p in sqlite_arc.blobs.root.rglob("*") if p.is_file()] == []


def test_missing_keyring_is_a_clear_error(sqlite_arc: Archive, tmp_path: Path) -> None:
    version_id = put(sqlite_arc, b"data")
    keyring = sqlite_arc.settings.keyring_path
    shutil.move(keyring, tmp_path / "moved.json")
    fresh = Archive(sqlite_arc.settings)
    with pytest.raises(Exception, match="archive init"):
        read(fresh, version_id)
    fresh.close()


def test_concurrent_stores_get_distinct_names(arc: Archive) -> None:
    """Writers racing for the same project and month each get their own serial."""
    import threading

    names: list[str] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            result = store(
                arc,
                io.BytesIO(f"doc {n}".encode()),
                actor=ACTOR,
                original_filename=f"{n}.txt",
                media_type="text/plain",
                new_record=NewRecord(project="并发项目", title=str(n), when="2024-06"),
            )
            names.append(result.name)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(names) == sorted(
        ["并发项目-2024-06-1.0"] + [f"并发项目({n})-2024-06-1.0" for n in range(2, 7)]
    )
