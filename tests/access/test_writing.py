"""Writing into a record needs the right to write it: a specialist of one department added a
version to another department's restricted contract (by its id, or by uploading with the same
project and title), and the answer told them the contract's name and version count.

Each way to name a record is attacked: an explicit id, an implicit project-and-title match,
a duplicate of its content. An unknown id, a forbidden one and a destroyed record answer the
same."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import func, select, update

from archive.audit import Actor
from archive.models import (
    AuditEvent,
    IngestJob,
    IngestStatus,
    Record,
    RecordState,
    User,
    Version,
)
from ingest.checks import WRITE_CHECK
from ingest.jobs import JobError, receive, release, retry
from ingest.metadata import MetadataError
from ingest.pipeline import process
from tests.access.conftest import World

NOT_YOURS = "no record you may add a version to"


def upload(world: World, who: str, data: bytes, name: str, **form: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = world.call(
        "POST",
        who,
        "/api/v1/documents",
        data={"file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )
    return response.status_code, response.json or {}


def versions(world: World, key: str) -> int:
    with world.arc.sessions() as session:
        return (
            session.scalar(select(func.count()).where(Version.record_id == world.records[key])) or 0
        )


def finished(world: World, who: str, job_id: str) -> dict:  # type: ignore[type-arg]
    process(world.arc, uuid.UUID(job_id))
    response = world.call("GET", who, f"/api/v1/jobs/{job_id}")
    assert response.status_code == 200
    return response.json  # type: ignore[return-value]


def test_an_explicit_id_answers_alike_unknown_forbidden_and_destroyed(world: World) -> None:
    with world.arc.transaction() as session:
        session.execute(
            update(Record)
            .where(Record.id == world.records["CG-public"])
            .values(state=RecordState.DISPOSED)
        )
    answers = {}
    for case, record_id in {
        "restricted elsewhere": world.records["XS-restricted"],
        "confidential elsewhere": world.records["XS-confidential"],
        "internal elsewhere": world.records["XS-internal"],
        "destroyed": world.records["CG-public"],
        "unknown": uuid.uuid4(),
    }.items():
        status, body = upload(world, "zhang", b"replaced text", "x.txt", record_id=str(record_id))
        assert status == 400, case
        answers[case] = body["error"].replace(str(record_id), "ID")
    assert set(answers.values()) == {f"record ID: {NOT_YOURS}"}
    assert versions(world, "XS-restricted") == 1


def test_an_implicit_match_never_joins_someone_elses_record(world: World) -> None:
    """Same project and title as XS's restricted contract: a new record, not a version."""
    status, body = upload(
        world, "zhang", "篡改的合同正文".encode(), "合同.txt",
        project="华东仓储改造项目XS-restricted", title="档案 XS-restricted",
    )  # fmt: skip
    assert status == 202
    job = finished(world, "zhang", body["job_id"])
    assert job["status"] == "stored"
    assert job["record_id"] != str(world.records["XS-restricted"])
    assert versions(world, "XS-restricted") == 1
    # The owner's own department does join it (li is an XS specialist; internal record).
    status, body = upload(
        world, "li", "新版本".encode(), "v2.txt",
        project="华东仓储改造项目XS-internal", title="档案 XS-internal",
    )  # fmt: skip
    job = finished(world, "li", body["job_id"])
    assert job["record_id"] == str(world.records["XS-internal"])
    assert versions(world, "XS-internal") == 2


def test_a_duplicate_never_names_a_record_the_uploader_may_not_know(world: World) -> None:
    status, body = upload(world, "zhang", "正文 XS-restricted".encode(), "copy.txt", project="P")
    assert status == 202
    job = finished(world, "zhang", body["job_id"])
    assert job["duplicate_of"] is None
    assert "XS-restricted" not in str(job)
    with world.arc.sessions() as session:
        stored = session.get(IngestJob, uuid.UUID(body["job_id"]))
        assert stored is not None
        assert stored.duplicate_of_id is None


@pytest.mark.parametrize(
    ("who", "key", "allowed"),
    [
        ("zhang", "CG-confidential", True),  # a member of the department
        ("li", "CG-internal", False),  # may know it, but another department's
        ("wang", "CG-restricted", False),  # head of CG, but restricted: directors only
        ("qian", "CG-restricted", True),  # a director
        ("sun", "XS-internal", True),  # a records manager
        ("zhou", "CG-internal", False),  # auditors file nothing
    ],
)
def test_who_adds_a_version(world: World, who: str, key: str, allowed: bool) -> None:
    record_id = str(world.records[key])
    status, body = upload(world, who, f"{who} 的新版本".encode(), "v2.txt", record_id=record_id)
    if not allowed:
        assert status in (400, 403)
        assert versions(world, key) == 1
        return
    assert status == 202
    job = finished(world, who, body["job_id"])
    assert job["record_id"] == str(world.records[key])
    assert versions(world, key) == 2


