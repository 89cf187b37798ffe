"""Reviews (鉴定): extend, reschedule, or send to a list; cut-off; transfer packages."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date
from pathlib import Path

import bagit
import pytest
from sqlalchemy import delete, select

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import ContentError, store
from archive.core import Archive
from archive.db import local_today
from archive.models import (
    AuditEvent,
    DispositionList,
    ListStatus,
    Record,
    RecordChange,
    RecordState,
    RetentionReview,
    SignerRole,
)
from archive.refcode import number_pending
from ingest.package import PackageError, check_transfer_folder, import_package, verify_package
from ingest.review import reclassify
from retention import disposition, execution
from retention.appraisal import appraisal_queue
from retention.errors import Conflict, RetentionError
from retention.review import cut_off, review
from retention.schedules import save_schedule, spec_from_dict
from retention.status import refresh_dirty
from retention.sweep import sweep
from tests.access.test_cli import cli
from tests.conftest import make_environ
from tests.retention.conftest import MANAGER, add_people, due_of, file_record, user

OLD = date(2010, 5, 1)


def test_a_review_extends_a_record_and_the_extension_is_audited(planned: Archive) -> None:
    minutes = file_record(planned, record_type="minutes", when=OLD)
    assert due_of(planned, minutes) == date(2020, 12, 31)
    assert sweep(planned, MANAGER).to_review == 1
    with planned.sessions() as session:
        assert [w.record_id for w in appraisal_queue(session)] == [minutes]
    queued = cli(
        make_environ(planned.settings.home, "sqlite", "local"), "retention", "review-queue"
    )
    heading, row = queued.stdout.splitlines()
    assert heading.startswith("档号 Reference code\t题名 Title\t期限表 Schedule")
    assert "会议纪要 10年（D10）\t2010-12-31（归档年度末）\t2020-12-31\t2021-01-01" in row
    assert row.endswith(str(minutes))

    review(planned, MANAGER, minutes, opinion="涉及在建项目，延长保管", outcome="extend", years=5)
    expected = date(local_today().year + 5, local_today().month, local_today().day)
    assert due_of(planned, minutes) == expected
    with planned.sessions() as session:
        assert appraisal_queue(session) == []
        row = session.scalars(select(RetentionReview)).one()
        assert (row.due_before, row.due_after, row.reviewed_by) == (
            date(2020, 12, 31),
            expected,
            "sun",
        )
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.reviewed")
        ).one()
        assert event.details["due_before"] == "2020-12-31"
        assert event.details["due_after"] == expected.isoformat()
        assert event.details["opinion"] == "涉及在建项目，延长保管"
        assert event.ip == "10.0.0.5"
    with pytest.raises(RetentionError, match="does not extend"):
        review(planned, MANAGER, minutes, opinion="缩短", outcome="extend", until=date(2030, 1, 1))


def test_a_review_can_make_a_record_permanent_or_list_it_for_destruction(planned: Archive) -> None:
    kept = file_record(planned, record_type="minutes", when=OLD, project="董事会")
    dropped = file_record(planned, record_type="minutes", when=OLD, project="周例会")
    with planned.transaction() as session:  # the index is up to date before the review
        session.execute(delete(RecordChange))
    review(planned, MANAGER, kept, opinion="重要决策，永久保存", outcome="reschedule",
           schedule="strategy")  # fmt: skip
    assert due_of(planned, kept) is None
    with planned.sessions() as session:  # search's 保管期限 facet is told (Y, not D10)
        assert session.scalars(select(RecordChange.record_id)).all() == [kept]
    review(planned, MANAGER, dropped, opinion="无保存价值", outcome="destroy")
    with planned.sessions() as session:
        lst = session.scalars(select(DispositionList)).one()
        assert lst.status == ListStatus.DRAFT
        assert [item.record_id for item in lst.items] == [dropped]
        record = session.get(Record, kept)
        assert record is not None
        assert record.schedule_pinned


def test_a_cut_off_record_takes_no_new_versions(planned: Archive) -> None:
    record_id = file_record(planned, record_type="report", when=date(2025, 3, 1))
    assert due_of(planned, record_id) == date(2035, 12, 31)
    cut_off(planned, MANAGER, record_id, date(2026, 1, 2))
    assert due_of(planned, record_id) == date(2036, 12, 31)  # counts from the cut-off
    with pytest.raises(Conflict, match="cut off"):
        cut_off(planned, MANAGER, record_id)
    with pytest.raises(ContentError, match="cut off on 2026-01-02"):
        store(planned, io.BytesIO(b"v2"), actor=Actor.cli(), original_filename="v2.txt",
              media_type="text/plain", record_id=record_id)  # fmt: skip


def transfer_one(planned: Archive) -> tuple[uuid.UUID, execution.Execution]:
    """File a board resolution in 2010 under a transfer schedule, sign the list, execute."""
    add_people(planned)
    with planned.transaction() as session:
        spec = spec_from_dict(
            {
                "key": "board",
                "name": "董事会决议 board resolutions",
                "record_type": "board",
                "years": 5,
                "trigger": "filed",
                "disposal": "transfer",
            }
        )
        save_schedule(session, MANAGER, spec)
    record_id = file_record(planned, record_type="board", when=OLD, versions=2)
    report = sweep(planned, MANAGER)
    assert report.proposed == {"transfer": 1}
    with planned.transaction() as session:
        lst = session.scalars(select(DispositionList)).one()
        disposition.set_opinion(session, MANAGER, lst, "移交市档案馆")
        disposition.set_receiver(session, MANAGER, lst, "上海市档案馆")
        disposition.submit(session, MANAGER, lst)
        for name, role in [("sun", None), ("wang", None), ("qian", SignerRole.DIRECTOR)]:
            disposition.sign(session, MANAGER, planned.settings.retention, lst,
                             user(planned, name), role)  # fmt: skip
        list_id = lst.id
    result = execution.execute(planned, MANAGER, list_id, check_folder=check_transfer_folder)
    return record_id, result


def test_transfer_writes_a_valid_bag_and_marks_the_records(planned: Archive) -> None:
    record_id, result = transfer_one(planned)
    assert result.done == 1
    folder = Path(str(result.package).split(" (")[0])
    bag = bagit.Bag(str(folder))
    bag.validate()  # every payload file against its SHA-256
    payload = sorted(Path(p).name for p in bag.payload_files())
    assert payload == [
        "audit.json",
        "checks.json",
        "metadata.json",
        "metadata.xml",
        "华东仓储改造项目-2010-05-1.0.txt",
        "华东仓储改造项目-2010-05-1.1.txt",
    ]
    text = folder / "data" / "华东仓储改造项目-2010-05" / "华东仓储改造项目-2010-05-1.1.txt"
    assert text.read_text("utf-8") == "华东仓储改造项目 board 第2版"  # decrypted
    with planned.sessions() as session:
        record = session.get(Record, record_id)
        assert record is not None
        assert record.state == RecordState.TRANSFERRED
    checks = json.loads((text.parent / "checks.json").read_text("utf-8"))
    assert checks["华东仓储改造项目-2010-05-1.1"]["authenticity.digest"]["ok"] is True
    assert checks["华东仓储改造项目-2010-05-1.1"]["usability.opens"]["ok"] is True
    assert checks["record"]["integrity.required_metadata"]["ok"] is True


def test_a_transfer_package_is_checked_and_imported_by_another_archive(
    planned: Archive, tmp_path: Path
) -> None:
    _, result = transfer_one(planned)
    package = Path(str(result.package).split(" (")[0])
    receiving = Archive(load_settings(make_environ(tmp_path / "receiver", "sqlite", "local")))
    try:
        initialize(receiving, Actor.cli())
        assert verify_package(receiving, package).ok
        env = make_environ(tmp_path / "receiver", "sqlite", "local")
        checked = cli(env, "transfer", "verify", str(package)).stdout
        assert "1 records checked: every check passed" in checked
        unscanned = cli({**env, "ARCHIVE_CLAMAV": "off"}, "transfer", "verify", str(package))
        assert "every check passed, 2 could not run" in unscanned.stdout  # two versions
        assert "NOT RUN 华东仓储改造项目-2010-05/" in unscanned.stderr
        assert "security.virus_scan not scanned: disabled" in unscanned.stderr
        imported = import_package(receiving, Actor(name="档案馆"), package)
        assert imported.versions == 2
        (record_id,) = imported.records.values()
        with receiving.sessions() as session:
            record = session.get_one(Record, record_id)
            originals = json.loads(
                (package / "data" / "华东仓储改造项目-2010-05" / "metadata.json").read_text("utf-8")
            )
            assert record.title == originals["title"]
            assert record.filed_on.isoformat() == originals["filed_on"]
            assert record.department is not None
            assert record.department.code == originals["department"]
            assert [(v.name, v.sha256, v.size) for v in record.versions] == [
                (v["name"], v["sha256"], v["size"]) for v in originals["versions"]
            ]
            event = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "record.imported")
            ).one()
            assert event.details["from_record"] == originals["record_id"]
        # A package altered on the way is refused, and nothing is imported from it.
        tampered = (
            package / "data" / "华东仓储改造项目-2010-05" / "华东仓储改造项目-2010-05-1.0.txt"
        )
        tampered.write_text("改过的内容", "utf-8")
        problems = verify_package(receiving, package).problems
        assert any("华东仓储改造项目-2010-05-1.0.txt" in p for p in problems), problems
        with pytest.raises(PackageError, match="fails its checks"):
            import_package(receiving, Actor(name="档案馆"), package)
        refused = cli(env, "transfer", "import", str(package), expect=1)
        assert "nothing imported" in refused.stderr
    finally:
        receiving.close()


def test_a_numbered_record_is_kept_at_least_as_long_as_its_reference_code_says(
    planned: Archive,
) -> None:
    """A 30-year voucher reclassified by one person as a 10-year form kept its 档号
    (KJ…-D30-…) and was destroyed after ten years: the period its number carries is now a
    floor. Reclassified to a longer class it is kept longer; to a permanent one, for good."""
    voucher = file_record(planned, record_type="voucher", when=date(2015, 2, 10))
    number_pending(planned)
    refresh_dirty(planned)
    before = due_of(planned, voucher)
    assert before is not None
    reclassify(planned, MANAGER, voucher, record_type="application", note="看错了")
    refresh_dirty(planned)
    with planned.sessions() as session:
        record = session.get_one(Record, voucher)
        assert record.reference_code is not None
        assert "-D30-" in record.reference_code
        assert record.due_on is not None
        assert record.retention_from is not None
        assert record.due_on >= record.retention_from.replace(year=record.retention_from.year + 30)
    assert sweep(planned, MANAGER).proposed == {}  # not due: nothing to destroy
    reclassify(planned, MANAGER, voucher, record_type="annual_financial_report")
    refresh_dirty(planned)
    assert due_of(planned, voucher) is None  # permanent now
