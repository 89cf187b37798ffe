"""The standard registers a records manager prints and signs: 归档文件目录 (with its 备考表),
销毁清册 and 移交清册, each as PDF and as XLSX.

A register is built once as plain data (:class:`Register`: heading, columns, rows, signature
blocks) and then drawn by :func:`register_pdf` or :func:`register_xlsx`, so both say the same.
Headings are Chinese (these are printed forms that people sign), the organisation
(``ARCHIVE_ORGANISATION``, 立档单位) and 全宗号 head every page, pages are numbered
"第 n 页 共 m 页", and every time is Beijing time.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.audit import Actor, record_event
from archive.config import Settings
from archive.content import NewRecord, RenditionSource, store
from archive.core import Archive
from archive.models import (
    Department,
    Disposal,
    DispositionItem,
    DispositionList,
    ListStatus,
    Record,
    RecordState,
    RenditionRole,
    RetentionReview,
    Sensitivity,
    Version,
)
from archive.vocabulary import retention_period, term
from retention.certificate import WITHHELD as WITHHELD
from retention.certificate import MayShow, People
from retention.dat46 import SECRECY as SECRECY
from retention.dat46 import register_day as register_day
from retention.errors import NotFound
from retention.handover import handed_over
from retention.register_files import Register, local, register_pdf
from retention.signed import still_as_signed

log = logging.getLogger(__name__)

#: What happened to a listed record, as the register says it.
OUTCOMES = {"destroyed": "已销毁", "transferred": "已移交", "skipped": "未执行"}
DESTRUCTION_METHOD = "密钥销毁（加密存储，数据密钥不可恢复）并删除密文"
#: What the method does not reach by itself: a backup made before the destruction still holds
#: the wrapped keys and the ciphertext, readable with the keyring until its key is retired.
BACKUPS_NOTE = (
    "销毁前所做的备份仍含上述档案的密文及其加密封装的数据密钥；执行“archive keys rotate "
    "--retire”（轮换并停用旧主密钥）后，这些备份无法再解密，也无法再恢复。"
)


def organisation_heading(settings: Settings) -> list[tuple[str, str]]:
    return [("立档单位", settings.organisation or "—"), ("全宗号", settings.fonds_code or "—")]


def page_counts(session: Session, record_ids: Iterable[object]) -> dict[object, int]:
    """Pages of each record's latest version (None counts as unknown, left blank)."""
    latest = (
        select(Version.record_id, func.max(Version.major * 100000 + Version.minor).label("n"))
        .where(Version.record_id.in_(list(record_ids)))
        .group_by(Version.record_id)
        .subquery()
    )
    rows = session.execute(
        select(Version.record_id, Version.page_count).join(
            latest,
            (Version.record_id == latest.c.record_id)
            & (Version.major * 100000 + Version.minor == latest.c.n),
        )
    )
    return {record_id: pages for record_id, pages in rows if pages is not None}


def _retention_words(code: str | None) -> str:
    return retention_period(code) if code else ""


LIST_COLUMNS = [
    ("序号", 13.0),
    ("档号", 44.0),
    ("文号", 28.0),
    ("责任者", 26.0),
    ("题名", 62.0),
    ("日期", 22.0),
    ("密级", 12.0),
    ("页数", 12.0),
    ("保管期限", 20.0),
    ("鉴定意见", 40.0),
]


def _appraised(session: Session, lst: DispositionList) -> dict[uuid.UUID, str]:
    """Each listed record's own 鉴定意见 where an appraisal gave one (the latest, with its
    department's opinion): the register prints it rather than the list's general one."""
    said: dict[uuid.UUID, str] = {}
    rows = session.execute(
        select(
            RetentionReview.record_id, RetentionReview.opinion, RetentionReview.department_opinion
        )
        .where(RetentionReview.record_id.in_([item.record_id for item in lst.items]))
        .order_by(RetentionReview.reviewed_at)
    )
    for record_id, opinion, department in rows:  # the latest wins
        said[record_id] = opinion + (f"（部门意见：{department}）" if department else "")
    return said


