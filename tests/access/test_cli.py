"""The ``archive`` command, run as a user runs it: a real process per command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.config import load_settings
from archive.core import Archive
from archive.db import utcnow
from archive.models import ApiToken, User, Version
from archive.people import find_user, user_for_token
from tests.archive.test_audit import tamper
from tests.ingest import samples

ARCHIVE = str(Path(sys.executable).with_name("archive"))


def processes_with_env(entry: str) -> list[int]:
    """Live processes whose environment holds ``entry`` (children of a stopped command)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if entry.encode() in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def cli(
    env: dict[str, str], *args: str, stdin: str | bytes | None = None, expect: int | None = 0
) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [ARCHIVE, *args],
        env={**os.environ, **env},
        input=data,
        capture_output=True,
        timeout=120,
        check=False,
    )
    result = subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode()
    )
    if expect is not None:
        assert result.returncode == expect, (result.stdout, result.stderr)
    return result


def put(env: dict[str, str], *args: str, stdin: bytes | None = None) -> dict[str, str]:
    result: dict[str, str] = json.loads(cli(env, "put", *args, stdin=stdin).stdout)
    return result


def test_store_version_verify_rotate(archive_env: dict[str, str], tmp_path: Path) -> None:
    env = archive_env
    assert "archive ready" in cli(env, "init").stdout
    assert "new keyring" not in cli(env, "init").stdout  # second run is harmless
    doc = tmp_path / "采购合同.txt"
    doc.write_text("采购合同 PURCHASE-MARKER 甲方 乙方\n" * 100, encoding="utf-8")

    first = put(env, str(doc), "--project", "XX项目", "--date", "2023-01", "--department", "CG")
    assert first["name"] == "XX项目-2023-01-1.0"
    assert set(first) >= {"record_id", "version_id", "name", "sha256"}
    doc.write_text("采购合同 PURCHASE-MARKER 甲方 乙方 修订\n" * 100, encoding="utf-8")
    second = put(env, str(doc), "--record", first["record_id"])
    again = put(env, str(doc), "--record", first["record_id"])
    assert (again["status"], again["duplicate_of"]) == ("duplicate", second["version_id"])
    major = put(
        env,
        "-",
        "--record",
        first["record_id"],
        "--major",
        "--filename",
        "v2.txt",
        stdin=b"second edition",
    )
    assert (second["name"], major["name"]) == ("XX项目-2023-01-1.1", "XX项目-2023-01-2.0")

    named = tmp_path / "华东项目-2024-03-1.0.pdf"
    named.write_bytes(samples.pdf(["already named by the convention"]))
    assert put(env, str(named))["name"] == "华东项目-2024-03-1.0"  # project and date parsed
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"%PDF-1.4 but nothing else")
    refused = cli(env, "put", str(fake), "--project", "P", expect=1)
    # the failed check by its code (what scripts match) and its name in the vocabulary
    assert "quarantined (usability.opens（可用性：能够打开和解析）: truncated PDF" in refused.stderr

    assert "4 versions checked, 0 failed" in cli(env, "fixity", "verify").stdout
    rotated = cli(env, "keys", "rotate").stdout
    assert "8 data keys re-wrapped" in rotated  # each version: the original and its text
    assert "0 failed" in cli(env, "fixity", "verify").stdout

    arc = Archive(load_settings(env))
    try:
        with arc.sessions() as session:
            version = session.scalars(
                select(Version).where(Version.name == "XX项目-2023-01-1.1")
            ).one()
            with arc.blobs.open(version.object_key) as blob:
                ciphertext = bytearray(blob.read())
        assert b"PURCHASE-MARKER" not in ciphertext
        ciphertext[100] ^= 1
        arc.blobs.put(version.object_key, [bytes(ciphertext)])
    finally:
        arc.close()
    failed = cli(env, "fixity", "verify", expect=1)
    assert "FAILED XX项目-2023-01-1.1" in failed.stderr
    assert "XX项目-2023-01-1.0" not in failed.stderr


