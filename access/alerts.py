"""Unusual access, read from the access log: a user reading more than N records within an
hour, reads outside working hours, and repeated refusals; and failed fixity checks. Listed
for auditors; computed on demand over a recent window, so there is no second copy of the
log to keep in step. With ARCHIVE_SMTP_HOST set, beat e-mails each hour's alerts to
ARCHIVE_ALERT_EMAIL.
"""

from __future__ import annotations

import smtplib
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from access.browse import SNIPPET
from access.log_export import record_name
from access.requests import violations
from archive.accesslog import ALLOWED, REFUSED
from archive.checkpoints import public_key_text, write_checkpoint
from archive.config import AccessSettings
from archive.core import Archive
from archive.db import LOCAL_TIME, utcnow
from archive.models import AccessEvent, FixityCheck, Scope, Version

#: What counts as reading a record: every content action, and a search snippet shown.
READS = (*(scope.value for scope in Scope), SNIPPET)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Alert:
    kind: str  # many_reads, after_hours, refusals, fixity
    username: str
    at: datetime
    count: int
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "user": self.username,
            "at": self.at.isoformat(),
            "count": self.count,
            "detail": self.detail,
        }


def alerts(
    session: Session, settings: AccessSettings, since: datetime | None = None
) -> list[Alert]:
    """Alerts over the log since ``since`` (default: the last seven days)."""
    since = since or utcnow() - timedelta(days=7)
    events = session.scalars(
        select(AccessEvent)
        .where(AccessEvent.at >= since, AccessEvent.action.in_(READS))
        .order_by(AccessEvent.seq)
    )
    found: list[Alert] = []
    reads: dict[str, deque[tuple[datetime, str]]] = defaultdict(deque)
    refusals: dict[str, deque[datetime]] = defaultdict(deque)
    flagged: set[tuple[str, str]] = set()  # one alert per user and kind per hour window
    start, end = settings.work_hours
    names: dict[str, str] = {}

    def named(record_id: str | None) -> str:
        """A record as people know it (its 档号, or its name before it has one), looked up
        once each as the log's export does; an id that names no record, as it is."""
        return (record_name(session, names, record_id) or record_id or "—").replace(" ", "")

    for event in events:
        who = event.username
        if event.outcome == REFUSED:
            window = refusals[who]
            window.append(event.at)
            while window[0] < event.at - HOUR:
                window.popleft()
            key = (who, f"refusals:{window[0]:%Y%m%d%H}")
            if len(window) >= settings.alert_refusals and key not in flagged:
                flagged.add(key)
                found.append(
                    Alert(
                        "refusals",
                        who,
                        window[0],
                        len(window),
                        f"{len(window)} refusals within an hour",
                    )
                )
            continue
        if event.outcome != ALLOWED:
            continue
        local = event.at.astimezone(LOCAL_TIME)
        if not start <= local.hour < end:
            found.append(
                Alert(
                    "after_hours",
                    who,
                    event.at,
                    1,
                    f"{event.action} of record {named(event.record_id)} at {local:%H:%M} 北京时间",
                )
            )
        recent = reads[who]
        recent.append((event.at, event.record_id or ""))
        while recent[0][0] < event.at - HOUR:
            recent.popleft()
        distinct = len({record for _, record in recent})
        key = (who, f"reads:{recent[0][0]:%Y%m%d%H}")
        if distinct > settings.alert_reads_per_hour and key not in flagged:
            flagged.add(key)
            found.append(
                Alert(
                    "many_reads", who, recent[0][0], distinct, f"{distinct} records within an hour"
                )
            )
    return found + fixity_alerts(session, since)


def fixity_alerts(session: Session, since: datetime) -> list[Alert]:
    """Stored versions whose re-read failed: changed, missing or undecryptable content."""
    failed = session.execute(
        select(FixityCheck, Version.name)
        .join(Version, Version.id == FixityCheck.version_id)
        .where(FixityCheck.checked_at >= since, FixityCheck.ok.is_(False))
        .order_by(FixityCheck.id)
    )
    return [
        Alert("fixity", "system", check.checked_at, 1, f"{name}: {check.detail}")
        for check, name in failed
    ]


def mail_alerts(session: Session, settings: AccessSettings, since: datetime) -> int:
    """E-mail the alerts and green-channel violations that arose since ``since`` to
    ARCHIVE_ALERT_EMAIL, when ARCHIVE_SMTP_HOST is set; returns how many were sent."""
    if not settings.smtp_host:
        return 0
    found = alerts(session, settings, since)
    overdue = [v for v in violations(session) if v.due_at >= since]
    if not found and not overdue:
        return 0
    lines = [f"{a.at:%Y-%m-%d %H:%M} UTC  {a.kind}  {a.username}: {a.detail}" for a in found]
    lines += [
        f"{v.created_at:%Y-%m-%d %H:%M} UTC  green channel not approved: {v.requester.username}, "
        f"record {v.record_id}, {v.status.value}"
        for v in overdue
    ]
    send_mail(settings, f"档案系统访问告警 / archive access alerts: {len(lines)}", lines)
    return len(lines)


def send_mail(settings: AccessSettings, subject: str, lines: list[str]) -> None:
    """One plain-text message to ARCHIVE_ALERT_EMAIL (the caller checks SMTP is set)."""
    if not settings.smtp_host:
        return
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = ", ".join(settings.alert_recipients)
    message.set_content("\n".join(lines) + "\n")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        smtp.send_message(message)


def sign_checkpoint(arc: Archive) -> str | None:
    """Sign both chains' heads into the checkpoint file when they moved, and e-mail the line
    when SMTP is set: a copy beyond the reach of whoever holds this machine's disk."""
    with arc.sessions() as session:
        line = write_checkpoint(session, arc.keyring, arc.settings.checkpoint_path)
    if line is not None and arc.settings.access.smtp_host:
        send_mail(
            arc.settings.access,
            "档案系统审计链检查点 / archive audit chain checkpoint",
            [line, "", f"verifying key (Ed25519): {public_key_text(arc.keyring)}"],
        )
    return line
