"""The disposition certificate reads as a Chinese document: roles, actions, states, classes
and outcomes as words, departments by name and code, the preparer and the signers by name,
Beijing time; no ids, no JSON, no codes such as ``records_manager`` or ``destroy``. English
values when asked."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from archive.core import Archive
from archive.models import Department
from ingest.package import check_transfer_folder
from retention import disposition, execution
from retention.reports import certificate_csv, certificate_pdf
from tests.retention.conftest import MANAGER, add_people
from tests.retention.test_disposition import _prepared, _sign_all

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
        department = session.query(Department).filter_by(code="CG").one().name

    def whole(reader: PdfReader) -> str:
        return "".join(page.extract_text() for page in reader.pages)

    return whole(chinese), whole(english), text, department


def test_the_certificate_reads_as_a_chinese_document(planned: Archive) -> None:
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