def _list_rows(
    session: Session, lst: DispositionList, destroy: bool, may_show: MayShow = None
) -> list[list[str]]:
    pages = page_counts(session, [item.record_id for item in lst.items])
    appraised = _appraised(session, lst)
    rows = []
    in_order = sorted(  # 档号 order, as the records stand on the shelf
        lst.items,
        key=lambda i: (i.snapshot or {}).get("reference_code") or i.record.reference_code or "~",
    )
    for number, item in enumerate(in_order, 1):
        snap = item.snapshot or {}
        shown = may_show is None or may_show(item.record)
        level = snap.get("sensitivity") or item.record.sensitivity.value
        row = [
            str(number),
            snap.get("reference_code") or item.record.reference_code or "",
            (snap.get("doc_number") or item.record.doc_number or "") if shown else "",
            (snap.get("author") or item.record.author or "") if shown else "",
            (snap.get("title") or item.record.title) if shown else WITHHELD,
            register_day(
                snap.get("document_date") or snap.get("filed_on") or item.record.document_date
            ),
            SECRECY.get(level, level),
            str(pages.get(item.record_id, "")),
            _retention_words(snap.get("code")),
            _short((appraised.get(item.record_id) if shown else None) or lst.opinion),
        ]
        outcome = OUTCOMES.get(item.outcome or "", "") + (f"：{item.note}" if item.note else "")
        if destroy and item.outcome == "destroyed" and item.record.state != RecordState.DISPOSED:
            row += ["记录不符：标为已销毁，档案却仍在库（请报安全审计员）", "", ""]
        elif destroy and item.outcome == "destroyed":
            row += [DESTRUCTION_METHOD, local(item.done_at), _witness_names(lst)]
        elif destroy:  # kept (held, no longer due): no time of destruction, nobody witnessed it
            kept_why = "未销毁" + (f"：{item.note}" if item.note else "")
            row += [kept_why if item.outcome else "待销毁", "", ""]
        else:
            row += [outcome or "待移交", local(item.done_at)]
        rows.append(row)
    return rows


def _short(opinion: str, keep: int = 60) -> str:
    """The opinion in a row: whole when short, else its start and where the whole is (the
    block above the table prints it once)."""
    return opinion if len(opinion) <= keep else f"{opinion[:keep]}…（全文见鉴定意见）"


def _witness_names(lst: DispositionList) -> str:
    return "、".join(w.display_name or w.username for w in lst.witnesses)


def signature_validity(lst: DispositionList, digest: str, intact: bool) -> str:
    """What a signature given on ``digest`` is worth now: valid only on the current round
    and while the list is ``intact``, still what was signed (see ``still_as_signed``)."""
    if digest != lst.digest:
        return "前一轮（已失效）"
    return "有效" if intact else "无效：清册内容与签署时不符"


def _approvals(lst: DispositionList) -> list[list[str]]:
    rows = [["签署角色", "签署人", "意见", "签署时间（北京时间）", "有效"]]
    intact = still_as_signed(lst)  # its digest recomputed once, not trusted
    for s in lst.signatures:
        rows.append(
            [
                term(s.role),
                s.display_name or s.username,
                s.opinion,
                local(s.signed_at),
                signature_validity(lst, s.digest, intact),
            ]
        )
    return rows


def destroyed_count(lst: DispositionList) -> int:
    """How many of a list's records were destroyed (the rest were kept back)."""
    return sum(1 for item in lst.items if item.outcome == "destroyed")


