"""The archive's one vocabulary: every code a person may see (roles, levels, states, classes,
statuses, checks, alerts, audit actions and their details, media types), in Chinese and
English. Web pages (``access.web.labels``), certificates and reports (retention) and the
audit trail's CSV all look their words up here, so a code has one name wherever it is shown.

It lives in ``archive`` because retention may not import access (layers), yet a certificate
must say 档案管理员 where the database says ``records_manager``.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime

from archive.db import LOCAL_TIME
from archive.vocabulary_trail import ACTIONS, CODED_FIELDS, FAMILIES, FIELDS, OBJECTS, Term

__all__ = [
    "ACTIONS",
    "ACTORS",
    "CODED_FIELDS",
    "FAMILIES",
    "FIELDS",
    "MEDIA_TYPES",
    "OBJECTS",
    "PROCESSES",
    "RECORD_TYPES",
    "STAGES",
    "TERMS",
    "Term",
]

#: Roles, levels, states, classes, statuses and outcomes: every code a page may print.
TERMS: dict[str, Term] = {
    # roles: one word per role everywhere (a supervisor heads a department; a director signs
    # for the company), and the capacities a role acts in
    "specialist": ("专员", "Specialist"),
    "supervisor": ("主管", "Supervisor"),
    "director": ("总监", "Director"),
    "records_manager": ("档案管理员", "Records manager"),
    "auditor": ("安全审计员", "Auditor"),
    "admin": ("系统管理员", "Administrator"),
    "security_admin": ("安全保密管理员", "Security administrator"),
    "department_head": ("部门负责人（主管）", "Department head (supervisor)"),
    "head": ("部门负责人（主管）", "Department head (supervisor)"),
    # sensitivity
    "public": ("公开", "Public"),
    "internal": ("内部", "Internal"),
    "confidential": ("秘密", "Confidential"),
    "restricted": ("机密", "Restricted"),
    # access scopes and request states
    "view": ("查看", "View"),
    "download": ("下载", "Download"),
    "print": ("打印", "Print"),
    "external": ("对外提供", "External use"),
    "pending": ("待审批", "Pending"),
    "approved": ("已批准", "Approved"),
    "denied": ("已拒绝", "Refused"),
    "withdrawn": ("已撤回", "Withdrawn"),
    "rejected": ("已驳回", "Rejected"),
    "allowed": ("允许", "Allowed"),
    "refused": ("已拒绝", "Refused"),
    "metadata": ("元数据", "Metadata"),
    "search": ("检索", "Search"),
    "snippet": ("检索摘要", "Search snippet"),
    # alerts
    "many_reads": ("一小时内大量读取", "Many reads in an hour"),
    "after_hours": ("非工作时间读取", "Reads outside working hours"),
    "refusals": ("多次被拒", "Repeated refusals"),
    "fixity": ("固定性检查失败", "Fixity check failed"),
    # disposition: actions, list states, item outcomes
    "review": ("鉴定", "Review"),
    "destroy": ("销毁", "Destroy"),
    "transfer": ("移交", "Transfer"),
    "extend": ("延长保管", "Keep longer"),
    "reschedule": ("改用其他保管期限", "Move to another schedule"),
    "draft": ("草稿", "Draft"),
    "signing": ("签字中", "Signing"),
    "executed": ("已执行", "Executed"),
    "cancelled": ("已作废", "Cancelled"),
    "closed": ("已关闭", "Closed"),
    "destroyed": ("已销毁", "Destroyed"),
    "transferred": ("已移交", "Transferred"),
    "skipped": ("未处置", "Not carried out"),
    "deleted": ("已删除", "Deleted"),
    # hold scopes
    "records": ("指定档案", "Named records"),
    "project": ("项目", "Project"),
    "query": ("条件查询", "Query"),
    # record states and retention standing
    "active": ("在管", "Active"),
    "on_hold": ("保全中", "On hold"),
    "disposed": ("已销毁", "Destroyed"),
    "permanent": ("永久", "Permanent"),
    "waiting": ("等待事件", "Waiting for an event"),
    "running": ("计时中", "Running"),
    "due": ("到期", "Due"),
    "held": ("保全中", "Held"),
    "unscheduled": ("无保管期限", "No schedule"),
    # ingest jobs
    "queued": ("排队中", "Queued"),
    "processing": ("处理中", "Processing"),
    "received": ("已接收", "Received"),
    "extracting": ("提取中", "Extracting"),
    "ocr": ("文字识别", "OCR"),
    "rendering": ("生成 PDF", "Rendering as PDF"),
    "storing": ("入库中", "Storing"),
    "stored": ("已入库", "Stored"),
    "duplicate": ("重复", "Duplicate"),
    "quarantined": ("已隔离", "Quarantined"),
    "done": ("完成", "Done"),
    # retention triggers
    "filed": ("归档日期", "Filing date"),
    "year_end": ("归档年度末", "End of the filing year"),
    "fiscal_year_end": ("会计年度末", "End of the fiscal year"),
    "event": ("事件", "Event"),
    # filing units (件 / 案卷) and the periods that bind volumes
    "item": ("按件整理", "By item (件)"),
    "volume": ("按卷整理（案卷）", "By volume (案卷)"),
    "month": ("按月组卷", "Bound by month"),
    "year": ("按年度组卷", "Bound by year"),
    # the description (DA/T 46): field names, with the Chinese term in English too
    "sensitivity": ("密级", "Sensitivity (密级)"),
    "author": ("责任者", "Author (责任者)"),
    "doc_number": ("文号", "Document number (文号)"),
    "remarks": ("备注", "Remarks (备注)"),
    "page_count": ("页数", "Pages (页数)"),
    # where a described value came from (ingest.describe, ingest.metadata)
    "explicit": ("归档时填写", "given at filing"),
    "sidecar": ("随附的元数据文件", "the metadata file sent with it"),
    "text:number_line": ("正文版头的文号行", "the 文号 line at the head of the text"),
    "text:labelled_line": ("正文中的标注行", "a labelled line of the text"),
    "text:issuer_mark": ("文号上方的发文机关标志", "the issuing unit's mark above the 文号"),
    "text:signature": ("成文日期上方的落款", "the signature (落款) above the date"),
    "manual": ("档案管理员更正", "corrected by a records manager"),
    # how a record was classified
    "rules": ("分类规则", "classification rules"),
    "person": ("人工分类", "a person"),
    # business processes, stages and record types of the shipped rule book and file plan
    "strategy": ("战略规划", "Strategy"),
    "marketing": ("市场营销", "Marketing"),
    "finance": ("财务管理", "Finance"),
    "hr": ("人力资源", "Human resources"),
    "administration": ("行政办公", "Office administration"),
    "procurement": ("采购", "Procurement"),
    "rnd": ("研发", "R&D"),
    "archival_work": ("档案工作", "Archival work"),
    "initiation": ("项目发起", "Initiation"),
    "approval": ("审批", "Approval"),
    "execution": ("执行", "Execution"),
    "monitoring": ("项目监控", "Monitoring"),
    "acceptance": ("验收", "Acceptance"),
    "contract": ("合同", "Contract"),
    "labour_contract": ("劳动合同", "Labour contract"),
    "minutes": ("会议纪要", "Minutes"),
    "acceptance_report": ("验收报告", "Acceptance report"),
    "report": ("报告", "Report"),
    "application": ("申请表", "Application form"),
    "approval_opinion": ("审批意见", "Approval opinion"),
    "voucher": ("记账凭证", "Accounting voucher"),
    "ledger": ("会计账簿", "Ledger"),
    "annual_financial_report": ("年度财务报告", "Annual financial report"),
    "monthly_report": ("月度报表", "Monthly report"),
    "disposition_register": ("处置清册", "Disposition register"),
    "general": ("一般", "General"),
    # the 四性 checks (ingest.checks.ORDER): the one a quarantined job failed is named by these
    "authenticity.digest": ("真实性：摘要一致", "Authenticity: the digest matches"),
    "authenticity.metadata_valid": ("真实性：元数据有效", "Authenticity: valid metadata"),
    "authenticity.reference_code": ("真实性：档号有效", "Authenticity: valid reference code"),
    "integrity.required_metadata": (
        "完整性：必备元数据齐全",
        "Integrity: required metadata present",
    ),
    "integrity.item_numbers": ("完整性：件号连续", "Integrity: item numbers without gaps"),
    "integrity.content_present": ("完整性：内容齐全", "Integrity: content present"),
    "security.virus_scan": ("安全性：病毒检测", "Security: virus scan"),
    "security.write_permitted": (
        "安全性：有权写入该档案",
        "Security: allowed to write into the record",
    ),
    "security.controlled_process": ("安全性：过程受控", "Security: a controlled process"),
    "usability.allowed_format": (
        "可用性：长期保存格式",
        "Usability: a format allowed for long-term keeping",
    ),
    "usability.not_encrypted": ("可用性：未加密", "Usability: not encrypted"),
    "usability.opens": ("可用性：能够打开和解析", "Usability: opens and parses"),
    "usability.rendition": ("可用性：生成阅读用 PDF", "Usability: laid out as PDF for reading"),
    # where a file came in from (ingest jobs' source_kind)
    "upload": ("网页上传", "Web upload"),
    "api": ("接口上传", "API upload"),
    "cli": ("命令行导入", "Console"),
    "hotfolder": ("扫描热文件夹", "Scanner hot folder"),
    "bulk": ("批量导入", "Bulk import"),
    # what a stored object of a version is (archive.models.RenditionRole)
    "original": ("原件", "Original"),
    "text": ("提取文本", "Extracted text"),
    "ocr_pdf": ("OCR 可检索 PDF", "OCR'd PDF"),
    "office_pdf": ("阅读用 PDF", "PDF for reading"),
    # a schedule's events rule (retention.clock.Rule.event_mode)
    "any": ("任一事件发生即起算", "The first of the events"),
    "all": ("全部事件发生后起算", "The last of the events"),
}

#: The class's choices a person picks from (the rule book's and the file plan's codes).
PROCESSES = (
    "strategy",
    "marketing",
    "finance",
    "hr",
    "administration",
    "procurement",
    "rnd",
    "archival_work",
)
STAGES = ("initiation", "approval", "execution", "monitoring", "acceptance")
RECORD_TYPES = (
    "contract",
    "labour_contract",
    "minutes",
    "acceptance_report",
    "report",
    "application",
    "approval_opinion",
    "voucher",
    "ledger",
    "annual_financial_report",
    "monthly_report",
    "disposition_register",
)

#: Media types as a person calls the file: PDF 文档, not ``application/pdf``.
MEDIA_TYPES: dict[str, Term] = {
    "application/pdf": ("PDF 文档", "PDF document"),
    "application/ofd": ("OFD 版式文档", "OFD document"),
    "application/msword": ("Word 文档", "Word document"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        "Word 文档",
        "Word document",
    ),
    "application/vnd.ms-excel": ("Excel 表格", "Excel workbook"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (
        "Excel 表格",
        "Excel workbook",
    ),
    "application/vnd.ms-powerpoint": ("PowerPoint 演示文稿", "PowerPoint presentation"),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "PowerPoint 演示文稿",
        "PowerPoint presentation",
    ),
    "application/vnd.oasis.opendocument.text": ("ODF 文本文档", "ODF text document"),
    "application/vnd.oasis.opendocument.spreadsheet": ("ODF 电子表格", "ODF spreadsheet"),
    "application/vnd.oasis.opendocument.presentation": ("ODF 演示文稿", "ODF presentation"),
    "text/plain": ("纯文本", "Plain text"),
    "text/csv": ("CSV 表格", "CSV table"),
    "text/html": ("网页", "Web page"),
    "text/xml": ("XML 文件", "XML file"),
    "application/xml": ("XML 文件", "XML file"),
    "application/json": ("JSON 文件", "JSON file"),
    "application/zip": ("ZIP 压缩包", "ZIP archive"),
    "message/rfc822": ("电子邮件", "E-mail message"),
    "image/jpeg": ("JPEG 图像", "JPEG image"),
    "image/png": ("PNG 图像", "PNG image"),
    "image/tiff": ("TIFF 图像", "TIFF image"),
    "image/gif": ("GIF 图像", "GIF image"),
    "image/bmp": ("BMP 图像", "BMP image"),
    "application/octet-stream": ("未知格式", "Unknown format"),
}

#: Who did something when it was not a person signed in: the CLI operator, the system.
ACTORS: dict[str, Term] = {
    "cli": ("系统（命令行）", "System (command line)"),
    "system": ("系统", "System"),
    "beat": ("系统（定时任务）", "System (scheduled task)"),
}


YES_NO: dict[bool, Term] = {True: ("是", "Yes"), False: ("否", "No")}


def english(lang: str | None) -> bool:
    """Chinese unless English was asked for (``en``, ``en_US``...)."""
    return bool(lang) and str(lang).lower().startswith("en")


def pick(term: Term, lang: str | None) -> str:
    return term[1] if english(lang) else term[0]


def _code(value: object) -> str:
    return str(value.value if isinstance(value, enum.Enum) else value)


#: 门类代码 (DA/T 22's first letters of a category's name) an archive commonly uses.
CATEGORIES: dict[str, Term] = {
    "WS": ("文书", "Administrative documents"),
    "KJ": ("会计", "Accounting"),
    "RS": ("人事", "Personnel"),
    "KY": ("科研", "Research"),
    "JJ": ("基建", "Construction"),
    "SB": ("设备", "Equipment"),
    "CP": ("产品", "Products"),
    "SX": ("声像", "Audio-visual"),
    "ZP": ("照片", "Photographs"),
    "SW": ("实物", "Objects"),
}


def category_words(code: str, lang: str | None = "zh") -> str:
    """A 门类代码 with its name (``WS 文书``); a code the list does not know, as it is."""
    found = CATEGORIES.get(code)
    return f"{code} {pick(found, lang)}" if found else code


def term(value: object, lang: str | None = "zh") -> str:
    """A role, level, state, class or outcome as words; an unknown code as it is."""
    if value is None or value == "":
        return "—"
    code = _code(value)
    found = TERMS.get(code) or MEDIA_TYPES.get(code)
    return pick(found, lang) if found else code


def retention_period(code: object, lang: str | None = "zh") -> str:
    """A 保管期限 code as words (``Y`` 永久, ``D30`` 30年); anything else as it is."""
    text = "" if code is None else _code(code)
    if text == "Y":
        return pick(("永久", "Permanent"), lang)
    if re.fullmatch(r"D[0-9]{1,3}", text):
        return f"{text[1:]} years" if english(lang) else f"{text[1:]}年"
    return text or "—"


def period_with_code(code: object, lang: str | None = "zh") -> str:
    """30年（D30）, 30 years (D30): the words, and the code the 档号 carries."""
    words, text = retention_period(code, lang), "" if code is None else _code(code)
    if not text or words == text:
        return words
    return f"{words} ({text})" if english(lang) else f"{words}（{text}）"


def word(value: object, lang: str | None = "zh") -> str:
    """Any code a page prints: a term, an audit action or a media type, as words."""
    if value is None or value == "":
        return "—"
    code = _code(value)
    found = TERMS.get(code) or ACTIONS.get(code) or MEDIA_TYPES.get(code)
    return pick(found, lang) if found else code


def media_label(code: str, lang: str | None = "zh") -> str:
    """A media type as people call the file; an unknown one by its subtype (``image/webp``
    → WEBP), never the whole code."""
    if not code:
        return "—"
    found = MEDIA_TYPES.get(code.split(";")[0].strip().lower())
    if found:
        return pick(found, lang)
    sub = code.split("/")[-1].split(";")[0].split("+")[0].split(".")[-1].upper()
    return f"{sub} 文件" if not english(lang) else f"{sub} file"


def actor_label(name: str, lang: str | None = "zh") -> str:
    """Who did something: a user name as it is; the CLI operator (``cli:root@host``) and the
    system by what they are."""
    if not name:
        return "—"
    kind = name.split(":", 1)[0] if ":" in name else name
    found = ACTORS.get(kind)
    return pick(found, lang) if found else name


def action_label(code: str, lang: str | None = "zh") -> str:
    found = ACTIONS.get(code)
    return pick(found, lang) if found else code


def family_label(code: str, lang: str | None = "zh") -> str:
    """A family of audit actions (``record.`` for every ``record.*``), as words."""
    found = FAMILIES.get(code.rstrip("."))
    return pick(found, lang) if found else code


def object_label(code: str, lang: str | None = "zh") -> str:
    found = OBJECTS.get(code)
    return pick(found, lang) if found else code


def field_label(key: str, lang: str | None = "zh") -> str:
    found = FIELDS.get(key)
    return pick(found, lang) if found else key


def beijing(value: datetime | None) -> str:
    """A moment in Beijing time, to the second; empty for none."""
    return value.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def shown_time(value: datetime | date | None) -> str:
    """What a page shows: a moment in Beijing time to the minute, a date as it is."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()
