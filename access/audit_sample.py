"""The quarterly internal audit sample (季度抽检): draw records at random, run the 四性 checks
on each version again, review the quarter's access log of each, and write the report.

The draw is reproducible: the seed is printed in the report, and the same seed over the same
population draws the same records. Findings: a version failing a check, an emergency access
(green channel) never approved, and refused attempts, listed with who, when and from where.
"""

from __future__ import annotations

import random
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive.accesslog import ALLOWED, REFUSED
from archive.audit import Actor, record_event
from archive.core import Archive
from archive.csvsafe import csv_text
from archive.db import LOCAL_TIME, utcnow
from archive.errors import DomainError
from archive.models import AccessEvent, AccessRequest, Record, RecordState, RequestStatus, Version
from archive.pdf import report_pdf
from archive.vocabulary import term
from archive.vocabulary_reasons import reason_text
from ingest.recheck import recheck_version

#: A quarter as people write it: 2026Q4, 2026 Q4, 2026-Q4, 2026年第四季度, 2026年4季度.
_QUARTER = re.compile(r"^(\d{4})\s*年?\s*[-_ ]?\s*(?:Q|第)?\s*([1-4一二三四])\s*(?:季度?)?$")
_NUMERALS = {"一": "1", "二": "2", "三": "3", "四": "4"}


class SampleError(DomainError, ValueError):
    """The quarter or size asked for makes no sense."""


@dataclass
class SampledRecord:
    record_id: uuid.UUID
    name: str
    title: str
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # version → failures
    unchecked: dict[str, dict[str, Any]] = field(default_factory=dict)  # version → not run
    reads: int = 0
    refusals: list[str] = field(default_factory=list)
    unapproved_emergency: list[str] = field(default_factory=list)
    reference_code: str = ""  # 档号: what the report names the record by

    @property
    def findings(self) -> list[str]:
        found = [  # the check and its reason in words, as every page says them
            f"{version}：{term(check)}：{reason_text(str(result.get('detail') or ''))}"
            for version, failures in self.checks.items()
            for check, result in failures.items()
        ]
        found += [f"绿色通道未获批准：{e}" for e in self.unapproved_emergency]
        return found

    @property
    def verdict(self) -> str:
        """通过 only when every check ran and passed: a check that could not run (no virus
        database, no 档号 yet) is not a pass."""
        if any(self.checks.values()):
            return "未通过 FAILED"
        if any(self.unchecked.values()):
            names = sorted({term(c) for skipped in self.unchecked.values() for c in skipped})
            return "部分未检测 NOT ALL CHECKED：" + "；".join(names)
        return "通过 passed"


@dataclass
class AuditSample:
    quarter: str
    seed: int
    population: int
    records: list[SampledRecord]
    drawn_at: datetime

    @property
    def findings(self) -> int:
        return sum(len(r.findings) for r in self.records)


def quarter_bounds(quarter: str) -> tuple[datetime, datetime]:
    """2026Q3 → [1 July, 1 October) in Beijing time."""
    match = _QUARTER.match(quarter.strip().upper())
    if not match:
        raise SampleError(
            f"a quarter looks like 2026Q3, got {quarter!r}", code="quarter", field="quarter"
        )
    year, number = int(match[1]), int(_NUMERALS.get(match[2], match[2]))
    start = date(year, 3 * number - 2, 1)
    end = date(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1)
    return (
        datetime.combine(start, time(), LOCAL_TIME),
        datetime.combine(end, time(), LOCAL_TIME),
    )


def quarter_name(quarter: str) -> str:
    """The quarter as reports are named: 2026年第四季度 → 2026Q4."""
    start, _end = quarter_bounds(quarter)
    return f"{start.year}Q{(start.month - 1) // 3 + 1}"


def current_quarter(today: date) -> str:
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"


def previous_quarter(today: date) -> str:
    number = (today.month - 1) // 3  # 0 → last year's Q4
    return f"{today.year - 1}Q4" if number == 0 else f"{today.year}Q{number}"


def draw(
    arc: Archive, actor: Actor, quarter: str, size: int, seed: int | None = None
) -> AuditSample:
    """Draw ``size`` records kept during the quarter and audit each (audited itself)."""
    if size < 1:
        raise SampleError("the sample size must be at least 1")
    start, end = quarter_bounds(quarter)
    seed = secrets.randbits(32) if seed is None else seed
    with arc.sessions() as session:
        population = sorted(
            session.scalars(
                select(Record.id).where(
                    Record.filed_on < end.date(),
                    Record.state.in_((RecordState.ACTIVE, RecordState.ON_HOLD)),
                )
            ),
            key=str,
        )
        # A seeded draw on purpose: anyone with the seed can redo it (not a secret).
        chosen = random.Random(seed).sample(population, min(size, len(population)))  # noqa: S311
        records = [_audit_one(arc, session, record_id, start, end) for record_id in chosen]
    sample = AuditSample(quarter_name(quarter), seed, len(population), records, utcnow())
    with arc.transaction() as session:
        record_event(
            session,
            actor,
            "audit.sample",
            "quarter",
            sample.quarter,
            {
                "seed": seed,
                "population": len(population),
                "records": [str(r.record_id) for r in records],
                "findings": sample.findings,
            },
        )
    return sample