def destruction_register(
    session: Session, settings: Settings, lst: DispositionList, may_show: MayShow = None
) -> Register:
    """销毁清册: the list's records, the appraisal opinion, the approval signatures above and
    the 监销 (witnessed destruction) signatures below."""
    executed = lst.status == ListStatus.EXECUTED
    destroyed = destroyed_count(lst)
    kept = len(lst.items) - destroyed
    witnesses = [["监销人", "部门 / 身份", "签署时间（北京时间）", "声明"]] + [
        [w.display_name or w.username, w.capacity, local(w.signed_at), w.statement]
        for w in lst.witnesses
    ]
    if len(witnesses) == 1:
        witnesses.append(["（尚无监销签署）", "", "", ""])
    return Register(
        title="档案销毁清册",
        heading=[
            *organisation_heading(settings),
            ("清册编号", lst.number),
            ("状态", ("已销毁" if not kept else "已执行（部分未销毁）") if executed else "待销毁"),
            (
                "件数",
                f"共 {len(lst.items)} 件；已销毁 {destroyed} 件，未销毁 {kept} 件"
                if executed
                else f"共 {len(lst.items)} 件",
            ),
            ("编制人", People(session).preparer(lst)),
            ("编制时间（北京时间）", local(lst.created_at)),
            ("销毁时间（北京时间）", local(lst.executed_at)),
        ],
        columns=[*LIST_COLUMNS, ("销毁方式", 30.0), ("销毁时间", 22.0), ("监销人", 22.0)],
        rows=_list_rows(session, lst, destroy=True, may_show=may_show),
        above=[("鉴定意见", [[lst.opinion or "—"]]), ("审批签署", _approvals(lst))],
        below=[("监销签署", witnesses), ("备份说明", [[BACKUPS_NOTE]])],
        filename=f"销毁清册-{lst.number}",
    )


def transfer_register(
    session: Session, settings: Settings, lst: DispositionList, may_show: MayShow = None
) -> Register:
    """移交清册: the records transferred and the handover block for both parties (交接双方)."""
    result = lst.result or {}
    receipt = result.get("receipt") or {}
    handover = [
        ["", "移交方", "接收方"],
        ["单位", settings.organisation or "—", lst.receiver or receipt.get("receiver") or ""],
        ["经办人（签字）", People(session).name(lst.executed_by), receipt.get("received_by", "")],
        ["日期（北京时间）", local(lst.executed_at), receipt.get("received_at", "")],
        [
            "凭据",
            f"移交包清单摘要 {result.get('manifest_sha256', '')}",
            f"接收回执（签名密钥 {receipt['key']}）" if receipt else "尚未收到接收回执",
        ],
    ]
    return Register(
        title="档案移交清册",
        heading=[
            *organisation_heading(settings),
            ("清册编号", lst.number),
            ("移交时间（北京时间）", local(lst.executed_at)),
            ("件数", str(len(lst.items))),
            *handed_over(result),
        ],
        columns=[*LIST_COLUMNS, ("移交情况", 30.0), ("时间", 22.0)],
        rows=_list_rows(session, lst, destroy=False, may_show=may_show),
        above=[("鉴定意见", [[lst.opinion or "—"]]), ("审批签署", _approvals(lst))],
        below=[("交接双方", handover)],
        filename=f"移交清册-{lst.number}",
    )


def list_register(
    session: Session, settings: Settings, lst: DispositionList, may_show: MayShow = None
) -> Register:
    """The list's 销毁清册 or 移交清册; rows of records ``may_show`` refuses keep their
    档号 with their title and appraisal withheld."""
    if lst.action == Disposal.TRANSFER:
        return transfer_register(session, settings, lst, may_show)
    return destruction_register(session, settings, lst, may_show)


# --- registers kept as records ------------------------------------------------------------

#: The project, class and schedule key under which executed lists' registers are filed.
ARCHIVAL_WORK_PROJECT = "档案工作"
ARCHIVAL_WORK_PROCESS = "archival_work"
REGISTER_TYPE = "disposition_register"


def register_text(register: Register) -> str:
    """The register as plain text: the record's text rendition (searchable by 档号, title)."""
    lines = [register.title]
    lines += [f"{label}：{value}" for label, value in register.heading]
    for name, rows in register.above:
        lines += [name, *("\t".join(row) for row in rows)]
    lines.append("\t".join(heading for heading, _ in register.columns))
    lines += ["\t".join(row) for row in register.rows]
    for name, rows in register.below:
        lines += [name, *("\t".join(row) for row in rows)]
    return "\n".join(lines) + "\n"


