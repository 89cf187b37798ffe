"""The access log for auditors, as the API, the page and Excel read it: its filters, its
columns, and the export with each read's record (档号), purpose (利用目的) and, for external
use, whom the record was given to (提供对象)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Response
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from access.http import current_archive, exported, table_download
from access.record_refs import resolve
from archive.accesslog import ALLOWED, REFUSED
from archive.core import Archive
from archive.errors import InvalidInput
from archive.models import AccessEvent, AccessRequest, Grant, Record, User
from archive.vocabulary import english, term
from archive.vocabulary_reasons import reason_text

Found = TypeVar("Found")


def access_log_filters(args: Mapping[str, str]) -> tuple[str, list[Any]]:
    """``?user=&record=&outcome=&from=&to=&format=`` as SQL conditions, and the format."""
    conditions: list[Any] = []
    who = (args.get("user") or "").strip()
    if who:  # a user name, or (part of) the name the log's pages show beside it
        shown = select(User.username).where(User.display_name.contains(who, autoescape=True))
        conditions.append(or_(AccessEvent.username == who, AccessEvent.username.in_(shown)))
    if (args.get("record") or "").strip():
        conditions.append(AccessEvent.record_id == str(_record_of(args["record"])))
    if args.get("outcome") in (ALLOWED, REFUSED):
        conditions.append(AccessEvent.outcome == args["outcome"])
    for name, op in (("from", "__ge__"), ("to", "__le__")):
        if args.get(name):
            try:
                moment = datetime.fromisoformat(args[name])
            except ValueError:
                raise InvalidInput(
                    f"{name} must be a date or time like 2026-01-31", code="date", field=name
                ) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            conditions.append(getattr(AccessEvent.at, op)(moment))
    return args.get("format", "json"), conditions


def _record_of(typed: str) -> uuid.UUID:
    """The record a filter names by 档号 or id (:mod:`access.record_refs`); any record, for
    auditors read the log of every one."""
    with current_archive().sessions() as session:
        found = resolve(session, [typed.strip()])
    return found[0]


#: The access log's columns, in the API's JSON, the CSV export and the auditors' page.
CSV_COLUMNS = (
    "seq",
    "at",
    "username",
    "action",
    "outcome",
    "reason",
    "record_id",
    "version_id",
    "grant_id",
    "ip",
    "user_agent",
    "details",
    "hash",
)
#: The access log's CSV headings, Chinese and English, in the order of :data:`CSV_COLUMNS`.
ACCESS_LOG_HEADINGS = (
    ("序号", "No."),
    ("时间（北京时间）", "Time (Beijing)"),
    ("用户", "User"),
    ("操作", "Action"),
    ("结果", "Outcome"),
    ("原因", "Reason"),
    ("档案 ID", "Record id"),
    ("档号或名称", "Reference code or name"),
    ("版本 ID", "Version id"),
    ("授权 ID", "Grant id"),
    ("利用目的", "Purpose"),
    ("提供对象", "Given to"),
    ("IP 地址", "IP address"),
    ("客户端", "User agent"),
    ("详情", "Details"),
    ("哈希", "Hash"),
)


def access_log_csv(arc: Archive, query: Select[Any], lang: str | None = None) -> Response:
    """The log as CSV for Excel, streamed row by row (an export of years does not sit in
    memory): headings in Chinese (English when asked), Beijing time, actions and outcomes
    as words."""

    def rows() -> Iterator[list[object]]:
        yield [pair[1] if english(lang) else pair[0] for pair in ACCESS_LOG_HEADINGS]
        names: dict[str, str] = {}  # record id → 档号 (or name), looked up once each
        uses: dict[str, tuple[str, str]] = {}  # grant id → 利用目的, 提供对象
        with arc.sessions() as session:
            for event in session.scalars(query.execution_options(yield_per=500)):
                row = [exported(getattr(event, c), lang) for c in CSV_COLUMNS]
                row[3], row[4] = term(event.action, lang), term(event.outcome, lang)
                row[5] = reason_text(event.reason, lang)
                row.insert(7, record_name(session, names, event.record_id))
                row[10:10] = use_of(session, uses, event.grant_id)
                yield row

    return table_download(rows(), "访问日志" if not english(lang) else "access-log", "csv")


def _looked_up_once(
    cache: dict[str, Found], raw_id: str | None, find: Callable[[uuid.UUID], Found], none: Found
) -> Found:
    """``find(id)`` for a log row's id, asked once per id for a whole export; ``none`` for
    no id or one that is not a UUID."""
    if not raw_id:
        return none
    if raw_id not in cache:
        try:
            wanted = uuid.UUID(raw_id)
        except ValueError:
            return none
        cache[raw_id] = find(wanted)
    return cache[raw_id]


def use_of(
    session: Session, uses: dict[str, tuple[str, str]], grant_id: str | None
) -> tuple[str, str]:
    """What a read was for (利用目的) and, for external use, whom the record was given to
    (提供对象): its grant's request's, or the green channel's justification; empty for a
    read by standing (no grant)."""

    def find(wanted: uuid.UUID) -> tuple[str, str]:
        found = session.execute(
            select(Grant.justification, AccessRequest.purpose, AccessRequest.recipient)
            .outerjoin(AccessRequest, AccessRequest.id == Grant.request_id)
            .where(Grant.id == wanted)
        ).first()
        if found is None:
            return "", ""
        return found[1] or found[0] or "", found[2] or ""

    return _looked_up_once(uses, grant_id, find, ("", ""))


def record_name(session: Session, names: dict[str, str], record_id: str | None) -> str:
    """A record's 档号 (or its name before it has one) for a log row."""

    def find(wanted: uuid.UUID) -> str:
        found = session.execute(
            select(Record.reference_code, Record.name_stem).where(Record.id == wanted)
        ).first()
        return (found[0] or found[1]) if found else ""

    return _looked_up_once(names, record_id, find, "")