def _audit_one(
    arc: Archive, session: Any, record_id: uuid.UUID, start: datetime, end: datetime
) -> SampledRecord:
    record = session.get_one(Record, record_id)
    item = SampledRecord(
        record.id, record.name_stem, record.title, reference_code=record.reference_code or ""
    )
    for version in session.scalars(select(Version).where(Version.record_id == record.id)):
        report = recheck_version(arc, session, version)
        results = report.as_dict().items()
        item.checks[version.name] = {k: v for k, v in results if v["ok"] is False}
        item.unchecked[version.name] = {k: v for k, v in results if v["ok"] is None}
    events = session.scalars(
        select(AccessEvent)
        .where(
            AccessEvent.record_id == str(record.id),
            AccessEvent.at >= start,
            AccessEvent.at < end,
        )
        .order_by(AccessEvent.seq)
    )
    for event in events:
        if event.outcome == ALLOWED:
            item.reads += 1
        elif event.outcome == REFUSED:
            when = event.at.astimezone(LOCAL_TIME)
            item.refusals.append(
                f"{event.username} {term(event.action)} {when:%Y-%m-%d %H:%M} {event.ip}："
                f"{reason_text(event.reason)}"
            )
    emergencies = session.scalars(
        select(AccessRequest).where(
            AccessRequest.record_id == record.id,
            AccessRequest.emergency.is_(True),
            AccessRequest.created_at >= start,
            AccessRequest.created_at < end,
        )
    )
    for request in emergencies:
        overdue = request.status == RequestStatus.PENDING and request.due_at < utcnow()
        if request.status == RequestStatus.DENIED or overdue:
            when = request.created_at.astimezone(LOCAL_TIME)
            item.unapproved_emergency.append(
                f"{request.requester.username} {when:%Y-%m-%d %H:%M}（{term(request.status)}）"
            )
    return item


HEADER = (
    "档号 Reference code",
    "名称 Name",
    "题名 Title",
    "四性 Checks",
    "读取 Reads",
    "拒绝 Refused",
    "发现 Findings",
)


def _rows(sample: AuditSample) -> list[list[str]]:
    return [
        [
            r.reference_code,
            r.name,
            r.title,
            r.verdict,
            str(r.reads),
            "\n".join(r.refusals),
            "\n".join(r.findings),
        ]
        for r in sample.records
    ]


def _summary(sample: AuditSample) -> list[tuple[str, str]]:
    return [
        ("季度 Quarter", sample.quarter),
        ("总体 Population", f"本季度在管档案 {sample.population} 件"),
        ("样本 Sample", f"抽取 {len(sample.records)} 件，随机种子 {sample.seed}"),
        ("发现 Findings", str(sample.findings)),
        (
            "未检测 Not checked",
            f"{sum(1 for r in sample.records if any(r.unchecked.values()))} 件有未能运行的检测项"
            "（见四性列）",
        ),
        ("抽取时间 Drawn", f"{sample.drawn_at.astimezone(LOCAL_TIME):%Y-%m-%d %H:%M} 北京时间"),
    ]


def sample_csv(sample: AuditSample) -> str:
    """The report as CSV: a BOM first, every text cell made inert for spreadsheets."""
    return csv_text(
        [
            *([label, value] for label, value in _summary(sample)),
            [],
            list(HEADER),
            *_rows(sample),
        ]
    )


def write_sample(sample: AuditSample, folder: Path) -> tuple[Path, Path]:
    """Write ``audit-sample-<quarter>.csv`` and ``.pdf`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"audit-sample-{sample.quarter}"
    csv_path, pdf_path = stem.with_suffix(".csv"), stem.with_suffix(".pdf")
    for earlier in (csv_path, pdf_path):  # a second draw of the quarter keeps the first
        if earlier.exists():
            drawn = datetime.fromtimestamp(earlier.stat().st_mtime, LOCAL_TIME)
            earlier.rename(earlier.with_name(f"{stem.name}-{drawn:%Y%m%d-%H%M%S}{earlier.suffix}"))
    csv_path.write_text(sample_csv(sample), "utf-8")
    pdf_path.write_bytes(
        report_pdf(
            f"季度档案抽检报告 Quarterly audit sample {sample.quarter}",
            _summary(sample),
            [list(HEADER), *_rows(sample)],
        )
    )
    return csv_path, pdf_path