#: What the filed copy of a register names in full: records anyone in the company may know
#: of. A 秘密 or 机密 record's row keeps its 档号; its title stays on the list itself, which
#: records managers and auditors see (a filed copy naming every department's secrets
#: would have to be more secret than any one reader may be).
FILED_IN_FULL = frozenset({Sensitivity.PUBLIC, Sensitivity.INTERNAL})


def _register_department(session: Session, lst: DispositionList) -> str | None:
    """The department a filed register belongs to: its records', when they share one."""
    departments = set(
        session.scalars(
            select(Department.code)
            .select_from(DispositionItem)
            .join(Record, DispositionItem.record_id == Record.id)
            .outerjoin(Department, Department.id == Record.department_id)
            .where(DispositionItem.list_id == lst.id)
        )
    )
    return next(iter(departments)) if len(departments) == 1 else None


def file_register(arc: Archive, actor: Actor, list_id: int) -> uuid.UUID:
    """File a closed list's register (销毁清册 or 移交清册) into the archive as a record of
    archival work, kept permanently by the file plan's ``archival_work`` class; the list's
    result names it. Filing it twice is refused by the list's own record of it."""
    with arc.sessions() as session:
        lst = session.get(DispositionList, list_id)
        if lst is None:
            raise NotFound(f"no list {list_id}")
        if (lst.result or {}).get("register_record_id"):
            return uuid.UUID(lst.result["register_record_id"])  # type: ignore[index]
        register = list_register(
            session, arc.settings, lst, lambda record: record.sensitivity in FILED_IN_FULL
        )
        pdf, text = register_pdf(register), register_text(register)
        number = lst.number
        sensitivity, department = Sensitivity.INTERNAL, _register_department(session, lst)
    stored = store(
        arc,
        io.BytesIO(pdf),
        actor=actor,
        original_filename=f"{register.filename}.pdf",
        media_type="application/pdf",
        new_record=NewRecord(
            project=ARCHIVAL_WORK_PROJECT,
            title=f"{register.title} {number}",
            process=ARCHIVAL_WORK_PROCESS,
            record_type=REGISTER_TYPE,
            sensitivity=sensitivity,
            department=department,
        ),
        renditions=[RenditionSource(RenditionRole.TEXT, "text/plain", io.BytesIO(text.encode()))],
    )
    with arc.transaction() as session:
        row = session.get(DispositionList, list_id, with_for_update=True)
        assert row is not None  # noqa: S101 - read above; lists are never deleted
        row.result = {**(row.result or {}), "register_record_id": str(stored.record_id)}
        record_event(
            session,
            actor,
            "disposition.register_filed",
            "disposition_list",
            number,
            {"record_id": str(stored.record_id), "version": stored.name},
        )
    return stored.record_id


def file_closed_register(arc: Archive, actor: Actor, list_id: int) -> None:
    """File a just-closed list's register; if that fails, the list is closed all the same (its
    destruction or transfer is done and committed) and the sweep files it later."""
    try:
        file_register(arc, actor, list_id)
    except Exception:  # the action succeeded; only its paperwork waits
        log.exception("list %s: register not filed yet; the sweep will file it", list_id)


def file_pending_registers(arc: Archive, actor: Actor) -> int:
    """File the register of every closed list that has none yet (a failure earlier, or a
    list closed before registers were kept); returns how many were filed."""
    with arc.sessions() as session:
        closed = [
            lst.id
            for lst in session.scalars(
                select(DispositionList).where(DispositionList.closed_at.is_not(None))
            )
            if not (lst.result or {}).get("register_record_id")
        ]
    filed = 0
    for list_id in closed:
        try:
            file_register(arc, actor, list_id)
        except Exception:  # one list's trouble must not stop the others
            log.exception("list %s: register still not filed", list_id)
        else:
            filed += 1
    return filed
