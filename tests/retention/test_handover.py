"""The handover of a transfer: the package's description as DA/T 46 XML, the receiving
archive's signed receipt, and the sending archive recording it against its list."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import bagit
import pytest
from sqlalchemy import select

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.core import Archive
from archive.models import AccessEvent, AuditEvent, DispositionList, Record
from archive.receipts import ReceiptError, verify_receipt
from ingest.package import PackageError, import_package, verify_package
from retention.dat46 import description_xml
from retention.errors import Conflict
from retention.handover import record_receipt
from retention.register_files import register_pdf
from retention.registers import list_register
from tests.access.test_cli import cli
from tests.conftest import make_environ
from tests.retention.conftest import MANAGER
from tests.retention.test_registers import pdf_text
from tests.retention.test_review import transfer_one

RECEIVER = "上海市档案馆"


def package_of(result: object) -> Path:
    return Path(str(result.package).split(" (")[0])  # type: ignore[attr-defined]


def test_the_package_carries_the_description_under_dat46_names(planned: Archive) -> None:
    record_id, result = transfer_one(planned)
    folder = next((package_of(result) / "data").iterdir())
    xml = ET.fromstring((folder / "metadata.xml").read_bytes())  # noqa: S314 - our own output
    described = json.loads((folder / "metadata.json").read_text("utf-8"))
    assert xml.tag == "电子文件元数据"
    assert xml.findtext("聚合层次") == "文件"
    assert xml.findtext("电子文件号") == str(record_id)
    assert xml.findtext("内容描述/题名") == described["title"]
    # The document's own date, as the registers write it.
    assert (described["document_date"], xml.findtext("内容描述/日期")) == ("2010-05-01", "20100501")
    assert xml.findtext("内容描述/文种") == "board"  # a class the vocabulary does not know
    month_only = ET.fromstring(  # noqa: S314 - our own output
        description_xml({**described, "document_date": "2012-06", "class": {"type": "minutes"}})
    )
    assert month_only.findtext("内容描述/日期") == "20120600"  # no day invented: 00
    assert month_only.findtext("内容描述/文种") == "会议纪要"  # the word, not the code
    assert xml.findtext("内容描述/密级") == "内部"
    assert xml.findtext("档号/档号全文") == described["reference_code"]
    assert xml.findtext("档号/年度") == "2010"
    assert xml.findtext("档号/保管期限") == "D5"
    digests = [e.text for e in xml.iterfind("电子属性/数字摘要")]
    assert digests == [v["sha256"] for v in described["versions"]]
    assert [e.get("算法") for e in xml.iterfind("电子属性/数字摘要")] == ["SHA-256"] * 2
    assert xml.find("业务实体/业务行为/行为描述") is not None  # the audit trail, as 业务实体


def test_the_receiving_archive_signs_a_receipt_the_sender_records(
    planned: Archive, tmp_path: Path
) -> None:
    record_id, result = transfer_one(planned)
    package = package_of(result)
    env = {
        **make_environ(tmp_path / "receiver", "sqlite", "local"),
        "ARCHIVE_ORGANISATION": RECEIVER,
    }
    receiving = Archive(load_settings(env))
    try:
        initialize(receiving, Actor.cli())
        receipt = import_package(receiving, Actor(name="档案馆接收员"), package).receipt
    finally:
        receiving.close()
    assert verify_receipt(receipt)
    assert (receipt["receiver"], receipt["received_by"]) == (RECEIVER, "档案馆接收员")
    with planned.sessions() as session:
        lst = session.scalars(select(DispositionList)).one()
        code = session.get(Record, record_id).reference_code  # type: ignore[union-attr]
        list_id = lst.id
    assert [r["reference_code"] for r in receipt["records"]] == [code]

    forged = {**receipt, "receiver": "别的单位"}
    with pytest.raises(ReceiptError, match="signature"):
        record_receipt(planned, MANAGER, list_id, forged)
    with pytest.raises(ReceiptError, match="not"):
        record_receipt(planned, MANAGER, list_id, {**receipt, "list": "YJ-1999-0001"})

    for malformed in ({**receipt, "records": "abc"}, {**receipt, "records": [1, 2]}):
        with pytest.raises(ReceiptError):  # refused by its signature or its shape, not a 500
            record_receipt(planned, MANAGER, list_id, malformed)

    # Decrypting a record into the package is a read, in the 利用登记, to the receiver.
    with planned.sessions() as session:
        exported = session.scalars(
            select(AccessEvent).where(AccessEvent.action == "transfer")
        ).all()
        assert [(e.record_id, e.outcome) for e in exported] == [(str(record_id), "allowed")]
        assert lst.number in exported[0].details
    assert package.is_dir()
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps(receipt, ensure_ascii=False), "utf-8")
    sender_env = {"ARCHIVE_HOME": str(planned.settings.home), "ARCHIVE_NAME_DATE": "month"}
    recorded = cli(sender_env, "retention", "list", "receipt", lst.number, str(receipt_file))
    assert "receipt recorded" in recorded.stdout
    assert not package.exists()  # received: no plaintext copy stays under the home

    with pytest.raises(Conflict, match="receipt already"):  # no replay, no replacement
        record_receipt(planned, MANAGER, list_id, receipt)
    with planned.sessions() as session:
        lst = session.get_one(DispositionList, list_id)
        assert lst.result["receipt"]["receiver"] == RECEIVER  # type: ignore[index]
        register = list_register(session, planned.settings, lst)
        assert session.scalars(
            select(AuditEvent).where(AuditEvent.action == "disposition.receipt_recorded")
        ).one()
    text = pdf_text(register_pdf(register))
    for words in ("交接双方", RECEIVER, "档案馆接收员", "接收回执"):
        assert words in text, words


def test_a_receipt_from_another_party_than_the_approved_one_is_refused(
    planned: Archive, tmp_path: Path
) -> None:
    _, result = transfer_one(planned)  # approved for 上海市档案馆
    env = {
        **make_environ(tmp_path / "other", "sqlite", "local"),
        "ARCHIVE_ORGANISATION": "别的单位",
    }
    other = Archive(load_settings(env))
    try:
        initialize(other, Actor.cli())
        receipt = import_package(other, Actor(name="某人"), package_of(result)).receipt
    finally:
        other.close()
    with planned.sessions() as session:
        list_id = session.scalars(select(DispositionList.id)).one()
    with pytest.raises(ReceiptError, match="approved"):
        record_receipt(planned, MANAGER, list_id, receipt)


def test_a_package_naming_files_outside_its_folders_is_refused_unread(
    planned: Archive, tmp_path: Path
) -> None:
    """A sending archive's description named ``../../etc/hostname`` (with its real SHA-256):
    verify passed and import stored the receiver's own file. Names that leave the record's
    folder, and links, are refused before anything is opened."""
    _, result = transfer_one(planned)
    package = package_of(result)
    folder = next((package / "data").iterdir())
    described = json.loads((folder / "metadata.json").read_text("utf-8"))
    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"not the package's")
    (filename, name), *_ = described["files"].items()
    others = {f: n for f, n in described["files"].items() if n != name}
    for stray in (f"../../../../../../..{secret}", str(secret)):
        described["files"] = {stray: name, **others}
        (folder / "metadata.json").write_text(json.dumps(described, ensure_ascii=False), "utf-8")
        bagit.Bag(str(package)).save(manifests=True)  # a well-formed bag around it
        report = verify_package(planned, package)
        assert not report.ok
        assert any("not a file of this record's folder" in p for p in report.problems)
        assert not any("SHA-256" in p for p in report.problems)  # nothing of it is said
        with pytest.raises(PackageError, match="fails its checks"):
            import_package(planned, Actor(name="档案馆"), package)
    (folder / filename).unlink()
    (folder / filename).symlink_to(secret)  # a link in the folder, to a file elsewhere
    with pytest.raises(PackageError):  # bagit calls the path unsafe: nothing is read
        verify_package(planned, package)
