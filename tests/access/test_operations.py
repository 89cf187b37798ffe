"""Operations through the real ``archive`` command: backup, verify, restore onto a clean data
directory; the fixity sweep's alert; freezing a user after a leak and exporting their reads."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import func, select, update

from access.audit_sample import previous_quarter
from archive.db import local_today, utcnow
from archive.models import (
    AccessEvent,
    AccessRequest,
    AuditEvent,
    FixityCheck,
    Grant,
    RequestStatus,
    User,
    Version,
)
from tests.access.conftest import World
from tests.access.test_cli import cli
from tests.access.test_workflow import ask, read
from tests.archive.test_content import raw_blob, replace_blob
from tests.conftest import make_environ


def _env(tmp_path: Path) -> dict[str, str]:
    return make_environ(tmp_path / "home", "sqlite", "local")  # the world's own data directory


def test_backup_verify_and_restore_with_the_command(world: World, tmp_path: Path) -> None:
    env = _env(tmp_path)
    bag = tmp_path / "backups" / "2026-11-23"
    made = cli(env, "backup", str(bag)).stdout
    assert "16 blobs" in made  # eight originals and their text renditions
    assert "keys not included" in made
    assert not list(bag.rglob("keyring*"))
    checked = cli(env, "backup", "verify", str(bag)).stdout
    assert "audit chain intact" in checked
    assert "the bag is complete and intact" in checked
    keyless = {**make_environ(tmp_path / "empty", "sqlite", "local"),
               "ARCHIVE_KEYRING": str(tmp_path / "nowhere.json")}  # fmt: skip
    unsealed = cli(keyless, "backup", "verify", str(bag)).stdout  # its manifests agree...
    assert "complete and intact" not in unsealed  # ...but no one checked its seal
    assert "its seal is NOT checked (no keyring)" in unsealed

    keyring_copy = tmp_path / "vault" / "keyring.json"  # kept apart from the bag
    keyring_copy.parent.mkdir()
    keyring_copy.write_bytes(Path(env["ARCHIVE_HOME"], "keyring.json").read_bytes())
    elsewhere = {
        **make_environ(tmp_path / "new-machine", "sqlite", "local"),
        "ARCHIVE_KEYRING": str(keyring_copy),
    }
    restored = cli(elsewhere, "restore", str(bag)).stdout
    assert "8 records indexed" in restored
    assert "0 failed" in cli(elsewhere, "fixity", "verify").stdout
    assert "audit chain intact" in cli(elsewhere, "audit", "verify").stdout
    again = cli(elsewhere, "restore", str(bag), expect=1)
    assert "restore needs an empty blob store" in again.stderr  # nor a used database

    (bag / "data" / "archive.json").write_text("{}", "utf-8")
    broken = cli(env, "backup", "verify", str(bag), expect=1)
    assert "archive.json" in broken.stdout + broken.stderr


def test_a_failed_fixity_check_is_an_alert(world: World, tmp_path: Path) -> None:
    env = _env(tmp_path)
    damaged = world.versions["CG-internal"]
    replace_blob(world.arc, damaged, raw_blob(world.arc, damaged)[:-1])
    failed = cli(env, "fixity", "verify", "--sample", "20", expect=1)
    assert f"({damaged})" in failed.stderr
    alerts = world.call("GET", "zhou", "/api/v1/access-alerts").json["alerts"]  # type: ignore[index]
    fixity = [a for a in alerts if a["kind"] == "fixity"]
    assert len(fixity) == 1
    assert "华东仓储改造项目CG-internal" in fixity[0]["detail"]


def test_freezing_a_user_stops_everything_and_the_export_lists_their_reads(
    world: World, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    request = ask(world, "zhang", "CG-internal")
    world.call("POST", "wang", f"/api/v1/access-requests/{request['id']}/approve")
    assert read(world, "zhang", "CG-internal") == 200
    assert read(world, "zhang", "CG-confidential") == 403
    pending = ask(world, "zhang", "CG-public")

    frozen = cli(env, "incident", "freeze", "zhang", "--reason", "泄密事件 2026-17").stdout
    assert "1 grants and 1 tokens revoked, 1 pending requests refused" in frozen
    assert world.call("GET", "zhang", "/api/v1/search?q=正文").status_code == 401
    with world.arc.sessions() as session:
        user = session.scalars(select(User).where(User.username == "zhang")).one()
        assert not user.active
        grant = session.scalars(select(Grant).where(Grant.user_id == user.id)).one()
        assert grant.revoke_reason == "frozen: 泄密事件 2026-17"
        refused = session.get_one(AccessRequest, uuid.UUID(pending["id"]))
        assert refused.status == RequestStatus.DENIED
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "user.frozen")).one()
        assert event.details["reason"] == "泄密事件 2026-17"
    assert "reason" in cli(env, "incident", "freeze", "li", "--reason", " ", expect=1).stderr

    out = tmp_path / "zhang-reads.csv"
    cli(env, "incident", "export", "zhang", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("view", "allowed"),
        ("view", "refused"),
    ]
    assert rows[0]["record_id"] == str(world.records["CG-internal"])
    assert {r["ip"] for r in rows} == {"127.0.0.1"}
    assert rows[0]["北京时间 / local time"]
    assert "no user" in cli(env, "incident", "export", "nobody", expect=1).stderr.lower()


def test_the_quarterly_sample_rechecks_and_reviews_the_access_log(
    world: World, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    assert read(world, "zhang", "CG-internal") == 403  # a refused attempt
    body = {"record_id": str(world.records["XS-internal"]), "justification": "仓库事故", "hours": 4}
    assert world.call("POST", "wang", "/api/v1/emergency-access", json=body).status_code == 201
    assert read(world, "wang", "XS-internal") == 200
    with world.arc.transaction() as session:  # the approval owed was never given
        session.execute(update(AccessRequest).values(due_at=utcnow() - timedelta(minutes=1)))
    damaged = world.versions["XS-public"]
    replace_blob(world.arc, damaged, raw_blob(world.arc, damaged)[:-1])
    quarter = previous_quarter(local_today() + timedelta(days=92))  # the current quarter

    out = tmp_path / "reports"
    result = cli(
        env, "audit", "sample", "--quarter", quarter, "--size", "8", "--out", str(out), expect=1
    )
    assert "8 of 8 records drawn" in result.stdout
    assert "2 findings" in result.stdout  # the damaged version, the green channel
    table = (out / f"audit-sample-{quarter}.csv").read_text("utf-8-sig")
    assert "zhang 查看" in table  # the action in words
    assert "127.0.0.1" in table
    assert "无此档案的查阅授权" in table  # the refusal's reason in Chinese, not the code's words
    assert "no grant" not in table.lower()
    assert "绿色通道未获批准：wang" in table
    assert "华东仓储改造项目XS-public" in table
    assert "FAILED" in table
    assert "真实性：摘要一致：无法读回" in table  # the finding in words, not a check's code
    assert "authenticity.digest" not in table
    # A check that could not run is not a pass: unnumbered records have no 档号 to check.
    assert "部分未检测 NOT ALL CHECKED：" in table
    assert "真实性：档号有效" in table
    text = "".join(p.extract_text() for p in PdfReader(out / f"audit-sample-{quarter}.pdf").pages)
    assert "季度档案抽检报告" in text
    assert "华东仓储改造项目XS-public" in text

    seed = re.search(r"seed (\d+)", result.stdout)
    assert seed
    drawn = [
        cli(
            env,
            "audit",
            "sample",
            "--quarter",
            quarter,
            "--size",
            "3",
            "--seed",
            seed[1],
            "--out",
            str(tmp_path / f"again{n}"),
            expect=None,
        ).stdout
        for n in range(2)
    ]
    first, second = (
        (tmp_path / f"again{n}" / f"audit-sample-{quarter}.csv").read_text("utf-8-sig")
        for n in range(2)
    )
    assert first.split("\n", 5)[-1] == second.split("\n", 5)[-1]  # same records, same order
    assert all("3 of 8" in d for d in drawn)
    assert (
        "looks like 2026Q3" in cli(env, "audit", "sample", "--quarter", "2026Q5", expect=2).stderr
    )


def test_fixity_and_the_audit_sample_run_on_the_schedule(world: World) -> None:
    celery = world.app.extensions["celery"]
    schedule = celery.conf.beat_schedule
    assert schedule["fixity-sweep"]["task"] == "archive.fixity_sweep"
    assert schedule["audit-sample"]["task"] == "access.audit_sample"
    for task in ("archive.fixity_sweep", "access.audit_sample"):
        assert celery.conf.task_routes[task] == {"queue": "maintenance"}
    with world.app.app_context():
        assert celery.tasks["archive.fixity_sweep"]() == 0  # no failures
        assert celery.tasks["access.audit_sample"]() == 0
    with world.arc.sessions() as session:
        assert session.scalar(select(func.count()).select_from(FixityCheck)) == 8
    last = previous_quarter(local_today())
    assert (world.arc.settings.home / "reports" / f"audit-sample-{last}.pdf").is_file()


def test_a_read_whose_blob_is_gone_is_refused_and_logged(world: World) -> None:
    version_id = world.versions["CG-internal"]
    with world.arc.sessions() as session:
        version = session.get_one(Version, version_id)
    world.arc.blobs.delete(version.object_key)  # a text record reads as written: its original
    response = world.call("GET", "wang", f"/api/v1/versions/{version_id}/content?action=view")
    assert response.status_code == 500
    assert "missing" in response.json["error"]  # type: ignore[index]
    with world.arc.sessions() as session:
        line = session.scalars(select(AccessEvent).order_by(AccessEvent.seq.desc())).first()
    assert line is not None
    assert (line.username, line.outcome, line.reason) == ("wang", "refused", "content missing")
    assert line.version_id == str(version.id)
