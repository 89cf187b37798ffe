"""Reports for records managers and auditors: what falls due when, how many records each
retention code keeps, and the certificate of a disposition list (CSV and PDF).
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.csvsafe import csv_text
from archive.db import LOCAL_TIME, local_today, utcnow
from archive.models import (
    Department,
    Disposal,
    DispositionList,
    ListStatus,
    Record,
    RecordState,
    RetentionSchedule,
    Trigger,
)
from archive.pdf import cell, grid, landscape_document, styles
from retention.holds import held_clause


def due_report(session: Session, months: int, today: date | None = None) -> dict[str, Any]:
    """Active records due by the end of the next ``months`` months (overdue ones included),
    counted by department, class and month."""
    today = today or local_today()
    horizon = (today + relativedelta(months=months)).replace(day=1) + relativedelta(days=-1)
    horizon = max(horizon, today)
    due = (Record.state == RecordState.ACTIVE, Record.due_on <= horizon)
    held = session.scalar(select(func.count()).where(*due, held_clause(session)))
    rows = session.execute(
        select(
            Department.code,
            Department.name,
            Record.process,
            Record.record_type,
            Record.due_on,
        )
        .outerjoin(Department, Record.department_id == Department.id)
        .where(*due)
    ).all()
    groups: Counter[tuple[str, str, str, str, str]] = Counter()
    by_month: Counter[str] = Counter()
    for code, name, process, record_type, due_on in rows:
        if due_on is None:  # excluded by the query; for the type checker
            continue
        month = due_on.strftime("%Y-%m")
        groups[(code or "", name or "", process or "", record_type or "", month)] += 1
        by_month["overdue" if due_on < today else month] += 1
    return {
        "from": today.isoformat(),
        "to": horizon.isoformat(),
        "total": len(rows),
        "held": held or 0,
        "by_month": dict(sorted(by_month.items())),
        "rows": [
            {
                "department": k[0],
                "department_name": k[1],
                "process": k[2],
                "record_type": k[3],
                "month": k[4],
                "overdue": k[4] < today.strftime("%Y-%m"),
                "count": n,
            }
            for k, n in sorted(groups.items(), key=lambda item: (item[0][4], item[0][:4]))
        ],
    }


def codes_report(session: Session) -> dict[str, Any]:
    """Active records per retention code, and those waiting for an event or unscheduled."""
    rows = session.execute(
        select(
            RetentionSchedule.years,
            RetentionSchedule.trigger,
            Record.retention_from.is_(None),
            func.count(),
        )
        .select_from(Record)
        .outerjoin(RetentionSchedule, Record.schedule_id == RetentionSchedule.id)
        .where(Record.state == RecordState.ACTIVE)
        .group_by(
            RetentionSchedule.years, RetentionSchedule.trigger, Record.retention_from.is_(None)
        )
    ).all()
    codes: Counter[str] = Counter()
    waiting = unscheduled = 0
    for years, trigger, not_started, count in rows:
        if trigger is None:
            unscheduled += count
            continue
        codes["Y" if years is None else f"D{years}"] += count
        if trigger == Trigger.EVENT and not_started:
            waiting += count
    states = {
        state: count
        for state, count in session.execute(
            select(Record.state, func.count()).group_by(Record.state)
        )
    }
    return {
        "codes": dict(sorted(codes.items(), key=lambda kv: (kv[0] != "Y", len(kv[0]), kv[0]))),
        "waiting_for_event": waiting,
        "unscheduled": unscheduled,
        "states": {state.value: count for state, count in states.items()},
    }


TITLES = {
    (Disposal.DESTROY, True): "档案销毁证明 Certificate of destruction",
    (Disposal.DESTROY, False): "档案销毁清册 Destruction list (not executed)",
    (Disposal.TRANSFER, True): "档案移交证明 Certificate of transfer",
    (Disposal.TRANSFER, False): "档案移交清册 Transfer list (not executed)",
}


def _local(value: Any) -> str:
    return value.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def certificate_rows(lst: DispositionList) -> list[dict[str, Any]]:
    """One row per version of each record on the list (a record without versions: one)."""
    rows = []
    for number, item in enumerate(lst.items, 1):
        snap = item.snapshot or {}
        base = {
            "item": number,
            "reference_code": snap.get("reference_code") or "",
            "name": snap.get("name") or item.record.name_stem,
            "title": snap.get("title") or item.record.title,
            "doc_number": snap.get("doc_number") or "",
            "author": snap.get("author") or "",
            "class": "/".join(v for v in (snap.get("class") or {}).values() if v),
            "code": snap.get("code") or "",
            "due_on": snap.get("due_on") or "",
            "outcome": item.outcome or "",
            "done_at": _local(item.done_at),
            "note": item.note or "",
        }
        versions = snap.get("versions") or [{}]
        for version in versions:
            rows.append(
                {
                    **base,
                    "version": version.get("name", ""),
                    "sha256": version.get("sha256", ""),
                    "size": version.get("size", ""),
                    "pages": version.get("page_count") or "",
                }
            )
    return rows


def certificate_header(lst: DispositionList) -> list[tuple[str, str]]:
    executed = lst.status == ListStatus.EXECUTED
    return [
        ("清册编号 List", lst.number),
        ("类型 Action", lst.action.value),
        ("状态 Status", lst.status.value),
        ("编制 Prepared by", f"{lst.created_by}  {_local(lst.created_at)}"),
        ("提交 Submitted", _local(lst.submitted_at)),
        ("摘要 Digest (SHA-256)", lst.digest or ""),
        (
            "执行 Executed",
            f"{lst.executed_by or ''}  {_local(lst.executed_at)}" if executed else "",
        ),
        ("结果 Result", str(lst.result or "")),
    ]


def _signer(display_name: str, username: str) -> str:
    return f"{display_name} ({username})" if display_name and display_name != username else username


def certificate_csv(lst: DispositionList) -> str:
    """The certificate as CSV: a BOM first (so Excel opens the Chinese as UTF-8), and every
    text cell made inert for spreadsheets (an opinion or a title is someone's own text)."""
    rows: list[list[object]] = [[TITLES[(lst.action, lst.status == ListStatus.EXECUTED)]]]
    rows += [[label, value] for label, value in certificate_header(lst)]
    rows.append(["鉴定意见 Appraisal opinion", lst.opinion])
    rows.append([])
    rows.append(
        [
            "signature",
            "role",
            "department_id",
            "user",
            "display_name",
            "signed_at",
            "ip",
            "digest",
            "valid",
            "opinion",
        ]
    )
    rows += [
        [
            "signature",
            s.role.value,
            s.department_id,
            s.username,
            s.display_name,
            _local(s.signed_at),
            s.ip,
            s.digest,
            s.digest == lst.digest,
            s.opinion,
        ]
        for s in lst.signatures
    ]
    rows.append([])
    items = certificate_rows(lst)
    fields = list(items[0]) if items else ["item"]
    rows.append(list(fields))
    rows += [[item[f] for f in fields] for item in items]
    return csv_text(rows)


def certificate_pdf(lst: DispositionList) -> bytes:
    body, title, head = styles()

    def p(text: object) -> Paragraph:
        return cell(text, body)

    def table(data: list[list[Any]], widths: list[float]) -> Table:
        return grid(data, widths, body)

    buffer = io.BytesIO()
    doc = landscape_document(buffer, lst.number)
    story: list[Any] = [
        Paragraph(TITLES[(lst.action, lst.status == ListStatus.EXECUTED)], title),
        table(
            [["", ""], *[[label, value] for label, value in certificate_header(lst)]],
            [60 * mm, 200 * mm],
        ),
        Paragraph("鉴定意见 Appraisal opinion", head),
        p(lst.opinion),
        Paragraph("签署 Signatures", head),
        table(
            [
                [
                    "角色 Role",
                    "签署人 Signer",
                    "时间 Time (北京时间)",
                    "IP",
                    "意见 Opinion",
                    "有效 Valid",
                ]
            ]
            + [
                [
                    s.role.value,
                    _signer(s.display_name, s.username),
                    _local(s.signed_at),
                    s.ip or "",
                    s.opinion,
                    "yes" if s.digest == lst.digest else "no (earlier round)",
                ]
                for s in lst.signatures
            ],
            [35 * mm, 50 * mm, 40 * mm, 30 * mm, 75 * mm, 25 * mm],
        ),
        Paragraph("条目 Items", head),
        table(
            [
                [
                    "#",
                    "档号 / 名称",
                    "题名 文号 Title",
                    "类别 Class",
                    "期限",
                    "到期 Due",
                    "结果 Outcome",
                    "版本 Version / SHA-256",
                ]
            ]
            + [
                [
                    r["item"],
                    r["reference_code"] or r["name"],
                    " ".join(part for part in (r["title"], r["doc_number"]) if part),
                    r["class"],
                    r["code"],
                    r["due_on"],
                    f"{r['outcome']} {r['done_at']} {r['note']}".strip(),
                    f"{r['version']} {r['sha256']}",
                ]
                for r in certificate_rows(lst)
            ],
            [8 * mm, 38 * mm, 45 * mm, 30 * mm, 12 * mm, 20 * mm, 35 * mm, 85 * mm],
        ),
        Spacer(1, 6 * mm),
        p(f"生成 Generated {_local(utcnow())}"),
    ]
    doc.build(story)
    return buffer.getvalue()
