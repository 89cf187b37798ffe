"""The fields of a schedule that shape its records' 档号: the retention code (保管期限), the
门类 and the filing unit (件 item, or 案卷 volume bound by month or year). Validated here, so
the API, the CLI, the web form and a loaded plan refuse the same mistakes in the same words."""

from __future__ import annotations

import re
from typing import Any

from archive.models import FilingUnit, VolumePeriod
from retention.errors import RetentionError

_CATEGORY = re.compile(r"[A-Z]{1,4}")
MAX_YEARS = 200


def years_of(data: dict[str, Any], key: str) -> int | None:
    """``years`` (null: permanent), or a 保管期限 code: Y, D30, D10, D2…"""
    if "code" in data and data["code"] is not None:
        code = str(data["code"]).strip().upper()
        if code in ("Y", "永久"):
            return None
        match = re.fullmatch(r"D(\d{1,3})", code)
        if not match:
            raise RetentionError(
                f"schedule {key!r}: retention code {code!r} is not Y or D<years>",
                code="retention_code",
                field="code",
            )
        return int(match[1])
    raw = data.get("years")
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_YEARS:
        raise RetentionError(
            f"schedule {key!r}: years must be a whole number 1-{MAX_YEARS} or null (permanent)"
        )
    return raw


def category_of(data: dict[str, Any], key: str) -> str | None:
    """The 门类代码 (WS 文书, KJ 会计, …); empty: the archive's ``ARCHIVE_CATEGORY_CODE``."""
    raw = str(data.get("category") or "").strip().upper()
    if not raw:
        return None
    if not _CATEGORY.fullmatch(raw):
        raise RetentionError(
            f"schedule {key!r}: 门类 code {raw!r} must be 1-4 capital letters (WS, KJ…)",
            code="category_code",
            field="category",
        )
    return raw


def filing_of(data: dict[str, Any], key: str) -> tuple[FilingUnit, VolumePeriod | None]:
    """The filing unit and, for volumes, the period that binds them (month by default)."""
    try:
        unit = FilingUnit(data.get("filing") or FilingUnit.ITEM)
        period = VolumePeriod(data["volume_by"]) if data.get("volume_by") else None
    except ValueError as exc:
        raise RetentionError(
            f"schedule {key!r}: {exc} (filing: item or volume; volume_by: month or year)"
        ) from None
    if unit == FilingUnit.ITEM and period is not None:
        raise RetentionError(f"schedule {key!r} files by item but names a volume period")
    if unit == FilingUnit.VOLUME and period is None:
        period = VolumePeriod.MONTH
    return unit, period