def test_a_retry_or_a_release_lends_no_right_to_write(world: World) -> None:
    """A file quarantined for its format, retried with another department's restricted
    record as its target, then released by a records manager, became that contract's new
    version; and a sidecar naming it was quarantined with a releasable check."""
    _status, body = upload(world, "zhang", "篡改的合同正文".encode(), "y.pdf", project="P")
    job_id = uuid.UUID(body["job_id"])
    process(world.arc, job_id)
    with world.arc.sessions() as session:
        zhang = session.scalar(select(User).where(User.username == "zhang"))
        assert zhang is not None
        assert session.get(IngestJob, job_id).status == IngestStatus.QUARANTINED  # type: ignore[union-attr]
    target = str(world.records["XS-restricted"])
    with pytest.raises(MetadataError, match=NOT_YOURS):
        retry(world.arc, Actor.of(zhang), job_id, params={"record_id": target})
    # A target that arrives with the file (a sidecar) is refused by its own check ...
    with world.arc.transaction() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        job.params = {**job.params, "sidecar": {"record_id": target}}
    retry(world.arc, Actor.of(zhang), job_id)
    process(world.arc, job_id)  # still the wrong format: a records manager releases that
    release(world.arc, Actor("sun"), job_id, "格式问题可以接受")
    process(world.arc, job_id)
    with world.arc.sessions() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        assert (job.status, job.failed_check) == (IngestStatus.QUARANTINED, WRITE_CHECK)
    # ... which no records manager can release.
    with pytest.raises(JobError, match="cannot be released"):
        release(world.arc, Actor("sun"), job_id, "看起来没问题")
    assert versions(world, "XS-restricted") == 1


def test_a_hot_folder_sidecar_cannot_widen_the_department_its_path_names(world: World) -> None:
    """inbox/XS/… with a sidecar saying department CG and a CG record's id."""
    target = str(world.records["CG-internal"])
    job_id = receive(
        world.arc,
        io.BytesIO("来自销售部收件箱".encode()),
        filename="d.txt",
        source_kind="hotfolder",
        actor=Actor("hotfolder@test"),
        params={"sidecar": {"record_id": target, "department": "CG"}},
        source_path="XS/热项目/d.txt",
    )
    process(world.arc, job_id)
    with world.arc.sessions() as session:
        job = session.get(IngestJob, job_id)
        assert job is not None
        assert (job.status, job.failed_check) == (IngestStatus.QUARANTINED, WRITE_CHECK)
    assert versions(world, "CG-internal") == 1


def test_nobody_plants_a_record_in_another_department(world: World) -> None:
    """li (XS) filed a public record with CG's project and title for department CG; CG's
    own next upload by project and title then went into li's public record."""
    planted = {"project": "华东仓储改造项目CG-confidential", "title": "档案 CG-confidential"}
    status, body = upload(
        world, "li", b"bait", "bait.txt", department="CG", sensitivity="public", **planted
    )
    assert status == 400
    assert "own department" in body["error"]
    # Without a department, a person's document is their own department's.
    status, body = upload(world, "li", b"bait", "bait.txt", sensitivity="public", **planted)
    job = finished(world, "li", body["job_id"])
    with world.arc.sessions() as session:
        record = session.get(Record, uuid.UUID(job["record_id"]))
        assert record is not None
        assert record.department is not None
        assert record.department.code == "XS"
    # CG's own upload joins CG's record, never the planted one.
    status, body = upload(world, "zhang", "第二版".encode(), "v2.txt", **planted)
    assert finished(world, "zhang", body["job_id"])["record_id"] == str(
        world.records["CG-confidential"]
    )


def test_a_version_classified_above_its_record_raises_the_record(world: World) -> None:
    """A confidential version in an internal record would be read at the record's old level:
    the record rises with it (audited), and a lower version never lowers it."""
    status, body = upload(
        world, "wang", "新版：涉及报价".encode(), "报价.txt",
        record_id=str(world.records["CG-internal"]), sensitivity="confidential",
    )  # fmt: skip
    assert status == 202, body
    assert finished(world, "wang", body["job_id"])["status"] == "stored"
    status, body = upload(
        world, "wang", "再一版：公开摘要".encode(), "摘要.txt",
        record_id=str(world.records["CG-internal"]), sensitivity="public",
    )  # fmt: skip
    assert finished(world, "wang", body["job_id"])["status"] == "stored"
    with world.arc.sessions() as session:
        record = session.get_one(Record, world.records["CG-internal"])
        assert record.sensitivity.value == "confidential"
        raised = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "record.sensitivity_raised")
        ).all()
    assert [(e.object_id, e.details["from"], e.details["to"]) for e in raised] == [
        (str(world.records["CG-internal"]), "internal", "confidential")
    ]
    shown = world.call("GET", "wang", f"/api/v1/records/{world.records['CG-internal']}")
    assert shown.json["sensitivity"] == "confidential"  # type: ignore[index]


def test_a_date_no_document_has_is_refused_at_the_door(world: World) -> None:
    """9999-12 or 0000-01 stored would break the retention arithmetic for everyone (the
    sweep, events), and a year in other digits would name a look-alike record."""
    for typed in ("9999-12", "0000-01", "２０２６-11"):
        status, body = upload(world, "zhang", b"text", "x.txt", project="P", date=typed)
        assert status == 400, typed
        assert body["error"].startswith("date: "), body
    with world.arc.sessions() as session:
        assert not session.scalars(select(IngestJob)).all()  # nothing received
