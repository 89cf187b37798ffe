"""The pipeline end to end: named, versioned, classified, checked, encrypted, or quarantined."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from archive.audit import verify_chain
from archive.content import read_content
from archive.core import Archive
from archive.keys import retire_old_keys, rotate_keys
from archive.models import (
    AuditEvent,
    IngestJob,
    IngestStatus,
    Record,
    Rendition,
    RenditionRole,
    Sensitivity,
    Version,
)
from ingest.jobs import JobError, Superseded, claim, fenced, receive, release, retry
from ingest.metadata import MetadataError
from ingest.pipeline import process
from ingest.review import reclassify, review_queue
from tests.ingest import samples
from tests.ingest.conftest import ACTOR, job_of, run_ingest


def version_of(arc: Archive, job: IngestJob) -> Version:
    with arc.sessions() as session:
        version = session.get(Version, job.version_id)
        assert version is not None
        session.refresh(version, ["record"])
        return version


def text_of(arc: Archive, version: Version, role: str = RenditionRole.TEXT) -> bytes:
    with arc.sessions() as session:
        return b"".join(read_content(arc, session, version, role))


def staged_blobs_left(arc: Archive) -> int:
    with arc.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(IngestJob)
                .where(
                    IngestJob.staging_key.is_not(None),
                    IngestJob.status != IngestStatus.QUARANTINED,
                )
            )
            or 0
        )


def test_a_pdf_is_named_classified_checked_and_stored_with_its_text(any_arc: Archive) -> None:
    data = samples.pdf(["华东仓储改造项目 采购合同", "甲方：华东公司  乙方：供应商"])
    job = run_ingest(
        any_arc, data, "合同.pdf", project="华东仓储改造项目", date="2026-03", department="CG"
    )
    assert job.status == IngestStatus.STORED, job.reason
    version = version_of(any_arc, job)
    record = version.record
    assert version.name == "华东仓储改造项目-2026-03-1.0"
    assert (record.process, record.stage, record.record_type) == (
        "procurement",
        "execution",
        "contract",
    )
    assert record.sensitivity == Sensitivity.RESTRICTED  # contracts default to restricted
    assert record.classification
    assert record.classification["rules"]
    assert version.media_type == "application/pdf"
    assert version.page_count == 2
    checks = version.checks or {}
    assert checks["authenticity.digest"]["ok"] is True
    assert checks["usability.opens"]["ok"] is True
    assert "virus_scan" in " ".join(checks)
    assert text_of(any_arc, version, "original") == data
    assert "采购合同" in text_of(any_arc, version).decode()
    assert staged_blobs_left(any_arc) == 0


def test_a_scan_is_ocred_and_keeps_its_searchable_pdf(iarc: Archive) -> None:
    job = run_ingest(iarc, samples.image("华东项目验收报告\nAcceptance report"), "scan.png")
    assert job.status == IngestStatus.STORED, job.reason
    version = version_of(iarc, job)
    assert version.ocr is True
    text = text_of(iarc, version).decode()
    assert "华东项目验收报告" in text  # OCR's spaces between Chinese glyphs are gone
    assert "Acceptance report" in text
    assert version.record.record_type == "acceptance_report"
    rendition = text_of(iarc, version, RenditionRole.OCR_PDF)
    assert rendition.startswith(b"%PDF")
    assert (version.text_stats or {})["scan"]["dpi"] == 300


def test_an_image_only_pdf_is_ocred(iarc: Archive) -> None:
    job = run_ingest(iarc, samples.scanned_pdf("会议纪要 第三次"), "minutes.pdf")
    assert job.status == IngestStatus.STORED, job.reason
    version = version_of(iarc, job)
    assert version.ocr is True
    assert "会议纪要" in text_of(iarc, version).decode()


def test_the_same_record_gets_versions_and_identical_content_is_a_duplicate(
    any_arc: Archive,
) -> None:
    first = run_ingest(any_arc, b"first draft", "plan.txt", project="P1", date="2026-01")
    second = run_ingest(any_arc, b"second draft", "plan.txt", project="P1", date="2026-01")
    again = run_ingest(any_arc, b"second draft", "plan.txt", project="P1")
    major = run_ingest(any_arc, b"rewrite", "plan.txt", project="P1", major="true")
    assert version_of(any_arc, first).name == "P1-2026-01-1.0"
    assert version_of(any_arc, second).name == "P1-2026-01-1.1"
    assert again.status == IngestStatus.DUPLICATE
    assert again.duplicate_of_id == second.version_id
    assert version_of(any_arc, major).name == "P1-2026-01-2.0"
    with any_arc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Version)) == 3


def test_identical_content_in_another_record_is_stored_but_flagged(iarc: Archive) -> None:
    one = run_ingest(iarc, b"shared annex", "annex.txt", project="A")
    other = run_ingest(iarc, b"shared annex", "annex.txt", project="B")
    assert other.status == IngestStatus.STORED
    assert other.duplicate_of_id == one.version_id
    checks = version_of(iarc, other).checks or {}
    assert checks["authenticity.metadata_valid"]["duplicate_of"] == version_of(iarc, one).name


def test_an_explicit_record_id_makes_the_next_version(iarc: Archive) -> None:
    first = run_ingest(iarc, b"v1", "a.txt", project="P")
    nxt = run_ingest(iarc, b"v2", "renamed.txt", record_id=str(first.record_id))
    assert nxt.record_id == first.record_id
    assert version_of(iarc, nxt).number == "1.1"


def test_a_conventional_file_name_gives_project_and_date(iarc: Archive) -> None:
    job = run_ingest(iarc, b"x", "XX项目-2023-01-1.0.txt")
    assert version_of(iarc, job).name == "XX项目-2023-01-1.0"
    again = run_ingest(iarc, b"y", "XX项目-2023-01-1.1.txt")
    assert again.record_id == job.record_id
    assert version_of(iarc, again).name == "XX项目-2023-01-1.1"


BAD_INPUTS: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("empty.pdf", lambda: b"", "integrity.content_present", "empty"),
    ("bom.txt", lambda: b"\xef\xbb\xbf", "integrity.content_present", "no text"),
    ("utf16-bom.txt", lambda: b"\xff\xfe", "integrity.content_present", "no text"),
    ("blank.txt", lambda: " \r\n\t\u3000".encode(), "integrity.content_present", "no text"),
    (
        "invisible.txt",
        lambda: "\ufeff\ufeff\u200b\u200c\u200d\u2060".encode(),
        "integrity.content_present",
        "no text",
    ),
    ("truncated.pdf", lambda: samples.pdf(["x" * 40])[:-300], "usability.opens", "truncated"),
    ("fake.pdf", lambda: b"just some words, not a PDF", "usability.allowed_format", "named .pdf"),
    (
        "locked.pdf",
        lambda: samples.encrypted_pdf("机密合同"),
        "usability.not_encrypted",
        "password",
    ),
    ("huge.png", samples.pixel_bomb_png, "usability.opens", "decompression bomb"),
    (
        "program.exe",
        lambda: b"MZ\x90\x00" + bytes(300),
        "usability.allowed_format",
        "not a format allowed",
    ),
    # Text named as a program: run by a double click wherever it is given out again.
    ("工具.exe", "echo 这是文本".encode, "usability.allowed_format", "extension of a program"),
    ("setup.BAT", b"del /q *".__bytes__, "usability.allowed_format", "extension of a program"),
]


@pytest.mark.parametrize(
    ("name", "make", "check", "reason"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_input_is_quarantined_with_its_reason(
    iarc: Archive, name: str, make: Callable[[], bytes], check: str, reason: str
) -> None:
    job = run_ingest(iarc, make(), name)
    assert job.status == IngestStatus.QUARANTINED
    assert job.failed_check == check
    assert reason in (job.reason or "")
    assert job.staging_key is not None  # kept, encrypted, for release or retry
    assert not (iarc.settings.home / "work" / str(job.id)).exists()
    with iarc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Version)) == 0
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "ingest.quarantined"))
        assert event is not None
        assert event.details["check"] == check


def test_a_zip_bomb_docx_is_quarantined(iarc: Archive, zip_bomb: bytes) -> None:
    job = run_ingest(iarc, zip_bomb, "bomb.docx")
    assert (job.status, job.failed_check) == (IngestStatus.QUARANTINED, "usability.opens")
    assert "zip bomb" in (job.reason or "")


def test_the_eicar_test_file_is_caught_and_never_released(
    iarc: Archive, clamav_database: str | None
) -> None:
    if clamav_database is None:
        pytest.skip("ClamAV is not installed")
    job = run_ingest(iarc, samples.EICAR, "readme.txt")
    assert (job.status, job.failed_check) == (IngestStatus.QUARANTINED, "security.virus_scan")
    assert "Eicar" in (job.reason or "")
    with pytest.raises(JobError, match="cannot be released"):
        release(iarc, ACTOR, job.id, "looks fine to me")


def test_a_parser_that_loops_is_stopped_by_the_time_limit(tmp_path: object) -> None:
    from archive.bootstrap import initialize
    from archive.config import load_settings
    from tests.conftest import make_environ

    env = make_environ(tmp_path / "home", "sqlite", "local")  # type: ignore[operator]
    arc = Archive(load_settings({**env, "ARCHIVE_EXTRACT_TIMEOUT": "2"}))
    initialize(arc, ACTOR)
    try:
        job = run_ingest(arc, samples.slow_pdf(1_000_000), "slow.pdf")
        assert (job.status, job.failed_check) == (IngestStatus.QUARANTINED, "usability.opens")
        assert "longer than 2 s" in (job.reason or "")
    finally:
        arc.close()


def test_a_released_file_is_stored_with_the_failure_and_the_release_on_record(
    iarc: Archive,
) -> None:
    job = run_ingest(iarc, b"plain words in a .pdf", "note.pdf")
    assert job.status == IngestStatus.QUARANTINED
    with pytest.raises(JobError, match="reason"):
        release(iarc, ACTOR, job.id, " ")
    release(iarc, ACTOR, job.id, "scanned note, the extension is the scanner's mistake")
    assert process(iarc, job.id) == IngestStatus.STORED
    checks = version_of(iarc, job_of(iarc, job.id)).checks or {}
    assert checks["usability.allowed_format"]["ok"] is False
    assert "scanner's mistake" in checks["released"]["detail"]["reason"]


def test_a_quarantined_file_outlives_a_key_rotation_with_the_old_keys_retired(
    iarc: Archive,
) -> None:
    """A staged file waits for a person for days: its key is re-wrapped with the others,
    and a key still wrapping one is not retired."""
    job = run_ingest(iarc, b"plain words in a .pdf", "note.pdf")
    assert job.status == IngestStatus.QUARANTINED
    old_kek = job.staging_kek_id
    rotate_keys(iarc, ACTOR)
    assert old_kek in retire_old_keys(iarc, ACTOR)
    assert job_of(iarc, job.id).staging_kek_id == iarc.keyring.active_id
    release(iarc, ACTOR, job.id, "scanned note, the extension is the scanner's mistake")
    assert process(iarc, job.id) == IngestStatus.STORED
    with iarc.sessions() as session:
        version = session.get_one(Version, job_of(iarc, job.id).version_id)
        assert b"".join(read_content(iarc, session, version)) == b"plain words in a .pdf"


def test_retry_with_a_fixed_file_and_metadata(iarc: Archive) -> None:
    job = run_ingest(iarc, samples.pdf(["x" * 40])[:-300], "report.pdf", project="Q")
    assert job.status == IngestStatus.QUARANTINED
    fixed = samples.pdf(["月度报表 2026年10月"])
    retry(iarc, ACTOR, job.id, io.BytesIO(fixed), {"date": "2026-10"})
    assert process(iarc, job.id) == IngestStatus.STORED
    done = job_of(iarc, job.id)
    assert version_of(iarc, done).name == "Q-2026-10-1.0"
    with pytest.raises(JobError, match="not quarantined"):
        retry(iarc, ACTOR, job.id)


def test_a_fixed_file_of_another_type_is_judged_by_its_own_name(iarc: Archive) -> None:
    """加密.pdf held plain text; the fixed file sent for it was a text file named .txt,
    and was refused again as "named .pdf but the content is text": the name it came with
    is now the job's."""
    job = run_ingest(iarc, b"plain words, not a PDF", "加密.pdf", project="Q")
    assert (job.status, job.failed_check) == (
        IngestStatus.QUARANTINED,
        "usability.allowed_format",
    )
    retry(iarc, ACTOR, job.id, io.BytesIO("修正件：纯文本".encode()), filename="修正件.txt")
    assert process(iarc, job.id) == IngestStatus.STORED
    assert job_of(iarc, job.id).original_filename == "修正件.txt"


