"""归档文件目录 (with its 备考表): the numbered records of a year, in 档号 order, as a
:class:`~retention.register_files.Register` drawn like the other registers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive.config import Settings
from archive.db import utcnow
from archive.models import Department, Project, Record, RecordState
from archive.vocabulary import retention_period
from retention.register_files import Register, local
from retention.registers import SECRECY, organisation_heading, page_counts, register_day


def _description(record: Record) -> tuple[str, str, str]:
    """文号, 责任者, 备注 of a record (empty where it has none)."""
    return (record.doc_number or "", record.author or "", record.remarks or "")


#: What a register prints for a record its reader may not know of.
WITHHELD = "（无权知悉，著录项不予显示）"

CATALOGUE_COLUMNS = [
    ("序号", 13.0),
    ("档号", 48.0),
    ("文号", 34.0),
    ("责任者", 30.0),
    ("题名", 80.0),
    ("日期", 20.0),
    ("密级", 12.0),
    ("页数", 12.0),
    ("备注", 25.0),
]


def catalogue(
    session: Session,
    settings: Settings,
    year: int,
    department: str | None = None,
    code: str | None = None,
    prepared_by: str = "",
    may_show: Callable[[Record], bool] | None = None,
) -> Register:
    """归档文件目录: the numbered records of a year (the 档号's 年度), optionally of one
    department (机构代码) and one 保管期限 (Y, D30, D10…), in 档号 order; its 备考表 says how many
    items, how many pages, what was destroyed or transferred since, and who prepared it.

    ``may_show`` says whose description the reader may see: a record they may not know of
    keeps its row (the 档号 sequence has no hole) with its description withheld."""
    query = (
        select(Record, Department)
        .join(Project, Record.project_id == Project.id)
        .outerjoin(
            Department, Department.id == func.coalesce(Record.department_id, Project.department_id)
        )
        .where(Record.reference_code.is_not(None), Record.reference_series.contains(f"·{year}-"))
        .order_by(Record.reference_series, Record.reference_item)
    )
    if department:
        query = query.where(Department.code == department)
    if code:  # the 保管期限 segment itself: D1 is not D10, Y is not a department YF
        segment = f"·{year}-{code}"
        query = query.where(
            or_(
                Record.reference_series.contains(segment + "-"),
                Record.reference_series.endswith(segment),
            )
        )
    found = [(r, d) for r, d in session.execute(query)]
    pages = page_counts(session, [r.id for r, _ in found])
    rows: list[list[str]] = []
    gone = 0
    withheld = 0
    for number, (record, _dept) in enumerate(found, 1):
        doc_number, author, remarks = _description(record)
        title = record.title
        if may_show is not None and not may_show(record):
            withheld += 1
            doc_number, author, remarks, title = "", "", "", WITHHELD
        if record.state in (RecordState.DISPOSED, RecordState.TRANSFERRED):
            gone += 1
            state = "已销毁" if record.state == RecordState.DISPOSED else "已移交"
            remarks = f"{state} {remarks}".strip()
        rows.append(
            [
                str(number),
                record.reference_code or "",
                doc_number,
                author,
                title,
                register_day(record.document_date),
                SECRECY.get(record.sensitivity.value, record.sensitivity.value),
                str(pages.get(record.id, "")),
                remarks,
            ]
        )
    department_name = next((d.name for _, d in found if d is not None), department or "")
    covers = [
        ("年度", str(year)),
        ("机构（问题）", f"{department_name}（{department}）" if department else "全部"),
        ("保管期限", retention_period(code) if code else "全部"),
    ]
    counted_pages = sum(pages.values())
    unnumbered = _unnumbered(session, year, department)
    note = [
        ["本目录共收录档案", f"{len(rows)} 件，{counted_pages} 页（页数未知者未计）"],
        ["其中已销毁或已移交", f"{gone} 件（见备注）"],
        ["其中不予显示著录项", f"{withheld} 件（编制人无权知悉）"],
        [
            "本年度尚未编号、未列入本目录",
            f"{unnumbered} 件（分类待审核或无适用的保管期限，编号后列入）",
        ],
        ["整理人", prepared_by or "—"],
        ["编制时间（北京时间）", local(utcnow())],
        ["检查人", ""],
        ["检查日期", ""],
    ]
    return Register(
        title="归档文件目录",
        heading=[*organisation_heading(settings), *covers],
        columns=CATALOGUE_COLUMNS,
        rows=rows,
        below=[("备考表", note)],
        filename=f"归档文件目录-{year}{'-' + department if department else ''}"
        f"{'-' + code if code else ''}",
    )


def _unnumbered(session: Session, year: int, department: str | None) -> int:
    """Records of the year (by their date) still without a 档号: the 备考表 says how many
    are missing from the catalogue, rather than leaving them out silently."""
    query = (
        select(func.count())
        .select_from(Record)
        .join(Project, Record.project_id == Project.id)
        .outerjoin(
            Department, Department.id == func.coalesce(Record.department_id, Project.department_id)
        )
        .where(
            Record.reference_code.is_(None),
            Record.state == RecordState.ACTIVE,
            Record.filed_on >= date(year, 1, 1),
            Record.filed_on < date(year + 1, 1, 1),
        )
    )
    if department:
        query = query.where(Department.code == department)
    return session.scalar(query) or 0
