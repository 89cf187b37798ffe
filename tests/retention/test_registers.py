"""The registers (归档文件目录, 销毁清册, 移交清册) read back from their XLSX and PDF, witnessed
destruction (监销) closing a list, and the registers of closed lists kept as records."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from archive.audit import Actor
from archive.bootstrap import initialize
from archive.config import load_settings
from archive.content import read_content
from archive.core import Archive
from archive.errors import InvalidInput
from archive.models import (
    AuditEvent,
    Disposal,
    DispositionList,
    Hold,
    HoldScope,
    ListStatus,
    Record,
    RenditionRole,
    RetentionSchedule,
    Sensitivity,
    SignerRole,
)
from archive.refcode import number_pending
from ingest.package import check_transfer_folder
from retention import disposition, execution
from retention.catalogue import CATALOGUE_COLUMNS, catalogue
from retention.errors import Conflict, RetentionError
from retention.holds import place_hold, release_hold
from retention.register_files import register_pdf, register_xlsx
from retention.registers import (
    WITHHELD,
    destroyed_count,
    file_register,
    list_register,
    register_text,
)
from retention.review import review
from retention.status import refresh_dirty
from retention.sweep import sweep
from retention.witness import required_witnesses, witness_list
from retention.witness import slots_for as witness_slots_for
from tests.conftest import make_environ
from tests.retention.conftest import (
    CG_SIGNERS,
    MANAGER,
    add_people,
    file_record,
    load_default_plan,
    sign_as,
    user,
)
from tests.retention.test_disposition import _sign_all

ORGANISATION = "上海华东仓储有限公司"
#: Another records manager, who carries lists out (the witnesses are others).
EXECUTOR = Actor(name="zhou", ip="10.0.0.6")


@pytest.fixture
def registered(tmp_path: Path) -> Iterator[Archive]:
    env = {
        **make_environ(tmp_path / "home", "sqlite", "local"),
        "ARCHIVE_ORGANISATION": ORGANISATION,
        "ARCHIVE_FONDS_CODE": "Z109",
    }
    arc = Archive(load_settings(env))
    initialize(arc, Actor.cli())
    load_default_plan(arc)
    add_people(arc)
    yield arc
    arc.close()


def xlsx_rows(data: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def table_after(rows: list[list[str]], header: list[str]) -> list[list[str]]:
    start = next(i for i, row in enumerate(rows) if row[: len(header)] == header)
    body = []
    for row in rows[start + 1 :]:
        if not any(row):
            break
        body.append(row[: len(header)])
    return body


def test_the_catalogue_of_a_year_reads_back_from_xlsx_and_pdf(registered: Archive) -> None:
    first = file_record(registered, record_type="minutes", when=date(2023, 3, 15))
    second = file_record(registered, record_type="minutes", when=date(2023, 5, 2), project="乙")
    file_record(registered, record_type="minutes", when=date(2024, 1, 9), project="丙")
    refresh_dirty(registered)
    number_pending(registered)
    waiting = file_record(registered, record_type="minutes", when=date(2023, 7, 1), project="丁")
    with registered.transaction() as session:  # its class sent back for review: no 档号
        record = session.get_one(Record, waiting)
        record.needs_review = True
        record.reference_code = record.reference_series = record.reference_item = None
    with registered.sessions() as session:
        register = catalogue(session, registered.settings, 2023, department="CG", code="D10",
                             prepared_by="孙经理")  # fmt: skip
        codes = [session.get(Record, r).reference_code for r in (first, second)]  # type: ignore[union-attr]

    with registered.sessions() as session:  # D1 is a period of its own, not a prefix of D10
        assert catalogue(session, registered.settings, 2023, code="D1").rows == []
    header = [name for name, _ in CATALOGUE_COLUMNS]
    assert header == ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"]
    rows = xlsx_rows(register_xlsx(register))
    assert rows[0][0] == "归档文件目录"
    assert rows[1][:2] == ["立档单位", ORGANISATION]
    assert rows[2][:2] == ["全宗号", "Z109"]
    body = table_after(rows, header)
    assert [row[1] for row in body] == codes  # 档号 order; 2024's record is not in 2023's
    assert codes == ["Z109-WS·2023-D10-CG-0001", "Z109-WS·2023-D10-CG-0002"]
    assert [row[0] for row in body] == ["1", "2"]
    assert [row[5] for row in body] == ["20230315", "20230502"]
    assert {row[6] for row in body} == {"内部"}  # 密级 in words, not a code
    assert any(row[:1] == ["备考表"] for row in rows)
    assert any("孙经理" in row for row in rows)
    missing = next(row for row in rows if row[:1] == ["本年度尚未编号、未列入本目录"])
    assert missing[1].startswith("1 件")  # said, not silently left out

    text = pdf_text(register_pdf(register))
    for heading in [*header, "归档文件目录", "备考表", ORGANISATION, "Z109", *codes]:
        assert heading in text, heading
    assert "第 1 页 共 1 页" in text


def test_destruction_is_witnessed_before_the_list_closes_and_its_register_is_kept(
    registered: Archive,
) -> None:
    old = date(2010, 5, 1)
    cg = file_record(registered, record_type="application", when=old, project="旧申请A")
    xs = file_record(registered, record_type="application", when=old, project="旧申请B",
                     department="XS")  # fmt: skip
    number_pending(registered)
    report = sweep(registered, MANAGER)
    with registered.transaction() as session:
        lst = session.scalar(
            select(DispositionList).where(DispositionList.number == report.lists[0])
        )
        assert lst is not None
        disposition.set_opinion(session, MANAGER, lst, "经鉴定已无保存价值，同意销毁。")
        disposition.submit(session, MANAGER, lst)
        list_id = lst.id
    _sign_all(registered, list_id)
    # Carried out by another records manager: 监销 is someone else watching (see below).
    execution.execute(registered, EXECUTOR, list_id, check_folder=check_transfer_folder)

    with registered.sessions() as session:
        lst = disposition.get_list(session, list_id)
        assert lst.closed_at is None  # executed, not yet witnessed
        slots = [s.key for s in required_witnesses(session, registered.settings.retention, lst)]
    assert slots == ["records_manager", "department:CG", "department:XS"]

    witness = {name: user(registered, name).id for name in ("sun", "zhang", "li", "qian")}
    witness_list(registered, MANAGER, list_id, witness["sun"], statement="现场监督销毁")
    with pytest.raises(Conflict, match="no witness signature"):
        witness_list(registered, MANAGER, list_id, witness["sun"])  # once per person
    witness_list(registered, MANAGER, list_id, witness["zhang"])  # CG's representative
    with pytest.raises(Conflict, match="no witness signature"):
        witness_list(registered, MANAGER, list_id, witness["qian"])  # CG's slot is taken
    with registered.sessions() as session:
        assert disposition.get_list(session, list_id).closed_at is None
    witness_list(registered, MANAGER, list_id, witness["li"])  # XS: the last slot

    with registered.sessions() as session:
        lst = disposition.get_list(session, list_id)
        assert lst.closed_at is not None
        register = list_register(session, registered.settings, lst)
        kept_id = uuid.UUID(lst.result["register_record_id"])  # type: ignore[index]
        kept = session.get(Record, kept_id)
        assert kept is not None
        assert kept.title == f"档案销毁清册 {lst.number}"
        assert kept.sensitivity == Sensitivity.INTERNAL  # two departments' internal records
        schedule = session.get(RetentionSchedule, kept.schedule_id)
        assert schedule is not None
        assert (schedule.key, kept.due_on) == ("archival_work", None)  # kept permanently
        actions = set(session.scalars(select(AuditEvent.action)))
        assert {"disposition.witnessed", "disposition.closed"} <= actions
        filed = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "disposition.register_filed")
        ).one()
        assert filed.actor == "system"  # the archive filed it, not the last witness
        codes = [session.get(Record, r).reference_code for r in (cg, xs)]  # type: ignore[union-attr]

    header = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "保管期限",
              "鉴定意见", "销毁方式", "销毁时间", "监销人"]  # fmt: skip
    rows = xlsx_rows(register_xlsx(register))
    body = table_after(rows, header)
    assert [row[1] for row in body] == codes
    assert {row[6] for row in body} == {"内部"}  # 密级 in words
    assert {row[8] for row in body} == {"10年"}
    assert all("密钥销毁" in row[10] for row in body)
    assert all("用户sun" in row[12] and "用户li" in row[12] for row in body)
    text = pdf_text(register_pdf(register))
    for words in (
        "档案销毁清册",
        "审批签署",
        "监销签署",
        "现场监督销毁",
        "档案管理员",
        "鉴定意见",
    ):
        assert words in text, words
    assert text.index("审批签署") < text.index("监销签署")  # approvals above, 监销 below
    lines = text.splitlines()  # codes, times and 密级 each on one line, never cut in two
    for code in codes:
        assert any(code in line for line in lines), code
    destroyed_at = body[0][11]
    assert any(destroyed_at in line for line in lines), destroyed_at
    assert any("内部" in line for line in lines)


def test_a_register_says_what_was_not_destroyed_and_the_executor_does_not_witness(
    registered: Archive,
) -> None:
    """A record held after signing stays: its row says so and why, with no time of
    destruction and no witness; the heading counts both; whoever carried the list out
    cannot sign as its 监销人."""
    old = date(2010, 5, 1)
    kept = file_record(registered, record_type="application", when=old, project="旧申请甲")
    file_record(registered, record_type="application", when=old, project="旧申请乙")
    number_pending(registered)
    sweep(registered, MANAGER)
    with registered.transaction() as session:
        lst = session.scalars(select(DispositionList)).one()
        disposition.set_opinion(session, MANAGER, lst, "经鉴定已无保存价值，同意销毁。")
        disposition.submit(session, MANAGER, lst)
        list_id = lst.id
    sign_as(registered, list_id, CG_SIGNERS)
    with registered.transaction() as session:
        hold, _ = place_hold(session, MANAGER, name="审计调阅冻结", reason="审计署调阅",
                             scope=HoldScope.RECORDS, record_ids=[kept])  # fmt: skip
        hold_id = hold.id
    execution.execute(registered, MANAGER, list_id, check_folder=check_transfer_folder)

    with registered.sessions() as session:
        lst = disposition.get_list(session, list_id)
        register = list_register(session, registered.settings, lst)
        kept_code = session.get(Record, kept).reference_code  # type: ignore[union-attr]
    assert ("状态", "已执行（部分未销毁）") in register.heading
    assert ("件数", "共 2 件；已销毁 1 件，未销毁 1 件") in register.heading
    rows = {row[1]: row for row in register.rows}
    held = rows.pop(kept_code)  # type: ignore[arg-type]
    assert held[10] == f"未销毁：冻结中：#{hold_id} 审计调阅冻结"
    assert held[11:] == ["", ""]  # no time of destruction, nobody witnessed it
    (gone,) = rows.values()
    assert "密钥销毁" in gone[10]
    assert gone[11]

    sun = user(registered, "sun").id  # the records manager who executed it
    with pytest.raises(Conflict) as refused:
        witness_list(registered, MANAGER, list_id, sun)
    assert refused.value.code == "witness_executor"
    with registered.sessions() as session:
        lst = disposition.get_list(session, list_id)
        assert (
            witness_slots_for(session, registered.settings.retention, lst, user(registered, "sun"))
            == []
        )
    # sun is the archive's only records manager: a director witnesses for the archive.
    witness_list(registered, MANAGER, list_id, user(registered, "qian").id, "records_manager")
    with registered.sessions() as session:
        lst = disposition.get_list(session, list_id)
        assert [(w.username, w.slot) for w in lst.witnesses] == [("qian", "records_manager")]
        assert lst.witnesses[0].capacity == "档案管理员（由总监代为监销）"


def test_accounting_records_need_finance_and_it_to_witness(registered: Archive) -> None:
    voucher = file_record(
        registered, record_type="voucher", process="finance", when=date(1990, 1, 5)
    )
    # A 文书 application whose class a keyword put under finance is not an accounting record.
    budget = file_record(registered, record_type="application", process="finance",
                         when=date(2010, 1, 5), project="预算申请")  # fmt: skip
    number_pending(registered)
    with registered.transaction() as session:
        lst = disposition.create_list(session, MANAGER, disposition.Disposal.DESTROY)
        disposition.add_records(session, MANAGER, lst, [budget])
        slots = [s.key for s in required_witnesses(session, registered.settings.retention, lst)]
        assert slots == ["records_manager", "department:CG"]
        disposition.add_records(session, MANAGER, lst, [voucher])
        assert "KJ·" in session.get_one(Record, voucher).reference_code  # type: ignore[operator]
        slots = [s.key for s in required_witnesses(session, registered.settings.retention, lst)]
    assert slots == ["records_manager", "department:CG", "finance", "it"]


def test_a_transfer_register_has_the_handover_block_and_is_kept(registered: Archive) -> None:
    with registered.transaction() as session:
        session.execute(
            RetentionSchedule.__table__.update()
            .where(RetentionSchedule.key == "application")
            .values(disposal="transfer")
        )
    record = file_record(registered, record_type="application", when=date(2010, 5, 1))
    number_pending(registered)
    with registered.transaction() as session:
        lst = disposition.create_list(session, MANAGER, disposition.Disposal.TRANSFER)
        disposition.add_records(session, MANAGER, lst, [record])
        disposition.set_opinion(session, MANAGER, lst, "到期移交市档案馆")
        with pytest.raises(RetentionError, match="接收方"):
            disposition.submit(session, MANAGER, lst)
        disposition.set_receiver(session, MANAGER, lst, "上海市档案馆")
        disposition.submit(session, MANAGER, lst)
        list_id = lst.id
    sign_as(registered, list_id, CG_SIGNERS)
    execution.execute(registered, MANAGER, list_id, check_folder=check_transfer_folder)
    with registered.sessions() as session:
        lst = disposition.get_list(session, list_id)
        assert lst.closed_at is not None  # nothing to witness
        register = list_register(session, registered.settings, lst)
        kept = session.get(Record, uuid.UUID(lst.result["register_record_id"]))  # type: ignore[index]
        assert kept is not None
        assert kept.title.startswith("档案移交清册")
    text = pdf_text(register_pdf(register))
    for words in ("档案移交清册", "交接双方", "移交方", "接收方", ORGANISATION, "上海市档案馆"):
        assert words in text, words
    header = ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "保管期限",
              "鉴定意见", "移交情况", "时间"]  # fmt: skip
    rows = xlsx_rows(register_xlsx(register))
    (row,) = table_after(rows, header)
    assert row[1].startswith("Z109-WS·2010-D10-")
    assert (row[8], row[9], row[10]) == ("10年", "到期移交市档案馆", "已移交")
    assert any(r[:3] == ["单位", ORGANISATION, "上海市档案馆"] for r in rows)
    # 移交登记: what was handed over, measured on the package as written.
    payload = [p for p in (registered.settings.home / "transfers" / lst.number).rglob("data/**/*")]
    size = sum(p.stat().st_size for p in payload if p.is_file())
    heading = {r[0]: r[1] for r in rows if len(r) > 1}
    assert heading["数据量"].endswith(
        f"（{size:,} 字节，文件 {sum(p.is_file() for p in payload)} 个）"
    )
    assert (heading["文件格式"], heading["载体"]) == ("TXT", "在线移交（移交包）")
    info = (registered.settings.home / "transfers" / lst.number / "bag-info.txt").read_text("utf-8")
    assert f"Source-Organization: {ORGANISATION}" in info  # who the records come from
    assert "Internal-Sender-Identifier: Z109" in info  # their 全宗号


def test_someone_elses_text_stays_text_in_both_files() -> None:
    """A title or an opinion is someone's own text: no formula Excel would run, no character
    that breaks the file, in the XLSX or the PDF."""
    from retention.register_files import Register

    hostile = '=HYPERLINK("http://evil.example","点我")\x07\x00<b>粗体</b>&amp;'
    register = Register(
        title="档案销毁清册",
        heading=[("立档单位", "+SUM(1,2)"), ("全宗号", "Z109")],
        columns=[("序号", 10.0), ("题名", 80.0)],
        rows=[["1", hostile], ["2", "-2+3"], ["3", "@cmd"]],
        above=[("鉴定意见", [[hostile]])],
    )
    book = load_workbook(io.BytesIO(register_xlsx(register)))
    cells = [c for row in book.active.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type == "s" for c in cells)  # strings, never formulas
    values = [c.value for c in cells]
    assert '=HYPERLINK("http://evil.example","点我")<b>粗体</b>&amp;' in values
    assert {"+SUM(1,2)", "-2+3", "@cmd"} <= set(values)
    text = pdf_text(register_pdf(register))
    assert "<b>粗体</b>&amp;" in text  # shown as written, not as markup


def test_long_texts_are_bounded_and_a_register_that_could_not_be_filed_is_filed_by_the_sweep(
    registered: Archive,
) -> None:
    old = date(2010, 5, 1)
    record = file_record(registered, record_type="application", when=old, project="旧申请C")
    number_pending(registered)
    with registered.transaction() as session:
        lst = disposition.create_list(session, MANAGER, disposition.Disposal.DESTROY)
        disposition.add_records(session, MANAGER, lst, [record])
        with pytest.raises(InvalidInput, match="longer than 1000"):
            disposition.set_opinion(session, MANAGER, lst, "意" * 1001)
        disposition.set_opinion(session, MANAGER, lst, "经鉴定\x07无保存价值" + "。" * 900)
        assert "\x07" not in lst.opinion  # control characters never reach a register
        disposition.submit(session, MANAGER, lst)
        list_id = lst.id
    sign_as(registered, list_id, CG_SIGNERS)
    execution.execute(registered, EXECUTOR, list_id, check_folder=check_transfer_folder)
    sun = user(registered, "sun").id
    with pytest.raises(InvalidInput, match="longer than 500"):
        witness_list(registered, MANAGER, list_id, sun, statement="长" * 501)
    witness_list(registered, MANAGER, list_id, sun, statement="长" * 500)
    # A list closed before registers were kept (or whose filing failed): the sweep files it.
    with registered.transaction() as session:
        lst = disposition.get_list(session, list_id)
        assert lst.closed_at is None
        lst.closed_at = lst.executed_at
    sweep(registered, MANAGER)
    with registered.sessions() as session:
        lst = disposition.get_list(session, list_id)
        kept = session.get(Record, uuid.UUID(lst.result["register_record_id"]))  # type: ignore[index]
        assert kept is not None
        register = list_register(session, registered.settings, lst)
    assert pdf_text(register_pdf(register))  # a long opinion flows over pages, no failure


def test_a_filed_register_names_in_full_only_what_anyone_may_know(registered: Archive) -> None:
    """The register lists every record's 档号 and title. Filed as internal it showed a 秘密
    record's title to anyone allowed to read it; filed as 机密 (秘密 of two departments)
    every director read other departments' secrets by standing. The filed copy keeps each
    row's 档号 and withholds the title of a 秘密 or 机密 record; the list keeps it all."""
    old = date(2010, 5, 1)
    secret = file_record(registered, record_type="application", when=old, project="秘密申请",
                         sensitivity=Sensitivity.CONFIDENTIAL)  # fmt: skip
    other = file_record(registered, record_type="application", when=old, project="销售申请",
                        department="XS", sensitivity=Sensitivity.CONFIDENTIAL)  # fmt: skip
    plain = file_record(registered, record_type="application", when=old, project="普通申请")
    number_pending(registered)
    with registered.transaction() as session:
        for record_id, title in ((secret, "裁员名单"), (other, "客户底价"), (plain, "会议通知")):
            session.get_one(Record, record_id).title = title
    with registered.transaction() as session:
        list_id = disposition.create_list(
            session, MANAGER, Disposal.DESTROY, [secret, other, plain]
        ).id
    with registered.sessions() as session:
        kept = session.get_one(Record, file_register(registered, MANAGER, list_id))
        assert (kept.sensitivity, kept.department_id) == (Sensitivity.INTERNAL, None)
        text = b"".join(
            read_content(registered, session, kept.versions[0], RenditionRole.TEXT)
        ).decode()
        titles = {r: session.get_one(Record, r) for r in (secret, other, plain)}
        full = register_text(
            list_register(session, registered.settings, disposition.get_list(session, list_id))
        )
    for record_id, record in titles.items():
        assert record.reference_code in text  # every row keeps its 档号
        assert (record.title in text) == (record_id == plain)
        assert record.title in full  # the list's own copy, for who sees the list
    assert text.count(WITHHELD) == 2


