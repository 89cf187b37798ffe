"""An event's details as a person reads them: every value in words, every code under a
coded key (``role``, ``action``, ``slot``, ``code``) as its word (:mod:`archive.vocabulary`),
no JSON and no Python reprs. Used by the audit trail, the changes page and the exports."""

from __future__ import annotations

import re
from datetime import date, datetime

from archive.vocabulary import (
    CODED_FIELDS,
    YES_NO,
    Term,
    beijing,
    english,
    field_label,
    period_with_code,
    pick,
    term,
)

#: Why a person's sessions were ended (``user.sessions_ended``), as archive.people says it.
SESSIONS_ENDED: dict[str, Term] = {
    "signed out": ("本人退出登录", "Signed out"),
    "password set": ("密码已重设", "Password set"),
    "deactivated": ("账户已停用", "Account deactivated"),
}

#: What a hold refused (``retention.refused``'s ``action``), beside the list actions.
REFUSED_ACTIONS: dict[str, Term] = {
    "delete": ("删除误归档档案", "Delete a misfiled record"),
    "destroy version": ("销毁版本", "Destroy a version"),
    "cut-off": ("截止（不再增加版本）", "Cut-off"),
}


def witness_slot(slot: str, lang: str | None = "zh") -> str:
    """A 监销 slot (``records_manager``, ``department:XS``, ``finance``, ``it``) in words."""
    department = slot.removeprefix("department:")
    if department != slot:
        return f"Department {department}" if english(lang) else f"部门代表（{department}）"
    fixed = {"finance": ("财务部门", "Finance"), "it": ("信息系统管理机构", "IT")}
    return pick(fixed[slot], lang) if slot in fixed else term(slot, lang)


#: Details keys whose values are 保管期限 codes (``D30``), shown as 30年（D30）.
PERIOD_FIELDS = frozenset({"code", "retention_code"})


def coded_text(key: str, value: object, lang: str | None) -> str | None:
    """A code (or a list of codes) under a coded key (``role``, ``renditions``) in words;
    None for any other key or value."""
    if key == "action" and isinstance(value, str) and value in REFUSED_ACTIONS:
        return pick(REFUSED_ACTIONS[value], lang)
    on_list = (
        re.fullmatch(r"(destroy|transfer) \(list (.+)\)", value)
        if key == "action" and isinstance(value, str)
        else None
    )
    if on_list:
        verb = term(on_list[1], lang)
        return f"{verb} (list {on_list[2]})" if english(lang) else f"{verb}（清册 {on_list[2]}）"
    if key == "slot" and isinstance(value, str):
        return witness_slot(value, lang)
    if key == "reason" and isinstance(value, str) and value in SESSIONS_ENDED:
        return pick(SESSIONS_ENDED[value], lang)
    changed = (
        re.fullmatch(r"([a-z_]+(?:, [a-z_]+)*) changed", value)
        if key == "reason" and isinstance(value, str)
        else None
    )
    if changed:
        fields = [field_label(name, lang) for name in changed[1].split(", ")]
        return f"{', '.join(fields)} changed" if english(lang) else f"{'、'.join(fields)}已变更"
    if key in PERIOD_FIELDS and isinstance(value, str) and value:
        return period_with_code(value, lang)
    if key not in CODED_FIELDS:
        return None
    if isinstance(value, str):
        return term(value, lang)
    if isinstance(value, list):
        return as_text([term(v, lang) if isinstance(v, str) else v for v in value], lang)
    return None


def _detail(key: str, value: object, lang: str | None) -> str:
    """One value of a details dict: a code under a coded key (``role``) as its word."""
    coded = coded_text(key, value, lang)
    return coded if coded is not None else as_text(value, lang)


def _key(key: str, lang: str | None) -> str:
    """A details key in words: a field's name, else a code used as a key (``{"destroy": 1}``
    counts by disposal) as its word, else the key as it is."""
    named = field_label(key, lang)
    return term(key, lang) if named == key else named


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
        return sep.join(f"{_key(k, lang)}{colon}{_detail(k, v, lang)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
