"""A record without its 档号 stays off destruction and transfer lists, with the reason and
what to do; a transfer package whose records lack a 档号 fails ``transfer verify``."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date
from pathlib import Path

import bagit
import pytest
from sqlalchemy import select, update

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.models import Disposal, DispositionItem, DispositionList, Record
from archive.signals import version_stored
from ingest.package import PackageError, import_package, verify_package
from retention import disposition
from retention.errors import Unnumbered
from retention.schedules import retire_schedule
from retention.status import refresh_dirty
from retention.sweep import sweep
from tests.access.test_cli import cli
from tests.conftest import make_environ
from tests.retention.conftest import MANAGER, file_record
from tests.retention.test_review import OLD, transfer_one


def _waiting_for_review(arc: Archive, project: str) -> uuid.UUID:
    """A due application form whose class a person must still confirm: no 档号."""
    with version_stored.muted():  # as if the listener had not run yet
        record_id = file_record(arc, record_type="application", when=OLD, project=project)
    with arc.transaction() as session:
        session.execute(update(Record).where(Record.id == record_id).values(needs_review=True))
    refresh_dirty(arc)
    return record_id


def _listed(arc: Archive) -> int:
    with arc.sessions() as session:
        return len(session.scalars(select(DispositionItem)).all())


@pytest.mark.parametrize("action", [Disposal.DESTROY, Disposal.TRANSFER])
def test_a_record_waiting_for_review_is_refused_with_the_reason(
    planned: Archive, action: Disposal
) -> None:
    record_id = _waiting_for_review(planned, "待审申请")
    with planned.sessions() as session:
        record = session.get_one(Record, record_id)
        assert record.reference_code is None
        assert record.due_on is not None  # due: only the missing 档号 keeps it off
    with pytest.raises(Unnumbered) as refused, planned.transaction() as session:
        disposition.create_list(session, MANAGER, action, [record_id])
    assert refused.value.reason == "review"
    assert str(refused.value) == (
        f"record 待审申请-2010-05 has no 档号 yet, so it cannot go on a {action.value} list: "
        "its class waits for review: settle it in the classification review queue"
    )
    with planned.transaction() as session:  # nor onto a list that exists
        lst = disposition.create_list(session, MANAGER, action)
        with pytest.raises(Unnumbered, match="classification review queue"):
            disposition.add_records(session, MANAGER, lst, [record_id])
    assert _listed(planned) == 0

    # The sweep leaves it off the list it proposes, and says how many it left.
    report = sweep(planned, MANAGER)
    assert (report.proposed, report.unnumbered) == ({}, 1)


def test_a_record_without_a_schedule_is_refused_with_what_to_do(planned: Archive) -> None:
    with planned.transaction() as session:
        retire_schedule(session, MANAGER, "general", "测试: 没有兜底的保管期限")
    refresh_dirty(planned)
    record_id = file_record(planned, record_type=None, when=OLD, project="无分类")
    with planned.sessions() as session:
        record = session.get_one(Record, record_id)
        assert (record.schedule_id, record.reference_code) == (None, None)
    with pytest.raises(Unnumbered) as refused, planned.transaction() as session:
        disposition.create_list(session, MANAGER, Disposal.TRANSFER, [record_id])
    assert refused.value.reason == "unscheduled"
    assert "no retention schedule applies to its class" in str(refused.value)
    assert "add a schedule for it to the file plan" in str(refused.value)


def test_the_cli_gives_the_refusal(planned: Archive) -> None:
    record_id = _waiting_for_review(planned, "命令行")
    env = make_environ(planned.settings.home, "sqlite", "local")
    refused = cli(env, "retention", "list", "create", "--record", str(record_id), expect=1)
    assert "has no 档号 yet" in refused.stderr
    assert "classification review queue" in refused.stderr
    with planned.sessions() as session:
        assert session.scalars(select(DispositionList)).all() == []

    # The listings show the 门类 and filing unit, and the volumes.
    listed = cli(env, "retention", "schedules").stdout
    assert "\treview（鉴定）\tKJ\tmonth（按月组卷）\t*/*/voucher" in listed
    assert (
        "minutes\t会议纪要\t1\t10年（D10）\tyear_end（归档年度末）\treview（鉴定）\tWS\titem"
        in listed
    )
    file_record(planned, record_type="voucher", when=date(2023, 3, 15), project="凭证")
    volumes = cli(env, "retention", "volumes", "--series", "KJ·2023").stdout
    assert re.match(r"KJ·2023-D30-CG-0001\s+2023-03-15 – 2023-03-15\s+1\s+会计凭证", volumes)


def test_transfer_verify_fails_a_package_whose_record_lacks_its_code(
    planned: Archive, tmp_path: Path
) -> None:
    _, result = transfer_one(planned)
    package = Path(str(result.package).split(" (")[0])
    receiving = Archive(load_settings(make_environ(tmp_path / "receiver", "sqlite", "local")))
    env = make_environ(tmp_path / "receiver", "sqlite", "local")
    try:
        initialize(receiving, Actor.cli())
        assert verify_package(receiving, package).ok

        # The sender's 档号 taken out of the description, the manifests made to match.
        (metadata,) = (package / "data").glob("*/metadata.json")
        description = json.loads(metadata.read_text("utf-8"))
        assert description["reference_code"]
        description["reference_code"] = None
        metadata.write_text(json.dumps(description, ensure_ascii=False), "utf-8")
        bag = bagit.Bag(str(package))
        bag.save(manifests=True)
        bag.validate()  # a well-formed bag: only the 档号 is wrong

        report = verify_package(receiving, package)
        folder = metadata.parent.name
        assert report.problems == [
            f"{folder}/record: authenticity.reference_code no 档号: a record is transferred "
            "under it",
            f"{folder}/record: integrity.required_metadata missing reference_code",
        ]
        refused = cli(env, "transfer", "verify", str(package), expect=1)
        assert "missing reference_code" in refused.stdout + refused.stderr
        with pytest.raises(PackageError, match="nothing imported"):
            import_package(receiving, Actor(name="档案馆"), package)
    finally:
        receiving.close()