def test_invalid_explicit_metadata_is_refused_at_receipt(iarc: Archive) -> None:
    with pytest.raises(MetadataError, match="department: no department 'NOPE'"):
        receive(
            iarc,
            io.BytesIO(b"x"),
            filename="a.txt",
            source_kind="cli",
            actor=ACTOR,
            params={"project": "P", "department": "NOPE"},
        )
    with iarc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IngestJob)) == 0


def test_invalid_derived_metadata_quarantines_and_says_which_field(iarc: Archive) -> None:
    job = run_ingest(iarc, b"x", "a.txt", sidecar={"project": "P", "department": "NOPE"})
    assert job.failed_check == "authenticity.metadata_valid"
    assert "department" in (job.reason or "")


def test_low_confidence_goes_to_review_and_a_correction_is_audited(iarc: Archive) -> None:
    job = run_ingest(iarc, b"lorem ipsum dolor", "misc.txt", project="P")
    queue = review_queue(iarc)
    assert [r.id for r in queue] == [job.record_id]
    assert job.record_id is not None
    reclassify(
        iarc,
        ACTOR,
        job.record_id,
        process="administration",
        stage="execution",
        record_type="report",
        note="checked by hand",
    )
    assert review_queue(iarc) == []
    with iarc.sessions() as session:
        record = session.get(Record, job.record_id)
        assert record is not None
        assert record.classification
        assert record.classification["method"] == "person"
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "record.reclassified"))
        assert event is not None
        assert event.details["after"]["process"] == "administration"
        assert verify_chain(session).ok


