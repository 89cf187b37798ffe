"""Alerts are e-mailed over real SMTP (to a small SMTP sink the test runs on loopback)."""

from __future__ import annotations

import base64
import email
import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import ClassVar

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from access.alerts import mail_alerts, sign_checkpoint
from archive.db import utcnow
from tests.access.conftest import make_world
from tests.conftest import free_port


class SmtpSink(socketserver.StreamRequestHandler):
    """Enough of RFC 5321 for smtplib: greet, accept one message, keep what arrived."""

    received: ClassVar[list[bytes]] = []

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 sink ESMTP")
        while line := self.rfile.readline():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                self.reply("250 sink")
            elif verb == b"DATA":
                self.reply("354 go on")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk
                SmtpSink.received.append(body)
                self.reply("250 kept")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_port() -> Iterator[int]:
    SmtpSink.received = []
    port = free_port()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), SmtpSink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    server.server_close()


def test_alerts_are_mailed_to_the_configured_people(tmp_path: Path, smtp_port: int) -> None:
    world = make_world(
        tmp_path,
        ARCHIVE_SMTP_HOST="127.0.0.1",
        ARCHIVE_SMTP_PORT=str(smtp_port),
        ARCHIVE_ALERT_EMAIL="audit@example.cn, director@example.cn",
        ARCHIVE_ALERT_REFUSALS="2",
        ARCHIVE_WORK_HOURS="0-24",
    )
    since = utcnow() - timedelta(hours=1)
    with world.arc.sessions() as session:
        assert mail_alerts(session, world.arc.settings.access, since) == 0  # nothing to say
    assert SmtpSink.received == []
    for key in ("CG-internal", "XS-confidential"):
        world.call("GET", "zhang", f"/api/v1/versions/{world.versions[key]}/content")
    with world.arc.sessions() as session:
        assert mail_alerts(session, world.arc.settings.access, since) == 1
    (raw,) = SmtpSink.received
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["To"] == "audit@example.cn, director@example.cn"
    assert "访问告警" in str(message["Subject"])
    assert "refusals  zhang: 2 refusals within an hour" in message.get_content()
    world.arc.close()


def test_checkpoints_are_mailed_out_of_reach_of_the_machine(tmp_path: Path, smtp_port: int) -> None:
    """The signed heads leave the machine: a copy a database writer with the disk cannot edit."""
    world = make_world(
        tmp_path,
        ARCHIVE_SMTP_HOST="127.0.0.1",
        ARCHIVE_SMTP_PORT=str(smtp_port),
        ARCHIVE_ALERT_EMAIL="audit@example.cn",
    )
    world.call("GET", "zhang", f"/api/v1/versions/{world.versions['CG-internal']}/content")
    line = sign_checkpoint(world.arc)
    assert line is not None
    assert sign_checkpoint(world.arc) is None  # nothing moved: nothing written or sent
    (raw,) = SmtpSink.received
    message = email.message_from_bytes(raw, policy=policy.default)
    assert "检查点" in str(message["Subject"])
    body = message.get_content()
    assert line in body
    signed = json.loads(line)
    assert signed["chains"]["access_events"]["seq"] >= 1
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(body.rsplit(": ", 1)[1].strip()))
    signature = base64.b64decode(signed.pop("sig"))
    canonical = json.dumps(signed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    key.verify(signature, canonical.encode())  # raises if the mailed line is not signed
    world.arc.close()
