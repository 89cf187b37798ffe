"""Holds block cut-off, destruction, deletion and transfer; every refusal is audited;
releasing one hold leaves the others."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import select

from archive.audit import Actor
from archive.core import Archive
from archive.db import local_today
from archive.errors import ErrorKind, Problems
from archive.keys import destroy_version_content
from archive.models import AuditEvent, Disposal, DispositionList, HoldScope, Record, RecordState
from ingest.package import check_transfer_folder
from retention import disposition, execution
from retention.certificate import certificate_rows
from retention.deletion import confirm_deletion, request_deletion
from retention.errors import Held, RetentionError
from retention.holds import ensure_free, place_hold, refusals_audited, release_hold
from retention.review import cut_off, review
from retention.sweep import sweep
from tests.retention.conftest import MANAGER, add_people, file_record, load_default_plan, user

OLD = date(2010, 5, 1)


def _refusals(arc: Archive, record_id: uuid.UUID) -> list[str]:
    with arc.sessions() as session:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "retention.refused", AuditEvent.object_id == str(record_id))
            .order_by(AuditEvent.seq)
        ).all()
        return [e.details["action"] for e in events]


def _hold(arc: Archive, scope: HoldScope, **kwargs: object) -> int:
    with arc.transaction() as session:
        hold, _ = place_hold(
            session,
            MANAGER,
            name=f"诉讼 {scope.value}",
            reason="(2026)沪01民初123号",
            scope=scope,
            **kwargs,  # type: ignore[arg-type]
        )
        return hold.id


def test_every_action_on_a_held_record_is_refused_and_audited(planned: Archive) -> None:
    record_id = file_record(planned, record_type="application", when=OLD, project="涉诉项目")
    by_records = _hold(planned, HoldScope.RECORDS, record_ids=[record_id])
    by_project = _hold(planned, HoldScope.PROJECT, project="涉诉项目")

    with pytest.raises(Held, match="on hold"):
        cut_off(planned, MANAGER, record_id)
    with pytest.raises(Held):
        request_deletion(planned, MANAGER, record_id, "重复归档 filed twice")
    with pytest.raises(Held):
        review(planned, MANAGER, record_id, opinion="无保存价值", outcome="destroy")
    with planned.transaction() as session:
        transfer = disposition.create_list(session, MANAGER, Disposal.TRANSFER).id
    with pytest.raises(Held), refusals_audited(planned, MANAGER), planned.transaction() as session:
        disposition.add_records(
            session, MANAGER, session.get(DispositionList, transfer), [record_id]
        )
    with planned.sessions() as session:
        version_id = session.get(Record, record_id).versions[0].id  # type: ignore[union-attr]

    def check(session: object, version: object) -> None:
        ensure_free(session, record_id, "destroy version")  # type: ignore[arg-type]

    with pytest.raises(Held), refusals_audited(planned, Actor.cli()):
        destroy_version_content(planned, Actor.cli(), version_id, "手工销毁", check)

    assert _refusals(planned, record_id) == [
        "cut-off",
        "delete",
        "destroy",
        f"transfer (list YJ-{local_today().year}-0001)",
        "destroy version",
    ]
    assert sweep(planned, MANAGER).held == 1  # due, but not proposed

    # A hold is lifted with a reason that says something: "x" is refused, "结案" is not.
    for empty in ("x", "  ok  ", "结", ".....", "\u200b" * 5, "\u00ad" * 5, "结\u200b"):
        with pytest.raises(RetentionError) as refused, planned.transaction() as session:
            release_hold(session, MANAGER, by_records, empty)
        assert refused.value.code == "reason_short"
    # Two holds: releasing one leaves the record held by the other.
    with planned.transaction() as session:
        release_hold(session, MANAGER, by_records, "判决生效")
    with pytest.raises(Held, match="诉讼 project"):
        cut_off(planned, MANAGER, record_id)
    with planned.transaction() as session:
        release_hold(session, MANAGER, by_project, "结案")
    cut_off(planned, MANAGER, record_id, OLD)
    with pytest.raises(RetentionError, match="at least 2 Chinese characters"):
        request_deletion(planned, MANAGER, record_id, "dup")
    deletion = request_deletion(planned, MANAGER, record_id, "误归档")  # three characters do
    add_people(planned)
    confirm_deletion(planned, MANAGER, user(planned, "qian").id, deletion.id)
    with planned.sessions() as session:
        assert session.get(Record, record_id).state == RecordState.DISPOSED  # type: ignore[union-attr]


def test_a_list_names_every_refused_record_at_once_adds_none_and_audits_the_held(
    planned: Archive,
) -> None:
    due = file_record(planned, record_type="application", when=OLD, project="甲项目")
    held = file_record(planned, record_type="application", when=OLD, project="涉诉项目")
    young = file_record(planned, record_type="application", when=date(2024, 1, 5))
    _hold(planned, HoldScope.RECORDS, record_ids=[held])
    with planned.transaction() as session:
        list_id = disposition.create_list(session, MANAGER, Disposal.DESTROY).id
    with (
        pytest.raises(Problems) as refused,
        refusals_audited(planned, MANAGER),
        planned.transaction() as session,
    ):
        disposition.add_records(
            session, MANAGER, session.get_one(DispositionList, list_id), [young, due, held]
        )
    assert [p.code for p in refused.value.problems] == ["not_due", "held"]
    assert {p.field for p in refused.value.problems} == {"records"}
    assert refused.value.kind == ErrorKind.INVALID  # not due: the first problem's kind
    with planned.sessions() as session:  # the acceptable one waits for the choice to be fixed
        assert session.get_one(DispositionList, list_id).items == []
    assert _refusals(planned, held) == [f"destroy (list XH-{local_today().year}-0001)"]
    with planned.transaction() as session:
        assert (
            disposition.add_records(
                session, MANAGER, session.get_one(DispositionList, list_id), [due]
            )
            == 1
        )


def test_a_query_hold_covers_matching_records_now_and_later(planned: Archive) -> None:
    early = file_record(planned, record_type="contract", when=OLD, project="华南合同")
    _hold(planned, HoldScope.QUERY, query={"record_type": "contract", "filed_to": "2020-12-31"})
    later = file_record(planned, record_type="contract", when=date(2015, 1, 1), project="华北合同")
    outside = file_record(planned, record_type="contract", when=date(2024, 1, 1), project="新合同")
    for record_id in (early, later):
        with pytest.raises(Held):
            cut_off(planned, MANAGER, record_id)
    cut_off(planned, MANAGER, outside)


def test_a_hold_placed_after_signing_stops_execution_for_that_record(planned: Archive) -> None:
    add_people(planned)
    kept = file_record(planned, record_type="application", when=OLD, project="甲")
    gone = file_record(planned, record_type="application", when=OLD, project="乙")
    report = sweep(planned, MANAGER)
    with planned.transaction() as session:
        lst = session.scalars(select(disposition.DispositionList)).one()
        disposition.set_opinion(session, MANAGER, lst, "同意销毁")
        disposition.submit(session, MANAGER, lst)
        for name, role in [
            ("sun", None),
            ("wang", None),
            ("qian", disposition.SignerRole.DIRECTOR),
        ]:
            disposition.sign(
                session, MANAGER, planned.settings.retention, lst, user(planned, name), role
            )
        list_id = lst.id
    assert report.lists
    _hold(planned, HoldScope.RECORDS, record_ids=[kept])
    result = execution.execute(planned, MANAGER, list_id, check_folder=check_transfer_folder)
    assert result.done == 1
    assert [name for name, _ in result.skipped] == ["甲-2010-05"]
    with planned.sessions() as session:
        assert session.get(Record, kept).state == RecordState.ACTIVE  # type: ignore[union-attr]
        assert session.get(Record, gone).state == RecordState.DISPOSED  # type: ignore[union-attr]
    assert _refusals(planned, kept) == [f"destroy (list {result.number})"]
    with planned.sessions() as session:  # the certificate: a time only where it was done
        rows = certificate_rows(session.get_one(DispositionList, list_id))
    done = {row["name"]: (row["outcome"], row["done_at"]) for row in rows}
    assert done["甲-2010-05"] == ("未处置", "")  # kept: held after signing
    assert done["乙-2010-05"][0] == "已销毁"
    assert done["乙-2010-05"][1]


def test_a_query_hold_leaves_records_without_the_field_to_the_sweep(arc: Archive) -> None:
    """A record with no 业务流程 is not covered by a hold on one; SQL's unknown must not make
    it neither held nor free, silently dropped from the sweep and the due counts."""
    load_default_plan(arc)
    planned = arc
    due = file_record(planned, record_type="application", when=OLD)
    with planned.sessions() as session:
        assert session.get_one(Record, due).process is None
    _hold(planned, HoldScope.QUERY, query={"process": "finance"})
    report = sweep(planned, MANAGER)
    assert report.held == 0
    with planned.sessions() as session:
        listed = session.scalars(select(DispositionList)).all()
        assert [str(i.record_id) for lst in listed for i in lst.items] == [str(due)]