def test_a_stale_attempt_cannot_commit_over_a_newer_one(iarc: Archive) -> None:
    job_id = receive(iarc, io.BytesIO(b"x"), filename="a.txt", source_kind="cli", actor=ACTOR)
    first = claim(iarc, job_id)
    assert first == 1
    assert claim(iarc, job_id) is None  # a live lease: a duplicate delivery backs off
    with iarc.transaction() as session:  # the lease runs out (the worker was presumed dead)
        session.get(IngestJob, job_id).lease_until = None  # type: ignore[union-attr]
    assert process(iarc, job_id) == IngestStatus.STORED
    with pytest.raises(Superseded), iarc.transaction() as session:
        fenced(session, job_id, first)


def test_renditions_are_append_only(iarc: Archive) -> None:
    import sqlalchemy as sa

    run_ingest(iarc, b"words", "a.txt", project="P")
    with pytest.raises(sa.exc.DatabaseError), iarc.transaction() as session:
        session.execute(sa.update(Rendition).values(size=0))


def test_receive_refuses_oversized_streams_and_keeps_nothing(tmp_path: object) -> None:
    from archive.bootstrap import initialize
    from archive.config import load_settings
    from archive.content import ContentTooLarge
    from tests.conftest import make_environ

    env = make_environ(tmp_path / "home", "sqlite", "local")  # type: ignore[operator]
    arc = Archive(load_settings({**env, "ARCHIVE_MAX_UPLOAD_BYTES": "1000"}))
    initialize(arc, ACTOR)
    try:
        with pytest.raises(ContentTooLarge):
            receive(arc, io.BytesIO(b"x" * 5000), filename="a.txt", source_kind="api", actor=ACTOR)
        blobs = [p for p in (arc.settings.home / "blobs").rglob("*") if p.is_file()]
        assert blobs == []
        with arc.sessions() as session:
            assert session.scalar(select(func.count()).select_from(IngestJob)) == 0
    finally:
        arc.close()


def test_unknown_jobs_are_an_error(iarc: Archive) -> None:
    with pytest.raises(JobError):
        process(iarc, uuid.uuid4())