def test_only_departments_whose_records_went_witness_and_a_list_that_destroyed_none_closes(
    registered: Archive,
) -> None:
    """监销 watches what was destroyed: a department whose only record was kept back (held
    after signing) sends no witness; a list that destroyed nothing needs none at all."""
    old = date(2010, 5, 1)
    file_record(registered, record_type="application", when=old, project="旧申请丙")
    xs = file_record(registered, record_type="application", when=old, project="旧申请丁",
                     department="XS")  # fmt: skip
    number_pending(registered)

    def carried_out(signers: tuple[tuple[str, SignerRole | None], ...]) -> int:
        """Sweep, sign, hold the XS record after signing, execute: the list's id."""
        sweep(registered, MANAGER)
        with registered.transaction() as session:
            lst = session.scalars(
                select(DispositionList).where(DispositionList.status == ListStatus.DRAFT)
            ).one()
            disposition.set_opinion(session, MANAGER, lst, "经鉴定已无保存价值，同意销毁。")
            disposition.submit(session, MANAGER, lst)
            list_id = lst.id
        sign_as(registered, list_id, signers)
        with registered.transaction() as session:
            place_hold(session, MANAGER, name="审计调阅", reason="审计署调阅",
                       scope=HoldScope.RECORDS, record_ids=[xs])  # fmt: skip
        execution.execute(registered, EXECUTOR, list_id, check_folder=check_transfer_folder)
        return list_id

    both = (*CG_SIGNERS, ("li", None))
    list_id = carried_out(both)
    with registered.sessions() as session:
        lst = disposition.get_list(session, list_id)
        slots = [s.key for s in required_witnesses(session, registered.settings.retention, lst)]
    assert slots == ["records_manager", "department:CG"]  # XS's record stayed: no XS witness

    with registered.transaction() as session:
        release_hold(session, MANAGER, session.scalars(select(Hold)).one().id, "审计结束")
    list_id = carried_out((("sun", None), ("li", None), ("qian", SignerRole.DIRECTOR)))
    with registered.sessions() as session:
        lst = disposition.get_list(session, list_id)
        assert destroyed_count(lst) == 0  # held again after signing: nothing destroyed
        assert lst.closed_at is not None  # no 监销 for a destruction that did not happen


