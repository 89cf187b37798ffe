"""Reasons the archive writes as English sentences (quarantine, alerts, the access log's
allowed and refused reads), said in the page's language where their pattern is known; a
sentence the archive does not know (a parser's message) stays as written."""

from __future__ import annotations

import re

from archive.vocabulary import english, media_label, term

#: The quarantine reasons the pipeline writes and the alerts' details (English, for logs, mail
#: and the CLI), as a page says them: (pattern, Chinese, English); ``{media}`` and
#: ``{action}`` are codes, put in words.
REASONS: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(r"(?P<media>\S+) \(named (?P<ext>.*)\) is not a format allowed for keeping"),
        "{media}（文件后缀 {ext}）不是允许长期保存的格式",
        "{media} (named {ext}) is not a format allowed for long-term keeping",
    ),
    (re.compile(r"the file is empty"), "文件为空", "The file is empty"),
    (
        re.compile(r"cannot be read back: (?P<why>.*)"),
        "无法读回（密文缺失或已被改动：{why}）",
        "Cannot be read back ({why})",
    ),
    (
        re.compile(r"named (?P<ext>\S+), the extension of a program: not kept as a document"),
        "文件后缀 {ext} 是可执行程序的后缀，不作为文件归档（如确为文档，请改正后缀后重新上传）",
        "Named {ext}, the extension of a program: not kept as a document (if it is a document, "
        "correct the extension and upload it again)",
    ),
    (
        re.compile(
            r"record (?P<record>\S+) is on disposition list (?P<list>\S+), which is being "
            r"signed: a version can be added once the list is sent back or cancelled"
        ),
        "档案 {record} 在正在签署的处置清册 {list} 中：清册退回或撤销后才能追加版本",
        "Record {record} is on disposition list {list}, which is being signed: a version can "
        "be added once the list is sent back or cancelled",
    ),
    (
        re.compile(r"the file holds no text, only spaces or an encoding mark"),
        "文件中没有文字（只有空白或编码标记）",
        "The file holds no text, only spaces or an encoding mark",
    ),
    (
        re.compile(r"named (?P<ext>\S+) \((?P<promised>[^)]*)\) but the content is (?P<media>\S+)"),
        "文件后缀为 {ext}，内容却是{media}",
        "Named {ext} but the content is {media}",
    ),
    (re.compile(r"ClamAV found (?P<what>.*)"), "病毒检测发现：{what}", "Virus scan found {what}"),
    (
        re.compile(r"virus scan did not finish in (?P<s>\d+) s"),
        "病毒检测 {s} 秒内未完成",
        "The virus scan did not finish in {s} s",
    ),
    (re.compile(r"missing (?P<what>.*)"), "缺少：{what}", "Missing: {what}"),
    # metadata given with a file (ingest.validate), one problem of several joined by "; "
    (
        re.compile(r"date: date '(?P<value>.*)' is not of the form (?P<example>.*)"),
        "日期“{value}”的格式不对，应如 {example}",
        "Date '{value}' is not of the form {example}",
    ),
    (
        re.compile(r"date: date '(?P<value>.*)' does not exist"),
        "日期“{value}”不存在",
        "Date '{value}' does not exist",
    ),
    (
        re.compile(r"project: project name '(?P<value>.*)' has no letters or digits left.*"),
        "项目名称“{value}”去掉不能用于文件名的字符后，没有文字或数字",
        "Project name '{value}' has no letters or digits left once made safe",
    ),
    (
        re.compile(r"department: no department '(?P<value>.*)' \(known: (?P<known>.*)\)"),
        "没有部门“{value}”（现有：{known}）",
        "No department '{value}' (known: {known})",
    ),
    (
        re.compile(r"department: you file documents for your own department only, not (?P<d>.*)"),
        "只能为本部门归档，不能为 {d}",
        "You file documents for your own department only, not {d}",
    ),
    # why the rules classified a record as they did (ingest.classify)
    (re.compile(r"keywords: (?P<words>.*)"), "关键词：{words}", "keywords: {words}"),
    (re.compile(r"pattern: (?P<p>.*)"), "匹配模式：{p}", "pattern: {p}"),
    (re.compile(r"file name: (?P<p>.*)"), "文件名：{p}", "file name: {p}"),
    (re.compile(r"folder: (?P<p>.*)"), "文件夹：{p}", "folder: {p}"),
    (re.compile(r"contracts are restricted"), "合同一律列为限制级", "contracts are restricted"),
    # why a record's content was destroyed (retention.execution)
    (
        re.compile(r"destroyed by list (?P<number>\S+)"),
        "依销毁清册 {number} 销毁",
        "destroyed by list {number}",
    ),
    # why a read was allowed or refused (access.policy, access.reader): the access log's reasons
    (re.compile(r"standing access"), "常设权限", "Standing access"),
    (re.compile(r"grant"), "依据查阅授权", "By a grant"),
    (re.compile(r"no grant for this record"), "无此档案的查阅授权", "No grant for this record"),
    (
        re.compile(r"the grant does not cover (?P<action>\w+)"),
        "授权不含“{action}”",
        "The grant does not cover {action}",
    ),
    (re.compile(r"the grant was revoked"), "授权已撤销", "The grant was revoked"),
    (re.compile(r"the grant is not valid yet"), "授权尚未生效", "The grant is not valid yet"),
    (re.compile(r"the grant has expired"), "授权已过期", "The grant has expired"),
    (re.compile(r"the account is disabled"), "账户已停用", "The account is disabled"),
    (
        re.compile(r"the record was destroyed"),
        "档案已销毁，内容不复存在",
        "The record was destroyed: its content no longer exists",
    ),
    (re.compile(r"no valid API token"), "未提供有效的接口令牌", "No valid API token"),
    (re.compile(r"the API token was revoked"), "接口令牌已吊销", "The API token was revoked"),
    (re.compile(r"the API token has expired"), "接口令牌已过期", "The API token has expired"),
    (
        re.compile(r"the record is above your clearance"),
        "档案密级高于本人密级许可",
        "The record is above the person's clearance",
    ),
    (
        re.compile(r"the (?P<role>\w+) role reads no records"),
        "{role}角色不阅读档案内容",
        "The {role} role reads no records",
    ),
    (
        re.compile(r"(?:unknown or )?(?:the record is )?beyond the caller's view"),
        "档案不存在或不在其可见范围内",
        "Unknown or beyond the person's view",
    ),
    (re.compile(r"no such version"), "无此版本", "No such version"),
    (re.compile(r"content destroyed"), "内容已销毁", "Content destroyed"),
    (re.compile(r"content missing"), "存储内容缺失", "Content missing"),
    (re.compile(r"storage unavailable"), "存储暂不可用", "Storage unavailable"),
    (
        re.compile(r"truncated PDF: no %%EOF marker at the end"),
        "PDF 文件不完整（结尾缺少 %%EOF 标记），可能在传输或扫描中被截断",
        "Truncated PDF: no %%EOF marker at the end (cut off in transfer or scanning?)",
    ),
    # alerts (access.alerts): their details
    (
        re.compile(r"(?P<n>\d+) refusals within an hour"),
        "一小时内被拒绝 {n} 次",
        "{n} refusals within an hour",
    ),
    (
        re.compile(r"(?P<n>\d+) records within an hour"),
        "一小时内读取 {n} 份档案",
        "{n} records read within an hour",
    ),
    (
        re.compile(r"(?P<action>\w+) of record (?P<record>\S+) at (?P<time>\d\d:\d\d) 北京时间"),
        "北京时间 {time}{action}档案 {record}",
        "{action} of record {record} at {time} Beijing time",
    ),
]


def reason_text(reason: str | None, lang: str | None = "zh") -> str:
    """A quarantine reason in the page's language where the archive knows its pattern; the
    pipeline's own words (a parser's message, say) otherwise."""
    if not reason:
        return ""
    if "; " in reason:  # several problems: each said on its own
        return "；".join(reason_text(part, lang) for part in reason.split("; "))
    for pattern, chinese, english_text in REASONS:
        found = pattern.fullmatch(reason.strip())
        if found:
            values = found.groupdict()
            if "media" in values:
                values["media"] = media_label(values["media"], lang)
            if "action" in values:
                values["action"] = term(values["action"], lang)
            if "role" in values:
                values["role"] = term(values["role"], lang)
            return (english_text if english(lang) else chinese).format(**values)
    return reason
