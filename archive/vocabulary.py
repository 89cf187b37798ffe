"""The archive's words for its codes, in Chinese and English, for documents built without a
web request: certificates and reports (retention), the audit trail and its CSV (access).

It lives in ``archive`` because retention may not import access (layers), yet a certificate
must say 档案管理员 where the database says ``records_manager``. The web pages' own table
(``access.web.labels``) answers from here for every code it has no msgid of its own for, so
an action code has one Chinese name wherever it is shown.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from archive.db import LOCAL_TIME

#: (Chinese, English)
Term = tuple[str, str]

#: Roles, levels, states, classes and outcomes: what certificates and the trail print.
TERMS: dict[str, Term] = {
    # roles (and the signer roles of a disposition list)
    "specialist": ("专员", "Specialist"),
    "supervisor": ("主管", "Supervisor"),
    "director": ("总监", "Director"),
    "records_manager": ("档案管理员", "Records manager"),
    "auditor": ("安全审计员", "Auditor"),
    "admin": ("系统管理员", "Administrator"),
    "security_admin": ("安全保密管理员", "Security administrator"),
    "department_head": ("部门负责人", "Department head"),
    "head": ("部门负责人", "Department head"),
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
    "rejected": ("已驳回", "Rejected"),
    "allowed": ("允许", "Allowed"),
    "refused": ("已拒绝", "Refused"),
    # the access log's actions besides the scopes (access.browse)
    "snippet": ("检索摘要", "Search snippet"),
    "metadata": ("查看元数据", "Metadata"),
    "search": ("检索", "Search"),
    # disposition: actions, list states, item outcomes
    "review": ("鉴定", "Review"),
    "destroy": ("销毁", "Destroy"),
    "transfer": ("移交", "Transfer"),
    "draft": ("草稿", "Draft"),
    "signing": ("签字中", "Signing"),
    "executed": ("已执行", "Executed"),
    "cancelled": ("已作废", "Cancelled"),
    "destroyed": ("已销毁", "Destroyed"),
    "transferred": ("已移交", "Transferred"),
    "skipped": ("未处置", "Skipped"),
    "deleted": ("已删除", "Deleted"),
    # record states
    "active": ("在管", "Active"),
    "on_hold": ("保全中", "On hold"),
    "disposed": ("已销毁", "Destroyed"),
    # retention triggers
    "filed": ("归档日期", "Filing date"),
    "year_end": ("归档年度末", "End of the filing year"),
    "fiscal_year_end": ("会计年度末", "End of the fiscal year"),
    "event": ("事件", "Event"),
    # business processes, stages and record types of the shipped rule book and file plan
    "strategy": ("战略规划", "Strategy"),
    "marketing": ("市场营销", "Marketing"),
    "finance": ("财务管理", "Finance"),
    "hr": ("人力资源", "Human resources"),
    "administration": ("行政办公", "Administration"),
    "procurement": ("采购", "Procurement"),
    "rnd": ("研发", "R&D"),
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
    "general": ("一般", "General"),
}

#: Every action the audit chain records (``record_event``); a test scans the code for them.
ACTIONS: dict[str, Term] = {
    "access.request": ("提交查阅申请", "Access requested"),
    "access.approve": ("批准查阅申请", "Access request approved"),
    "access.refuse": ("拒绝查阅申请", "Access request refused"),
    "access.escalate": ("查阅申请转总监", "Access request escalated to a director"),
    "access.emergency": ("绿色通道查阅", "Green-channel access"),
    "access.revoke": ("撤销查阅授权", "Grant revoked"),
    "grant.create": ("授予查阅权限", "Grant created"),
    "access_log.read": ("查看访问日志", "Access log viewed"),
    "audit_trail.read": ("查看审计记录", "Audit trail viewed"),
    "audit.sample": ("季度审计抽检", "Quarterly audit sample drawn"),
    "audit.checkpoints_started": ("启用签名检查点", "Signed checkpoints started"),
    "audit.checkpoints_refused": ("签名检查点校验不符", "Signed checkpoints did not match"),
    "incident.exported": ("导出事件调查记录", "Incident trail exported"),
    "login": ("登录", "Signed in"),
    "logout": ("退出登录", "Signed out"),
    "login.failed": ("登录失败", "Sign-in failed"),
    "login.locked": ("登录锁定", "Sign-in locked"),
    "login.throttled": ("登录限速", "Sign-in throttled"),
    "user.created": ("创建用户", "User created"),
    "user.role_changed": ("变更角色", "Role changed"),
    "user.department_changed": ("变更部门", "Department changed"),
    "user.clearance_changed": ("变更密级许可", "Clearance changed"),
    "user.activated": ("启用用户", "User activated"),
    "user.deactivated": ("停用用户", "User deactivated"),
    "user.frozen": ("冻结用户（事件处置）", "User frozen (incident)"),
    "user.password_set": ("设置密码", "Password set"),
    "user.sessions_ended": ("结束会话", "Sessions ended"),
    "token.issued": ("签发接口令牌", "API token issued"),
    "department.created": ("创建部门", "Department created"),
    "privilege.requested": ("申请特权变更", "Privileged change requested"),
    "privilege.approved": ("批准特权变更", "Privileged change approved"),
    "privilege.rejected": ("驳回特权变更", "Privileged change rejected"),
    "privilege.cancelled": ("撤回特权变更", "Privileged change withdrawn"),
    "project.created": ("创建项目", "Project created"),
    "record.created": ("创建档案", "Record created"),
    "record.numbered": ("编制档号", "Reference code assigned"),
    "record.imported": ("导入档案", "Record imported"),
    "record.reclassified": ("人工改正分类", "Record reclassified"),
    "record.sensitivity_raised": ("提高密级", "Sensitivity raised"),
    "record.cut_off": ("档案截止", "Record cut off"),
    "record.delete_requested": ("申请删除误归档档案", "Deletion of a misfiled record asked"),
    "record.deleted": ("删除误归档档案", "Misfiled record deleted"),
    "record.destroyed": ("销毁档案", "Record destroyed"),
    "record.transferred": ("移交档案", "Record transferred"),
    "version.stored": ("存储版本", "Version stored"),
    "version.content_destroyed": ("销毁版本内容", "Version content destroyed"),
    "version.rendition_added": ("补制阅读用 PDF", "Reading PDF added to a version"),
    "ingest.received": ("接收文件", "File received"),
    "ingest.duplicate": ("重复文件", "Duplicate file"),
    "ingest.quarantined": ("隔离文件", "File quarantined"),
    "ingest.released": ("放行隔离文件", "Quarantined file released"),
    "ingest.retried": ("重新处理文件", "Ingest retried"),
    "classification.rule_saved": ("保存分类规则", "Classification rule saved"),
    "retention.schedule_saved": ("保存保管期限表", "Retention schedule saved"),
    "retention.schedule_retired": ("停用保管期限表", "Retention schedule retired"),
    "retention.event_type_added": ("新增事件类型", "Event type added"),
    "retention.event_type_changed": ("修改事件类型", "Event type changed"),
    "retention.event_recorded": ("登记保管事件", "Retention event recorded"),
    "retention.event_voided": ("作废保管事件", "Retention event voided"),
    "retention.hold_placed": ("设置保全", "Hold placed"),
    "retention.hold_released": ("解除保全", "Hold released"),
    "retention.hold_extended": ("保全增加档案", "Records added to a hold"),
    "records.exported": ("导出检索结果元数据", "Search results' metadata exported"),
    "retention.refused": ("因保全拒绝处置", "Refused because of a hold"),
    "retention.reviewed": ("到期鉴定", "Record appraised"),
    "retention.swept": ("保管期限巡检", "Retention sweep"),
    "disposition.list_created": ("创建处置清册", "Disposition list created"),
    "disposition.witnessed": ("监销签署", "Destruction witnessed"),
    "register.printed": ("打印清册目录", "Register printed"),
    "disposition.closed": ("清册关闭（监销完成）", "List closed (destruction witnessed)"),
    "disposition.register_filed": ("清册归档", "Register filed as a record"),
    "disposition.receiver_set": ("指定接收方", "Receiving party named"),
    "disposition.receipt_recorded": ("登记接收回执", "Transfer receipt recorded"),
    "transfer.receipt_issued": ("出具接收回执", "Transfer receipt issued"),
    "record.description_changed": ("修改著录项", "Description changed"),
    "disposition.items_added": ("清册加入档案", "Records added to a list"),
    "disposition.items_removed": ("清册移出档案", "Records removed from a list"),
    "disposition.opinion_set": ("填写鉴定意见", "Appraisal opinion written"),
    "disposition.submitted": ("提交清册签字", "List submitted for signing"),
    "disposition.signed": ("签署处置清册", "Disposition list signed"),
    "disposition.sent_back": ("退回处置清册", "Disposition list sent back"),
    "disposition.cancelled": ("作废处置清册", "Disposition list cancelled"),
    "disposition.executed": ("执行处置清册", "Disposition list executed"),
    "fixity.verified": ("固定性校验", "Fixity verified"),
    "backup.created": ("创建备份", "Backup created"),
    "backup.restored": ("恢复备份", "Backup restored"),
    "backup.reshredded": ("恢复后再次销毁密钥", "Keys shredded again after a restore"),
    "blobs.orphans_removed": ("清理孤立存储对象", "Orphaned objects removed"),
    "keys.created": ("创建密钥", "Keys created"),
    "keys.purposes_added": ("添加密钥用途", "Key purposes added"),
    "keys.rotated": ("轮换密钥", "Keys rotated"),
}

#: What an audit event is about (``object_type``).
OBJECTS: dict[str, Term] = {
    "record": ("档案", "Record"),
    "version": ("版本", "Version"),
    "user": ("用户", "User"),
    "department": ("部门", "Department"),
    "project": ("项目", "Project"),
    "access_request": ("查阅申请", "Access request"),
    "grant": ("查阅授权", "Grant"),
    "access_log": ("访问日志", "Access log"),
    "audit_trail": ("审计记录", "Audit trail"),
    "disposition_list": ("处置清册", "Disposition list"),
    "hold": ("保全", "Hold"),
    "schedule": ("保管期限表", "Retention schedule"),
    "event_type": ("事件类型", "Event type"),
    "retention_event": ("保管事件", "Retention event"),
    "retention": ("保管期限", "Retention"),
    "ingest_job": ("入库任务", "Ingest job"),
    "classification_rule": ("分类规则", "Classification rule"),
    "privilege_change": ("特权变更", "Privileged change"),
    "keyring": ("密钥环", "Keyring"),
    "backup": ("备份", "Backup"),
    "blob_store": ("存储", "Object store"),
    "checkpoints": ("签名检查点", "Signed checkpoints"),
    "archive": ("档案库", "Archive"),
    "quarter": ("季度", "Quarter"),
    "register": ("清册目录", "Register"),
    "transfer": ("移交包", "Transfer package"),
}

#: The keys of events' details, as a person calls them.
FIELDS: dict[str, Term] = {
    "username": ("用户名", "User name"),
    "user": ("用户", "User"),
    "role": ("角色", "Role"),
    "department": ("部门", "Department"),
    "department_id": ("部门", "Department"),
    "clearance": ("密级许可", "Clearance"),
    "sensitivity": ("密级", "Sensitivity"),
    "active": ("启用", "Active"),
    "reset_password": ("重置密码", "Password reset"),
    "status": ("状态", "Status"),
    "step": ("审批步骤", "Step"),
    "approver": ("审批人", "Approver"),
    "escalated": ("已转总监", "Escalated"),
    "revoked": ("已撤销", "Revoked"),
    "reason": ("理由", "Reason"),
    "why": ("理由", "Reason"),
    "note": ("备注", "Note"),
    "opinion": ("意见", "Opinion"),
    "outcome": ("结论", "Outcome"),
    "label": ("名称", "Label"),
    "name": ("名称", "Name"),
    "title": ("题名", "Title"),
    "code": ("代码", "Code"),
    "key": ("标识", "Key"),
    "kind": ("类型", "Kind"),
    "scope": ("范围", "Scope"),
    "purpose": ("目的", "Purpose"),
    "days": ("天数", "Days"),
    "hours": ("小时数", "Hours"),
    "record": ("档案", "Record"),
    "record_id": ("档案", "Record"),
    "from": ("自", "From"),
    "to": ("至", "To"),
    "until": ("至", "Until"),
    "project": ("项目", "Project"),
    "process": ("业务流程", "Process"),
    "stage": ("业务阶段", "Stage"),
    "record_type": ("文件类型", "Record type"),
    "type": ("文件类型", "Record type"),
    "class": ("类别", "Class"),
    "classification": ("分类依据", "Classification"),
    "name_stem": ("档案名称", "Record name"),
    "years": ("保管年限", "Years"),
    "trigger": ("起算点", "Counted from"),
    "disposal": ("到期处置", "At the end"),
    "events": ("起算事件", "Events"),
    "event_mode": ("事件规则", "Event rule"),
    "event_type": ("事件类型", "Event type"),
    "basis": ("依据", "Basis"),
    "version": ("版本", "Version"),
    "due_on": ("到期日", "Due on"),
    "due_before": ("原到期日", "Due before"),
    "department_opinion": ("部门意见", "Department's opinion"),
    "slot": ("监销身份", "Witness slot"),
    "capacity": ("身份", "Capacity"),
    "statement": ("声明", "Statement"),
    "witnesses": ("监销人", "Witnesses"),
    "author": ("责任者", "Author"),
    "doc_number": ("文号", "Document number"),
    "remarks": ("备注", "Remarks"),
    "receiver": ("接收方", "Receiving party"),
    "received_by": ("接收人", "Received by"),
    "received_at": ("接收时间", "Received at"),
    "manifest_sha256": ("移交包清单摘要", "Package manifest digest"),
    "missing": ("未列入回执", "Missing from the receipt"),
    "due_after": ("新到期日", "Due after"),
    "extended_to": ("延期至", "Extended to"),
    "schedule": ("保管期限表", "Schedule"),
    "on": ("日期", "On"),
    "occurred_on": ("发生日期", "Occurred on"),
    "list": ("清册", "List"),
    "digest": ("摘要", "Digest"),
    "items": ("条目数", "Items"),
    "added": ("加入", "Added"),
    "removed": ("移出", "Removed"),
    "total": ("合计", "Total"),
    "swept": ("巡检生成", "From the sweep"),
    "action": ("操作", "Action"),
    "holds": ("保全", "Holds"),
    "placed_by": ("设置人", "Placed by"),
    "placed_at": ("设置时间", "Placed at"),
    "released_at": ("解除时间", "Released at"),
    "released_by": ("解除人", "Released by"),
    "release_reason": ("解除理由", "Release reason"),
    "query": ("条件", "Query"),
    "named": ("指定档案", "Named records"),
    "records": ("档案", "Records"),
    "recorded_by": ("登记人", "Recorded by"),
    "voided": ("已作废", "Voided"),
    "void_reason": ("作废理由", "Void reason"),
    "requested_by": ("申请人", "Requested by"),
    "changes": ("变更内容", "Changes"),
    "one_time_password": ("一次性密码", "One-time password"),
    "temporary": ("临时密码", "Temporary"),
    "tokens_revoked": ("撤销令牌数", "Tokens revoked"),
    "tokens": ("令牌", "Tokens"),
    "grants": ("授权", "Grants"),
    "requests": ("申请", "Requests"),
    "prefix": ("令牌前缀", "Token prefix"),
    "filename": ("文件名", "File name"),
    "original_filename": ("原文件名", "Original file name"),
    "given_filename": ("提交的文件名", "Given file name"),
    "source": ("来源", "Source"),
    "source_path": ("来源路径", "Source path"),
    "size": ("大小", "Size"),
    "sha256": ("SHA-256", "SHA-256"),
    "check": ("检测项", "Check"),
    "enabled": ("启用", "Enabled"),
    "priority": ("优先级", "Priority"),
    "keywords": ("关键词", "Keywords"),
    "pattern": ("匹配模式", "Pattern"),
    "since": ("起始时间", "Since"),
    "wait": ("等待秒数", "Wait (seconds)"),
    "value": ("值", "Value"),
    "format": ("格式", "Format"),
    "page": ("页码", "Page"),
    "done": ("完成", "Done"),
    "skipped": ("未处置", "Skipped"),
    "package": ("移交包", "Package"),
    "path": ("路径", "Path"),
    "rows": ("行数", "Rows"),
    "blobs": ("对象数", "Objects"),
    "keys": ("密钥数", "Keys"),
    "versions": ("版本", "Versions"),
    "count": ("数量", "Count"),
    "seed": ("随机种子", "Seed"),
    "population": ("总体数量", "Population"),
    "findings": ("发现问题", "Findings"),
    "checked": ("已校验", "Checked"),
    "failed": ("校验失败", "Failed"),
    "run": ("批次", "Run"),
}

#: Details keys whose values are codes of :data:`TERMS`.
CODED_FIELDS = frozenset(
    {
        "role",
        "clearance",
        "sensitivity",
        "status",
        "scope",
        "approver",
        "action",
        "outcome",
        "process",
        "stage",
        "record_type",
        "type",
        "trigger",
        "disposal",
    }
)

YES_NO: dict[bool, Term] = {True: ("是", "Yes"), False: ("否", "No")}


def english(lang: str | None) -> bool:
    """Chinese unless English was asked for (``en``, ``en_US``...)."""
    return bool(lang) and str(lang).lower().startswith("en")


def pick(term: Term, lang: str | None) -> str:
    return term[1] if english(lang) else term[0]


def _code(value: object) -> str:
    return str(value.value if isinstance(value, enum.Enum) else value)


def term(value: object, lang: str | None = "zh") -> str:
    """A role, level, state, class or outcome as words; an unknown code as it is."""
    if value is None or value == "":
        return "—"
    code = _code(value)
    found = TERMS.get(code)
    return pick(found, lang) if found else code


def action_label(code: str, lang: str | None = "zh") -> str:
    found = ACTIONS.get(code)
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


def as_text(value: object, lang: str | None = "zh") -> str:
    """A value of an event's details as a person reads it: no JSON, no Python reprs."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return pick(YES_NO[value], lang)
    if isinstance(value, datetime):
        return beijing(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        shown = [as_text(v, lang) for v in value[:20]]
        more = len(value) - len(shown)
        joined = (", " if english(lang) else "、").join(shown) if shown else "—"
        if more > 0:
            joined += f" 等{len(value)}项" if not english(lang) else f" and {more} more"
        return joined
    if isinstance(value, dict):
        sep, colon = ("; ", ": ") if english(lang) else ("；", "：")
        return sep.join(
            f"{field_label(k, lang)}{colon}{as_text(v, lang)}" for k, v in value.items()
        )
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
