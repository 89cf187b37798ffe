"""Disposition lists: signed by every required role before anything is destroyed, and then
destroyed for good (crypto-shredding), with the tombstone, the list and the audit kept."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, select, update

from archive.audit import Actor, verify_chain
from archive.content import ContentDestroyed, read_content, store
from archive.core import Archive
from archive.models import (
    AuditEvent,
    DataKey,
    Department,
    DispositionItem,
    DispositionList,
    ListStatus,
    Record,
    RecordChange,
    RecordState,
    Signature,
    SignerRole,
    Tombstone,
    Version,
)
from archive.record_facts import describe
from archive.storage import BlobNotFound
from archive.vocabulary_reasons import reason_text
from ingest.package import check_transfer_folder
from ingest.validate import being_signed
from retention import disposition, execution
from retention.certificate import People, certificate_header, signature_rows
from retention.errors import Conflict, RetentionError
from retention.registers import list_register
from retention.reports import certificate_csv, certificate_pdf
from retention.signed import content_digest
from retention.sweep import sweep
from tests.retention.conftest import MANAGER, add_people, file_record, load_default_plan, user


def _blobs(arc: Archive, record_id: uuid.UUID) -> dict[str, bytes]:
    """Every stored object of the record (originals and renditions), as ciphertext."""
    with arc.sessions() as session:
        keys = session.scalars(
            select(DataKey.object_key).join(Version).where(Version.record_id == record_id)
        ).all()
    copies = {}
    for key in keys:
        with arc.blobs.open(key) as blob:
            copies[key] = blob.read()
    return copies


def _sign_all(arc: Archive, list_id: int) -> None:
    for username, role in [
        ("sun", None),
        ("wang", None),
        ("li", None),
        ("qian", SignerRole.DIRECTOR),
    ]:
        with arc.transaction() as session:
            lst = disposition.get_list(session, list_id)
            disposition.sign(
                session, MANAGER, arc.settings.retention, lst, user(arc, username), role, "同意"
            )


def _prepared(arc: Archive) -> tuple[int, list[uuid.UUID]]:
    """Three due application forms (10 years, destroy) in two departments, on a swept list."""
    old = date(2010, 5, 1)
    records = [
        file_record(arc, record_type="application", when=old, project="旧申请A", versions=2),
        file_record(arc, record_type="application", when=old, project="旧申请B"),
        file_record(arc, record_type="application", when=old, project="旧申请C", department="XS"),
    ]
    file_record(arc, record_type="application", when=date(2024, 1, 5), project="新申请")  # not due
    report = sweep(arc, MANAGER)
    assert report.proposed == {"destroy": 3}
    with arc.transaction() as session:
        lst = session.scalar(
            select(DispositionList).where(DispositionList.number == report.lists[0])
        )
        assert lst is not None
        assert lst.proposed_by_sweep
        assert {item.record_id for item in lst.items} == set(records)
        disposition.set_opinion(
            session, MANAGER, lst, "经鉴定，已过保管期限，无继续保存价值，同意销毁。"
        )
        digest = disposition.submit(session, MANAGER, lst)
        assert len(digest) == 64
        return lst.id, records


def test_a_signed_list_shreds_content_and_keys_and_keeps_the_tombstone(arc: Archive) -> None:
    load_default_plan(arc)
    add_people(arc)
    list_id, records = _prepared(arc)
    before = {record_id: _blobs(arc, record_id) for record_id in records}
    assert sum(len(copies) for copies in before.values()) == 8  # 4 versions × original + text
    with arc.sessions() as session:
        wrapped = session.scalars(
            select(DataKey.wrapped).join(Version).where(Version.record_id.in_(records))
        ).all()
    assert len(wrapped) == 8

    # Not every signature yet: nothing happens.
    with arc.transaction() as session:
        lst = disposition.get_list(session, list_id)
        disposition.sign(session, MANAGER, arc.settings.retention, lst, user(arc, "sun"))
    with pytest.raises(Conflict, match=r"missing department_head.*director"):
        execution.execute(arc, MANAGER, list_id, check_folder=check_transfer_folder)
    with arc.sessions() as session:
        assert all(r.state == RecordState.ACTIVE for r in session.scalars(select(Record)))

    _sign_all_remaining(arc, list_id)
    result = execution.execute(arc, MANAGER, list_id, check_folder=check_transfer_folder)
    assert (result.done, result.skipped) == (3, [])

    with arc.sessions() as session:
        for record_id in records:
            record = session.get(Record, record_id)
            assert record is not None
            assert record.state == RecordState.DISPOSED
            tombstone = session.get(Tombstone, record_id)
            assert tombstone is not None
            assert tombstone.kind == "destroyed"
            digests = [v["sha256"] for v in tombstone.description["versions"]]
            assert digests == [v.sha256 for v in record.versions]
            # The 档号 outlives the content, so its series keeps no gap.
            assert record.reference_code
            assert tombstone.description["reference_code"] == record.reference_code
            keys = session.scalars(
                select(DataKey).join(Version).where(Version.record_id == record_id)
            ).all()
            assert keys
            assert all(k.wrapped is None and k.destroyed_at for k in keys)
            for version in record.versions:
                with pytest.raises(ContentDestroyed):
                    read_content(arc, session, version)
            assert session.scalar(select(RecordChange).where(RecordChange.record_id == record_id))
        lst = disposition.get_list(session, list_id)
        assert lst.status == ListStatus.EXECUTED
        assert verify_chain(session).ok
        destroyed = session.scalars(
            select(AuditEvent.object_id).where(AuditEvent.action == "record.destroyed")
        ).all()
        assert sorted(destroyed) == sorted(str(r) for r in records)

    if arc.settings.is_sqlite:  # nor is any copy of the keys left in the database's files
        database = Path(arc.settings.database_url.removeprefix("sqlite:///"))
        files = (database, database.with_name(database.name + "-wal"))
        disk = b"".join(f.read_bytes() for f in files if f.exists())
        assert not [key for key in wrapped if key and key in disk]

    # The blobs are gone; a copy taken before (a backup, a replica) put back is still
    # unreadable: its data key no longer exists anywhere.
    for copies in before.values():
        for key, ciphertext in copies.items():
            with pytest.raises(BlobNotFound):
                arc.blobs.open(key).read()
            arc.blobs.put(key, io.BytesIO(ciphertext))
    with arc.sessions() as session:
        for record_id in records:
            record = session.get(Record, record_id)
            assert record is not None
            for version in record.versions:
                with pytest.raises(ContentDestroyed):
                    b"".join(read_content(arc, session, version))


def _sign_all_remaining(arc: Archive, list_id: int) -> None:
    for username, role in [("wang", None), ("li", None), ("qian", SignerRole.DIRECTOR)]:
        with arc.transaction() as session:
            lst = disposition.get_list(session, list_id)
            disposition.sign(
                session, MANAGER, arc.settings.retention, lst, user(arc, username), role, "同意"
            )


def test_signing_rules(planned: Archive) -> None:
    add_people(planned)
    list_id, _ = _prepared(planned)
    settings = planned.settings.retention
    with planned.transaction() as session:
        lst = disposition.get_list(session, list_id)
        slots = disposition.required_slots(settings, lst)
        assert [s.role for s in slots].count(SignerRole.DEPARTMENT_HEAD) == 2  # CG and XS
        with pytest.raises(Conflict, match="no signature to give"):
            disposition.sign(session, MANAGER, settings, lst, user(planned, "zhang"))
        # A director of CG could sign as CG's head or as director: they must say which.
        with pytest.raises(RetentionError, match="say which"):
            disposition.sign(session, MANAGER, settings, lst, user(planned, "qian"))
        disposition.sign(
            session, MANAGER, settings, lst, user(planned, "qian"), SignerRole.DIRECTOR
        )
        with pytest.raises(Conflict):  # one person signs once
            disposition.sign(
                session, MANAGER, settings, lst, user(planned, "qian"), SignerRole.DEPARTMENT_HEAD
            )
        with pytest.raises(Conflict, match="is signing"):  # frozen: no edits
            disposition.set_opinion(session, MANAGER, lst, "改")


def test_sending_back_voids_the_signatures_given(planned: Archive) -> None:
    add_people(planned)
    list_id, records = _prepared(planned)
    _sign_all(planned, list_id)
    with planned.transaction() as session:
        lst = disposition.get_list(session, list_id)
        first_digest = lst.digest
        disposition.send_back(session, MANAGER, lst, "C 项尚有未结诉讼")
        disposition.remove_records(session, MANAGER, lst, [records[2]])
        disposition.submit(session, MANAGER, lst)
        assert lst.digest != first_digest
        assert disposition.valid_signatures(lst) == []
        assert len(lst.signatures) == 4  # kept on file, no longer counting
    with pytest.raises(Conflict, match="not fully signed"):
        execution.execute(planned, MANAGER, list_id, check_folder=check_transfer_folder)


def test_records_that_are_not_due_cannot_be_listed(planned: Archive) -> None:
    young = file_record(planned, record_type="application", when=date(2024, 1, 5))
    permanent = file_record(planned, process="strategy", when=date(2001, 1, 1))
    with planned.transaction() as session:
        lst = disposition.create_list(session, MANAGER, disposition.Disposal.DESTROY)
        not_due = "not due: kept until 2034-12-31, eligible from 2035-01-01"
        with pytest.raises(RetentionError, match=not_due):
            disposition.add_records(session, MANAGER, lst, [young])
        with pytest.raises(RetentionError, match="never"):
            disposition.add_records(session, MANAGER, lst, [permanent])


def test_the_certificate_names_what_when_who_and_the_digests(planned: Archive) -> None:
    add_people(planned)
    list_id, records = _prepared(planned)
    _sign_all(planned, list_id)
    execution.execute(planned, MANAGER, list_id, check_folder=check_transfer_folder)
    with planned.sessions() as session:
        lst = disposition.get_list(session, list_id)
        text = certificate_csv(lst)
        digests = [v.sha256 for r in records for v in session.get(Record, r).versions]  # type: ignore[union-attr]
        pdf = PdfReader(io.BytesIO(certificate_pdf(lst)))
        pdf_text = "".join(page.extract_text() for page in pdf.pages)
    assert "档案销毁证明" in text
    assert lst.number in text
    assert str(lst.digest) in text
    assert all(digest in text for digest in digests)
    assert text.count(",已销毁,") == 4  # one row per version
    for username in ("sun", "wang", "li", "qian"):
        assert f"用户{username}" in text
    assert "10.0.0.5" in text  # the signing address
    assert "档案销毁证明" in pdf_text
    assert lst.number in pdf_text
    assert digests[0][:16] in pdf_text.replace("\n", "")


def test_the_certificate_csv_cannot_carry_a_formula(planned: Archive) -> None:
    """A signer's opinion is their own text: in the CSV a formula in it is plain text, and
    the file starts with a BOM so Excel reads the Chinese."""
    add_people(planned)
    list_id, _ = _prepared(planned)
    opinions = {
        "sun": '=HYPERLINK("http://evil.example","同意")',
        "wang": "+1+cmd|' /C calc'!A0",
        "li": "-2+3",
        "qian": "@SUM(1)",
    }
    for username, opinion in opinions.items():
        with planned.transaction() as session:
            lst = disposition.get_list(session, list_id)
            role = SignerRole.DIRECTOR if username == "qian" else None
            disposition.sign(
                session,
                MANAGER,
                planned.settings.retention,
                lst,
                user(planned, username),
                role,
                opinion,
            )
    execution.execute(planned, MANAGER, list_id, check_folder=check_transfer_folder)
    with planned.sessions() as session:
        text = certificate_csv(disposition.get_list(session, list_id))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    signed = {row[3]: row[9] for row in rows if row[:1] == ["签署"]}
    assert signed == {name: "'" + opinion for name, opinion in opinions.items()}
    items = rows[rows.index(next(r for r in rows if r[:1] == ["序号 No."])) + 1 :]
    assert len(items) == 4  # one row per version
    assert sorted({row[0] for row in items}) == ["1", "2", "3"]  # numbers stay numbers


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: Codes the database stores (the test records' titles say "application": that is data).
CODES = re.compile(
    r"\b(records_manager|department_head|director|destroy|destroyed|executed|signing|"
    r"labour_contract|initiation|approval|administration|True|False|None)\b"
)


def _executed(arc: Archive) -> tuple[str, str, str, str]:
    """The executed list's PDF text (Chinese and English), its CSV, and CG's name."""
    add_people(arc)
    list_id, _ = _prepared(arc)
    _sign_all(arc, list_id)
    execution.execute(arc, MANAGER, list_id, check_folder=check_transfer_folder)
    with arc.sessions() as session:
        lst = disposition.get_list(session, list_id)
        chinese = PdfReader(io.BytesIO(certificate_pdf(lst)))
        english = PdfReader(io.BytesIO(certificate_pdf(lst, "en")))
        text = certificate_csv(lst)
        department = session.scalars(select(Department).where(Department.code == "CG")).one().name

    def whole(reader: PdfReader) -> str:
        return "".join(page.extract_text() for page in reader.pages)

    return whole(chinese), whole(english), text, department


def test_the_certificate_reads_as_a_chinese_document(planned: Archive) -> None:
    """Roles, action, states, classes and outcomes as words, departments by name and code,
    the preparer and signers by name, Beijing time; no ids, JSON or stored codes. English
    values when asked."""
    pdf, english, csv, cg = _executed(planned)
    flat = pdf.replace("\n", "")
    for words in (
        "档案销毁证明",
        "销毁",
        "已执行",
        "档案管理员",
        "部门负责人",
        "总监",
        "已销毁",
        "申请表",
    ):
        assert words in flat, words
    assert f"{cg}（CG）" in flat  # a department by name and code
    assert "用户sun（sun）" in flat  # the preparer, a person
    assert "北京时间" in flat
    assert "已处置 3 件" in flat  # the result in words, not a dict
    for document in (flat, csv):
        assert not UUID.search(document), UUID.search(document)
        assert not CODES.search(document), CODES.search(document)
        assert "{" not in document
    assert "Records manager" in english.replace("\n", " ")
    assert "Destroyed" in english


def test_a_list_the_sweep_proposed_was_prepared_by_whoever_submitted_it(
    planned: Archive,
) -> None:
    add_people(planned)
    file_record(planned, record_type="application", when=date(2010, 5, 1))
    report = sweep(planned)  # the scheduled sweep: no person
    with planned.transaction() as session:
        lst = session.scalars(
            select(DispositionList).where(DispositionList.number == report.lists[0])
        ).one()
        assert lst.created_by == "system"
        disposition.set_opinion(session, MANAGER, lst, "已过保管期限，同意销毁。")
        disposition.submit(session, MANAGER, lst)
    with planned.sessions() as session:
        lst = disposition.get_list(session, lst.id)
        prepared = dict(certificate_header(lst))["编制 Prepared by"]
    assert prepared.startswith("用户sun（sun）")


def test_the_console_operator_and_the_system_are_named_in_the_documents_language() -> None:
    """A register is Chinese and an English certificate English: neither mixes the two."""
    chinese, english = People(None), People(None, "en")
    assert chinese.name("cli:root@archive-1") == "控制台操作员（root@archive-1）"
    assert english.name("cli:root@archive-1") == "Console operator (root@archive-1)"
    assert (chinese.name("system"), english.name("system")) == ("系统", "System")
    assert chinese.name("") == ""


def test_a_list_changed_in_the_database_after_signing_is_not_carried_out(
    planned: Archive,
) -> None:
    """The digest is recomputed, not trusted: a record slipped onto a signed list by editing
    the database is not destroyed, nor anything else of the list; an opinion edited after
    execution shows every signature as no longer valid on the certificate and the 清册."""
    add_people(planned)
    list_id, records = _prepared(planned)
    _sign_all_remaining_after_sun(planned, list_id)
    extra = file_record(planned, record_type="application", when=date(2010, 5, 1), project="未签")
    with planned.transaction() as session:
        session.add(DispositionItem(list_id=list_id, record_id=extra))
    with pytest.raises(Conflict, match="not what was signed"):
        execution.execute(planned, MANAGER, list_id, check_folder=check_transfer_folder)
    with planned.sessions() as session:
        states = {r.id: r.state for r in session.scalars(select(Record))}
    assert all(states[r] == RecordState.ACTIVE for r in (*records, extra))

    with planned.transaction() as session:  # put back as signed: it runs
        session.execute(delete(DispositionItem).where(DispositionItem.record_id == extra))
    assert execution.execute(planned, MANAGER, list_id, check_folder=check_transfer_folder).done
    with planned.transaction() as session:
        session.execute(
            update(DispositionList)
            .where(DispositionList.id == list_id)
            .values(opinion="改写的鉴定意见")
        )
    with planned.sessions() as session:
        lst = disposition.get_list(session, list_id)
        rows = signature_rows(lst)
        register = list_register(session, planned.settings, lst)
    assert {row[8] for row in rows} == {"否（清册内容已变）"}
    approvals = dict(register.above)["审批签署"][1:]
    assert {row[4] for row in approvals} == {"无效：清册内容与签署时不符"}


def test_a_list_refrozen_in_the_database_with_signatures_inserted_is_not_carried_out(
    planned: Archive,
) -> None:
    """The attack: a signed list's item pointed at another record, its snapshot and digest
    recomputed (plain SHA-256), the signatures inserted again on the new digest (inserting
    is not blocked). The keyed trail holds no such submission or signatures: nothing is
    destroyed, and the certificate marks the signatures invalid."""
    add_people(planned)
    list_id, records = _prepared(planned)
    _sign_all_remaining_after_sun(planned, list_id)
    other = file_record(planned, record_type="application", when=date(2010, 5, 1), project="未签")
    with planned.transaction() as session:
        lst = disposition.get_list(session, list_id)
        item = lst.items[0]
        record = session.get(Record, other)
        assert record is not None
        item.record_id, item.snapshot = other, describe(session, record)
        session.flush()
        lst.digest = content_digest(lst)
        for given in list(lst.signatures):
            session.add(
                Signature(
                    list_id=list_id,
                    role=given.role,
                    department_id=given.department_id,
                    user_id=given.user_id,
                    username=given.username,
                    display_name=given.display_name,
                    digest=lst.digest,
                    opinion=given.opinion,
                    ip=given.ip,
                )
            )
    with planned.sessions() as session:
        lst = disposition.get_list(session, list_id)
        assert not disposition.missing_slots(planned.settings.retention, lst)  # looks signed
        assert {row[8] for row in signature_rows(lst) if row[7] == lst.digest} == {
            "否（清册内容已变）"
        }
    with pytest.raises(Conflict, match="not what was signed"):
        execution.execute(planned, MANAGER, list_id, check_folder=check_transfer_folder)
    with planned.sessions() as session:
        states = {r.id: r.state for r in session.scalars(select(Record))}
    assert all(states[r] == RecordState.ACTIVE for r in (*records, other))


def test_a_version_added_after_signing_is_refused_and_the_list_is_not_carried_out(
    planned: Archive,
) -> None:
    """Signers sign the versions a record has: an upload to a record on a list being signed
    is quarantined with the list's number, and a version slipped in anyway (here straight
    through the storage service) stops the list rather than being destroyed unsigned for."""
    add_people(planned)
    list_id, records = _prepared(planned)
    _sign_all_remaining_after_sun(planned, list_id)
    with planned.sessions() as session:
        record = session.get(Record, records[1])
        assert record is not None
        refusal = being_signed(session, record)
        number = disposition.get_list(session, list_id).number
    assert refusal is not None
    assert number in refusal
    assert reason_text(refusal, "zh").startswith("档案")
    assert "正在签署的处置清册" in reason_text(refusal, "zh")
    store(
        planned,
        io.BytesIO(b"signed for? no"),
        actor=Actor.cli(),
        original_filename="late.txt",
        media_type="text/plain",
        record_id=records[1],
    )
    with pytest.raises(Conflict, match="not what was signed"):
        execution.execute(planned, MANAGER, list_id, check_folder=check_transfer_folder)
    with planned.sessions() as session:
        assert all(session.get(Record, r).state == RecordState.ACTIVE for r in records)  # type: ignore[union-attr]


def _sign_all_remaining_after_sun(arc: Archive, list_id: int) -> None:
    with arc.transaction() as session:
        lst = disposition.get_list(session, list_id)
        disposition.sign(session, MANAGER, arc.settings.retention, lst, user(arc, "sun"))
    _sign_all_remaining(arc, list_id)