def test_users_tokens_and_audit_verify(sqlite_arc: Archive) -> None:
    env = {"ARCHIVE_HOME": str(sqlite_arc.settings.home)}
    made = cli(
        env,
        "user",
        "create",
        "李四",
        "--role",
        "director",
        "--department",
        "财务",
        "--clearance",
        "restricted",
        "--password-stdin",
        stdin="a long enough secret\n",
    )
    assert "user 李四 created" in made.stdout
    assert "password" not in made.stdout
    for command in (["create", "王五", "--role", "specialist"], ["password", "李四"]):
        empty = cli(env, "user", *command, "--password-stdin", stdin="\n", expect=2)
        assert "standard input held no password" in empty.stderr  # not a locked-out account
    with sqlite_arc.sessions() as session:
        assert session.scalar(select(User).where(User.username == "王五")) is None
    generated = cli(env, "user", "create", "auditor", "--role", "auditor").stdout
    assert "password (shown once): " in generated
    token = cli(env, "user", "token", "李四").stdout.strip()
    assert token.startswith("arc_")
    with sqlite_arc.transaction() as session:
        user = user_for_token(session, token)
        assert user is not None
        assert user.username == "李四"
    short = cli(env, "user", "token", "李四", "--days", "2")
    assert "valid for 2 days, until " in short.stderr  # when, in Beijing time
    with sqlite_arc.sessions() as session:
        ends = session.scalar(
            select(ApiToken.expires_at).where(ApiToken.prefix == short.stdout.strip()[:12])
        )
        assert ends is not None
        assert timedelta(days=1, hours=23) < ends - utcnow() <= timedelta(days=2)
    assert "role changed" in cli(env, "user", "set", "李四", "--role", "supervisor").stdout
    # The console is the root of trust: privileged changes are direct there (audited as the
    # operator), which is how the first security administrator comes to exist.
    made = cli(env, "user", "create", "郑安全", "--role", "security_admin").stdout
    assert "user 郑安全 created, role security_admin（安全保密管理员）" in made
    reset = cli(env, "user", "password", "李四").stdout
    assert "one-time password (shown once): " in reset
    with sqlite_arc.sessions() as session:
        assert find_user(session, "李四").must_change_password
    assert "nothing waits for approval" in cli(env, "user", "changes").stdout
    listed = cli(env, "user", "list").stdout.splitlines()
    assert "李四\t—\tsupervisor（主管）\tCW\trestricted（机密）" in listed
    assert any(line.startswith("郑安全\t") for line in listed)
    assert not any("password" in line or "arc_" in line for line in listed)
    departments = cli(env, "department", "list").stdout.splitlines()
    assert len(departments) == 6  # the six `archive init` made
    assert "CW\t财务\t1 人 (users)" in departments

    intact = cli(env, "audit", "verify")
    assert "audit chain intact" in intact.stdout
    # Events after the last signed checkpoint could be cut from the end unseen: said.
    assert re.search(
        r"note: audit chain: \d+ events after the last signed checkpoint", intact.stderr
    )
    cli(env, "audit", "checkpoint")
    assert "after the last signed checkpoint" not in cli(env, "audit", "verify").stderr
    tamper(sqlite_arc, "UPDATE audit_events SET actor = 'mallory' WHERE action = 'token.issued'")
    broken = cli(env, "audit", "verify", expect=1)
    assert "was altered" in broken.stderr
    assert "token.issued" in broken.stderr