def test_a_records_own_appraisal_opinion_is_printed_on_its_row(registered: Archive) -> None:
    """Each record's 鉴定意见 from its appraisal (with its department's), not the list's
    general opinion repeated on every row."""
    old = date(2010, 5, 1)
    appraised = file_record(registered, record_type="application", when=old, project="旧申请戊")
    plain = file_record(registered, record_type="application", when=old, project="旧申请己")
    number_pending(registered)
    review(registered, MANAGER, appraised, opinion="会计档案鉴定小组：已无查考价值",
           outcome="destroy", department_opinion="采购部同意")  # fmt: skip
    with registered.transaction() as session:
        lst = session.scalars(select(DispositionList)).one()
        disposition.add_records(session, MANAGER, lst, [plain])
        disposition.set_opinion(session, MANAGER, lst, "经鉴定已无保存价值，同意销毁。")
    with registered.sessions() as session:
        lst = disposition.get_list(session, lst.id)
        register = list_register(session, registered.settings, lst)
        codes = {r: session.get_one(Record, r).reference_code for r in (appraised, plain)}
    rows = {row[1]: row for row in register.rows}
    assert rows[codes[appraised]][9] == "会计档案鉴定小组：已无查考价值（部门意见：采购部同意）"
    assert rows[codes[plain]][9] == "经鉴定已无保存价值，同意销毁。"
