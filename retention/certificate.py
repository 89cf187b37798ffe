"""The certificate of a disposition list (销毁清册 / 销毁证明, 移交清册 / 移交证明), CSV and PDF.

It reads as a Chinese document: roles, actions, states, classes and outcomes as words
(:mod:`archive.vocabulary`; English values when ``lang="en"``), departments by name and
code, people by name, times in Beijing time, and nothing internal (no ids, no JSON). The
headings stay bilingual, as the registers are shown to foreign auditors too.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from archive.csvsafe import csv_text
from archive.db import utcnow
from archive.models import (
    AuditEvent,
    Department,
    Disposal,
    DispositionItem,
    DispositionList,
    ListStatus,
    Record,
    Signature,
    User,
)
from archive.pdf import cell, grid, landscape_document, styles
from archive.vocabulary import YES_NO, beijing, english, pick, retention_period, term
from retention.signed import still_as_signed

TITLES = {
    (Disposal.DESTROY, True): "档案销毁证明 Certificate of destruction",
    (Disposal.DESTROY, False): "档案销毁清册 Destruction list (not executed)",
    (Disposal.TRANSFER, True): "档案移交证明 Certificate of transfer",
    (Disposal.TRANSFER, False): "档案移交清册 Transfer list (not executed)",
}
SIGNATURE_HEADINGS = [
    "签署 Signature",
    "角色 Role",
    "部门 Department",
    "用户名 User",
    "姓名 Name",
    "时间 Time (北京时间)",
    "IP",
    "摘要 Digest",
    "有效 Valid",
    "意见 Opinion",
]
ITEM_HEADINGS = {
    "item": "序号 No.",
    "reference_code": "档号 Reference code",
    "name": "名称 Name",
    "title": "题名 Title",
    "doc_number": "文号 Document number",
    "author": "责任者 Author",
    "department": "部门 Department",
    "class": "类别 Class",
    "code": "保管期限 Retention",
    "due_on": "到期 Due",
    "outcome": "结果 Outcome",
    "done_at": "处置时间 Done at (北京时间)",
    "note": "备注 Note",
    "version": "版本 Version",
    "sha256": "SHA-256",
    "size": "大小 Size (bytes)",
    "pages": "页数 Pages",
}


#: A row's title and appraisal where the reader may not know the record (its 档号 stays:
#: the sequence has no hole, and the list's own copy holds the rest).
WITHHELD = "（无权知悉，不予显示）"
#: Whether the register's reader may know a record; None: every record is shown.
MayShow = Callable[[Record], bool] | None


class People:
    """Names for the user names a list keeps, and departments for its signatures' ids."""

    def __init__(self, session: Session | None, lang: str | None = "zh") -> None:
        self.session = session
        self.lang = lang
        self.names: dict[str, str] = {}

    def name(self, username: str | None) -> str:
        """A person by name (and user name); the console operator and the system as such, in
        the document's language."""
        if not username:
            return ""
        if username.startswith("cli:"):
            if english(self.lang):
                return f"Console operator ({username[4:]})"
            return f"控制台操作员（{username[4:]}）"
        if username == "system":
            return "System" if english(self.lang) else "系统"
        if username not in self.names:
            user = (
                self.session.scalar(select(User).where(User.username == username))
                if self.session
                else None
            )
            shown = user.display_name if user and user.display_name else ""
            self.names[username] = f"{shown}（{username}）" if shown else username
        return self.names[username]

    def department(self, department_id: int | None) -> str:
        found = (
            self.session.get(Department, department_id) if self.session and department_id else None
        )
        return f"{found.name}（{found.code}）" if found else ""

    def preparer(self, lst: DispositionList) -> str:
        """Who prepared the list: its creator, or, for a list the sweep proposed, the person
        who submitted it for signing (from the audit trail)."""
        if lst.created_by not in ("system", "") or self.session is None:
            return self.name(lst.created_by)
        submitter = self.session.scalar(
            select(AuditEvent.actor)
            .where(
                AuditEvent.action == "disposition.submitted",
                AuditEvent.object_id == lst.number,
            )
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
        return self.name(submitter or lst.created_by)


def retention_text(code: str | None, lang: str | None) -> str:
    """``Y`` 永久, ``D30`` 30年."""
    return retention_period(code, lang) if code else ""


def certificate_rows(
    lst: DispositionList, lang: str | None = "zh", may_show: MayShow = None
) -> list[dict[str, Any]]:
    """One row per version of each record on the list (a record without versions: one);
    a record ``may_show`` refuses keeps its 档号, department, period and outcome, and
    nothing that describes it (title, name, class, versions and their digests)."""
    rows = []
    for number, item in enumerate(lst.items, 1):
        snap = item.snapshot or {}
        if may_show is not None and not may_show(item.record):
            rows.append(_withheld(number, item, lang))
            continue
        department = snap.get("department_name") or ""
        if snap.get("department"):
            department = f"{department}（{snap['department']}）"
        base = {
            "item": number,
            "reference_code": snap.get("reference_code") or "",
            "name": snap.get("name") or item.record.name_stem,
            "title": snap.get("title") or item.record.title,
            "doc_number": snap.get("doc_number") or "",
            "author": snap.get("author") or "",
            "department": department,
            "class": " / ".join(term(v, lang) for v in (snap.get("class") or {}).values() if v),
            "code": retention_text(snap.get("code"), lang),
            "due_on": snap.get("due_on") or "",
            "outcome": term(item.outcome, lang) if item.outcome else "",
            # a kept item (held, no longer due) was not disposed of: no time of disposal
            "done_at": beijing(item.done_at) if item.outcome != "skipped" else "",
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


def _withheld(number: int, item: DispositionItem, lang: str | None) -> dict[str, Any]:
    snap = item.snapshot or {}
    shown = {
        "item": number,
        "reference_code": snap.get("reference_code") or item.record.reference_code or "",
        "title": WITHHELD,
        "department": snap.get("department") or "",
        "code": retention_text(snap.get("code"), lang),
        "due_on": snap.get("due_on") or "",
        "outcome": term(item.outcome, lang) if item.outcome else "",
        "done_at": beijing(item.done_at) if item.outcome != "skipped" else "",
    }
    return {field: shown.get(field, "") for field in ITEM_HEADINGS}


def _result(lst: DispositionList, lang: str | None) -> str:
    result = lst.result or {}
    if not result:
        return ""
    done, skipped = result.get("done", 0), result.get("skipped", 0)
    package = PurePath(str(result["package"])).name if result.get("package") else ""
    if english(lang):
        text = f"{done} done, {skipped} skipped"
        return f"{text}; package {package}" if package else text
    text = f"已处置 {done} 件，未处置 {skipped} 件"
    return f"{text}；移交包 {package}" if package else text


def certificate_header(lst: DispositionList, lang: str | None = "zh") -> list[tuple[str, str]]:
    people = People(object_session(lst), lang)
    executed = lst.status == ListStatus.EXECUTED
    return [
        ("清册编号 List", lst.number),
        ("类型 Action", term(lst.action, lang)),
        ("状态 Status", term(lst.status, lang)),
        ("编制 Prepared by", f"{people.preparer(lst)}  {beijing(lst.created_at)}"),
        ("提交 Submitted (北京时间)", beijing(lst.submitted_at)),
        ("摘要 Digest (SHA-256)", lst.digest or ""),
        (
            "执行 Executed",
            f"{people.name(lst.executed_by)}  {beijing(lst.executed_at)}" if executed else "",
        ),
        ("结果 Result", _result(lst, lang)),
    ]


def _valid(signature: Signature, lst: DispositionList, intact: bool, lang: str | None) -> str:
    if signature.digest != lst.digest:
        return "No (an earlier round)" if english(lang) else "否（前一轮）"
    if not intact:
        return "No (the list changed after signing)" if english(lang) else "否（清册内容已变）"
    return pick(YES_NO[True], lang)


def _signer(signature: Signature) -> str:
    name, username = signature.display_name, signature.username
    return f"{name}（{username}）" if name and name != username else username


def signature_rows(lst: DispositionList, lang: str | None = "zh") -> list[list[object]]:
    people = People(object_session(lst), lang)
    intact = still_as_signed(lst)  # recomputed, not trusted: a row edited since shows here
    return [
        [
            "签署",
            term(s.role, lang),
            people.department(s.department_id),
            s.username,
            s.display_name,
            beijing(s.signed_at),
            s.ip,
            s.digest,
            _valid(s, lst, intact, lang),
            s.opinion,
        ]
        for s in lst.signatures
    ]


WITNESS_HEADINGS = (
    "监销人 Witness",
    "身份 Capacity",
    "时间 Time (北京时间)",
    "声明 Statement",
)


def witness_rows(lst: DispositionList) -> list[list[object]]:
    """The 监销 signatures: who witnessed the destruction, as what, when, and what they said."""
    return [
        [w.display_name or w.username, w.capacity, beijing(w.signed_at), w.statement]
        for w in lst.witnesses
    ]


def _witness_block(lst: DispositionList, head: Any, table: Any) -> list[Any]:
    """Below the approvals, the 监销 block of an executed destruction list (or that none has
    signed yet, so a certificate printed early says so)."""
    if lst.action != Disposal.DESTROY or lst.status != ListStatus.EXECUTED:
        return []
    rows = witness_rows(lst) or [["（尚无监销签署 none yet）", "", "", ""]]
    closed = f"  已关闭 closed {beijing(lst.closed_at)}" if lst.closed_at else ""
    return [
        Paragraph(f"监销签署 Witnessed destruction{closed}", head),
        table([list(WITNESS_HEADINGS), *rows], [40 * mm, 60 * mm, 40 * mm, 123 * mm]),
    ]


def certificate_csv(lst: DispositionList, lang: str | None = "zh", may_show: MayShow = None) -> str:
    """The certificate as CSV: a BOM first (so Excel opens the Chinese as UTF-8), and every
    text cell made inert for spreadsheets (an opinion or a title is someone's own text)."""
    rows: list[list[object]] = [[TITLES[(lst.action, lst.status == ListStatus.EXECUTED)]]]
    rows += [[label, value] for label, value in certificate_header(lst, lang)]
    rows.append(["鉴定意见 Appraisal opinion", lst.opinion])
    rows.append([])
    rows.append(list(SIGNATURE_HEADINGS))
    rows += signature_rows(lst, lang)
    if lst.witnesses:
        rows.append([])
        rows.append(list(WITNESS_HEADINGS))
        rows += witness_rows(lst)
    rows.append([])
    rows.append(list(ITEM_HEADINGS.values()))
    rows += [[item[f] for f in ITEM_HEADINGS] for item in certificate_rows(lst, lang, may_show)]
    return csv_text(rows)


def certificate_pdf(
    lst: DispositionList, lang: str | None = "zh", may_show: MayShow = None
) -> bytes:
    body, title, head = styles()

    def p(text: object) -> Paragraph:
        return cell(text, body)

    def table(data: list[list[Any]], widths: list[float]) -> Table:
        return grid(data, widths, body)

    buffer = io.BytesIO()
    doc = landscape_document(buffer, lst.number)
    signatures = [
        [row[1], row[2], _signer(s), row[5], row[6] or "", row[9], row[8]]
        for s, row in zip(lst.signatures, signature_rows(lst, lang), strict=True)
    ]
    story: list[Any] = [
        Paragraph(TITLES[(lst.action, lst.status == ListStatus.EXECUTED)], title),
        table(
            [["", ""], *[[label, value] for label, value in certificate_header(lst, lang)]],
            [60 * mm, 200 * mm],
        ),
        Paragraph("鉴定意见 Appraisal opinion", head),
        p(lst.opinion),
        Paragraph("签署 Signatures", head),
        table(
            [
                [
                    "角色 Role",
                    "部门 Department",
                    "签署人 Signer",
                    "时间 Time (北京时间)",
                    "IP",
                    "意见 Opinion",
                    "有效 Valid",
                ],
                *signatures,
            ],
            [30 * mm, 35 * mm, 40 * mm, 35 * mm, 28 * mm, 70 * mm, 25 * mm],
        ),
        *_witness_block(lst, head, table),
        Paragraph("条目 Items", head),
        table(
            [
                [
                    "#",
                    "档号 / 名称",
                    "题名 Title",
                    "部门 Department",
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
                    f"{r['title']} {r['doc_number']}".strip(),
                    r["department"],
                    r["class"],
                    r["code"],
                    r["due_on"],
                    f"{r['outcome']} {r['done_at']} {r['note']}".strip(),
                    f"{r['version']} {r['sha256']}",
                ]
                for r in certificate_rows(lst, lang, may_show)
            ],
            [8 * mm, 34 * mm, 38 * mm, 25 * mm, 30 * mm, 12 * mm, 18 * mm, 32 * mm, 76 * mm],
        ),
        Spacer(1, 6 * mm),
        p(f"生成 Generated {beijing(utcnow())}（北京时间）"),
    ]
    doc.build(story)
    return buffer.getvalue()
