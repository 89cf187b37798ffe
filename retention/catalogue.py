"""归档文件目录 (with its 备考表): the numbered records of a year, in 档号 order, as a
:class:`~retention.register_files.Register` drawn like the other registers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from archive.config import Settings
from archive.db import utcnow
from archive.models import (
    Department,
    DispositionItem,
    DispositionList,
    Project,
    Record,
    RecordState,
    Tombstone,
)
from archive.vocabulary import category_words, retention_period
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
    category: str | None = None,
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
    if category:  # 门类: a WS 目录 without the KJ vouchers beside it
        series = f"{category}·{year}-"
        query = query.where(
            or_(
                Record.reference_series.startswith(series),
                Record.reference_series.contains("-" + series),
            )
        )
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
    how_gone = _how_gone(session, [r.id for r, _ in found if r.state != RecordState.ACTIVE])
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
            remarks = f"{how_gone.get(record.id, '已移交')} {remarks}".strip()
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
        ("门类", category_words(category) if category else "全部"),
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
        filename=f"归档文件目录-{year}{'-' + category if category else ''}"
        f"{'-' + department if department else ''}"
        f"{'-' + code if code else ''}",
    )


def _how_gone(session: Session, record_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """备注 of each record no longer kept, saying how it went and where that is proven: a
    destruction by its 销毁清册, a misfiled record's deletion as such (no 清册 names it), a
    transfer by its 移交清册."""
    if not record_ids:
        return {}
    said: dict[uuid.UUID, str] = {}
    rows = session.execute(
        select(Tombstone.record_id, Tombstone.kind, Tombstone.at, DispositionList.number)
        .outerjoin(DispositionList, DispositionList.id == Tombstone.list_id)
        .where(Tombstone.record_id.in_(record_ids))
    )
    for record_id, kind, at, number in rows:
        day = local(at)[:10]
        if kind == "deleted":
            said[record_id] = f"误归档删除（{day}）"
        else:
            said[record_id] = f"已销毁（{number}，{day}）" if number else f"已销毁（{day}）"
    moved = session.execute(
        select(DispositionItem.record_id, DispositionList.number)
        .join(DispositionList, DispositionList.id == DispositionItem.list_id)
        .where(DispositionItem.record_id.in_(record_ids), DispositionItem.outcome == "transferred")
    )
    for record_id, number in moved:
        said.setdefault(record_id, f"已移交（{number}）")
    return said


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
