"""Operations through the real ``archive`` command: backup, verify, restore onto a clean data
directory; the fixity sweep's alert; freezing a user after a leak and exporting their reads."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

from sqlalchemy import select

from archive.models import AccessRequest, AuditEvent, Grant, RequestStatus, User
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
    assert "empty archive" in again.stderr

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