def test_errors_are_one_clear_line(sqlite_arc: Archive, tmp_path: Path) -> None:
    env = {"ARCHIVE_HOME": str(sqlite_arc.settings.home)}
    doc = tmp_path / "a.txt"
    doc.write_text("x")
    assert "give --project" in cli(env, "put", str(doc), expect=2).stderr
    bad_dept = cli(env, "put", str(doc), "--project", "P", "--department", "无", expect=1)
    assert "Error: department: no department '无'" in bad_dept.stderr
    assert "Traceback" not in bad_dept.stderr
    bad_name = cli(env, "put", str(doc), "--project", "../", expect=1)
    assert "no letters or digits" in bad_name.stderr
    bad_date = cli(env, "put", str(doc), "--project", "P", "--date", "2023/1", expect=1)
    assert "2023-01" in bad_date.stderr
    bad_env = cli({**env, "ARCHIVE_STORAGE_URL": "ftp://x"}, "fixity", "verify", expect=1)
    assert "Error: ARCHIVE_STORAGE_URL scheme 'ftp'" in bad_env.stderr
    assert "Error: no user" in cli(env, "user", "token", "nobody", expect=1).stderr


def test_the_quarantine_names_each_failed_check_and_state_in_the_vocabulary(
    sqlite_arc: Archive, tmp_path: Path
) -> None:
    """The console prints a check or a state by its code (what scripts and options take)
    with its Chinese name beside it, the same words the pages use."""
    env = {"ARCHIVE_HOME": str(sqlite_arc.settings.home)}
    fake = tmp_path / "报告.pdf"
    fake.write_bytes(b"%PDF-1.4 but nothing else")
    refused = cli(env, "put", str(fake), "--project", "P", expect=1).stderr
    job_id = refused.rsplit("job ", 1)[1].split()[0]
    listed = cli(env, "quarantine", "list").stdout
    assert f"{job_id}  报告.pdf  usability.opens（可用性：能够打开和解析）: truncated PDF" in listed
    assert listed.endswith("1 quarantined\n")
    fixed = tmp_path / "fixed.pdf"
    fixed.write_bytes(samples.pdf(["the corrected report"]))
    retried = cli(env, "quarantine", "retry", job_id, "--file", str(fixed)).stdout
    assert retried == "job is now stored（已入库）\n"
    assert cli(env, "quarantine", "list").stdout == "0 quarantined\n"


@pytest.mark.parametrize("command", ["run", "serve"])
def test_server_starts_answers_health_and_stops_on_ctrl_c(tmp_path: Path, command: str) -> None:
    """``archive run`` is the README's command: it must also ingest from its hot folder."""
    import signal
    import time
    import urllib.request

    from tests.conftest import free_port

    home = tmp_path / "home"
    env = {**os.environ, "ARCHIVE_HOME": str(home), "ARCHIVE_HOTFOLDER_SETTLE": "0.5"}
    if command == "serve":
        cli(env, "init")
    port = free_port()
    proc = subprocess.Popen(
        [ARCHIVE, command, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline, body = time.monotonic() + 30, None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = json.load(r)
            except OSError:
                time.sleep(0.2)
        assert body == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}
        if command == "run":
            drop = home / "inbox" / "XS" / "华东仓储改造项目"
            drop.mkdir(parents=True)
            (drop / "会议纪要.txt").write_text("第三次项目会议纪要", encoding="utf-8")
            receipts = home / "inbox" / "receipts" / "receipts.jsonl"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not receipts.is_file():
                time.sleep(0.5)
            time.sleep(0.5)
            assert receipts.is_file(), "the hot folder did not ingest the file"
            receipt = json.loads(receipts.read_text(encoding="utf-8"))
            assert receipt["name"] == "XS/华东仓储改造项目/会议纪要.txt"
            assert receipt["outcome"] == "stored"
            assert not (drop / "会议纪要.txt").exists()  # no plaintext left in the inbox
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output.decode()
    assert b"gunicorn" in output.lower() or b"Booting worker" in output
    if command == "run":
        assert b"Task ingest.process" in output
        assert b"succeeded" in output
        fixity = cli({"ARCHIVE_HOME": str(home)}, "fixity", "verify")
        assert "1 versions checked, 0 failed" in fixity.stdout
        assert processes_with_env(f"ARCHIVE_HOME={home}") == [], "children outlived archive run"
