"""A record's description as XML after DA/T 46-2009 (文书类电子文件元数据方案), for transfer
packages: beside ``metadata.json`` (what this archive reads back), ``metadata.xml`` carries
the same facts under the standard's element names, which a receiving archive's system maps.

Only the elements this archive knows are written, in the standard's order and nesting:
聚合层次, 来源, 电子文件号, 档号 (split into its parts), 内容描述, 形式特征, 存储位置 (none here:
the files travel in the package), 权限管理, 附注, and per version 电子属性 with its digest, and
the record's history as 业务实体 (the audit trail, one 业务行为 per event). Empty elements are
left out rather than written blank.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from archive.refcode import ReferenceCodeError, parse_reference
from archive.vocabulary import term

#: 密级 as DA/T 46 expects it worded, for each sensitivity.
SECRECY = {"public": "公开", "internal": "内部", "confidential": "秘密", "restricted": "机密"}


def register_day(value: str | date | None) -> str:
    """日期 as DA/T 22 writes it: eight digits."""
    if value is None or value == "":
        return ""
    text = value.isoformat() if isinstance(value, date) else str(value)
    digits = text.replace("-", "")
    return digits + "00" if len(digits) == 6 else digits  # the day not given: 00


def _add(parent: ET.Element, name: str, value: object = None) -> ET.Element:
    element = ET.SubElement(parent, name)
    if value is not None:
        element.text = str(value)
    return element


def _maybe(parent: ET.Element, name: str, value: object) -> None:
    if value not in (None, "", [], {}):
        _add(parent, name, value)


def _retention_words(code: str | None) -> str | None:
    if not code:
        return None
    return "永久" if code == "Y" else f"{code[1:]}年" if code.startswith("D") else code


def description_xml(
    description: Mapping[str, Any],
    organisation: str = "",
    trail: Sequence[Mapping[str, Any]] = (),
) -> bytes:
    """``description`` (as :func:`archive.record_facts.describe` gives it, with ``files``) as
    a DA/T 46 document, UTF-8 with its declaration."""
    root = ET.Element("电子文件元数据", {"标准": "DA/T 46-2009"})
    _add(root, "聚合层次", "文件")
    source = _add(root, "来源")
    _maybe(source, "全宗名称", organisation)
    _maybe(source, "立档单位名称", organisation)
    _add(root, "电子文件号", description.get("record_id"))
    code = description.get("reference_code")
    if code:
        reference = _add(root, "档号")
        _add(reference, "档号全文", code)
        try:
            parts = parse_reference(code)
        except ReferenceCodeError:
            parts = None
        if parts is not None:
            _maybe(reference, "全宗号", parts.fonds)
            _add(reference, "门类代码", parts.category)
            _add(reference, "年度", parts.year)
            _add(reference, "保管期限", parts.retention)
            _maybe(reference, "机构或问题", parts.org)
            _add(reference, "件号", f"{parts.item:04d}")
    content = _add(root, "内容描述")
    _add(content, "题名", description.get("title"))
    _maybe(content, "文件编号", description.get("doc_number"))
    _maybe(content, "责任者", description.get("author"))
    # The document's own date, as the registers write it (a month without its day: 00).
    _maybe(
        content,
        "日期",
        register_day(description.get("document_date") or description.get("filed_on")),
    )
    kind = (description.get("class") or {}).get("type")
    _maybe(content, "文种", term(kind) if kind else None)
    _maybe(content, "密级", SECRECY.get(str(description.get("sensitivity"))))
    _maybe(content, "保管期限", _retention_words(description.get("code")))
    form = _add(root, "形式特征")
    _add(form, "文件组合类型", "单件")
    versions = description.get("versions") or []
    _add(form, "件数", 1)
    _maybe(form, "页数", description.get("pages"))
    _add(form, "语种", "汉语")
    rights = _add(root, "权限管理")
    _maybe(rights, "控制标识", SECRECY.get(str(description.get("sensitivity"))))
    _maybe(root, "附注", description.get("remarks"))
    names = {name: file for file, name in (description.get("files") or {}).items()}
    for version in versions:
        electronic = _add(root, "电子属性")
        _add(electronic, "版本", version.get("name"))
        _maybe(electronic, "格式信息", version.get("media_type"))
        _maybe(electronic, "计算机文件名", names.get(version.get("name")))
        _maybe(electronic, "计算机文件大小", version.get("size"))
        digest = _add(electronic, "数字摘要", version.get("sha256"))
        digest.set("算法", "SHA-256")
    if trail:
        business = _add(root, "业务实体")
        for event in trail:
            act = _add(business, "业务行为")
            _add(act, "行为时间", event.get("at"))
            _add(act, "行为描述", event.get("action"))
            _maybe(act, "机构人员名称", event.get("actor"))
    ET.indent(root)
    written: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return written
