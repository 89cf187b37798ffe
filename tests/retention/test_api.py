"""The records manager's year through the API: load the file plan, see what is due, hold,
sign and execute a destruction list, and hand the auditor the certificate."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from archive.audit import Actor
from archive.models import AccessEvent, Sensitivity, User
from archive.people import issue_token, set_password
from tests.access.conftest import World, make_world
from tests.retention.conftest import file_record

OLD = date(2010, 5, 1)


PASSWORD = "正确的长密码 correct horse"
CONFIRMED = {"confirm_password": PASSWORD}


def with_passwords(world: World, *usernames: str) -> None:
    """Irreversible API calls ask for the password again: give these people one (and a new
    token: setting a password ends the old ones)."""
    with world.arc.transaction() as session:
        for username in usernames:
            user = session.scalars(select(User).where(User.username == username)).one()
            set_password(session, Actor.cli(), user, PASSWORD)
            world.tokens[username] = issue_token(session, Actor.cli(), user)


def test_the_records_managers_year(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    arc = world.arc
    try:
        # The file plan: anyone may read it, only records managers change it.
        assert world.call("POST", "wu", "/api/v1/retention/file-plan").status_code == 403
        loaded = world.call("POST", "sun", "/api/v1/retention/file-plan", json={})
        assert loaded.status_code == 200
        assert loaded.json["created"] == 14
        schedules = world.call("GET", "zhang", "/api/v1/retention/schedules").json["schedules"]
        voucher = next(s for s in schedules if s["key"] == "voucher")
        assert (voucher["code"], voucher["trigger"]) == ("D30", "fiscal_year_end")
        changed = world.call(
            "PUT", "sun", "/api/v1/retention/schedules/minutes",
            json={"name": "会议纪要", "record_type": "minutes", "code": "D30"},
        )  # fmt: skip
        assert changed.status_code == 200
        assert changed.json["schedule"]["version"] == 2
        bad = world.call("PUT", "sun", "/api/v1/retention/schedules/minutes", json={"years": -1})
        assert bad.status_code == 400
        history = world.call("GET", "zhou", "/api/v1/retention/schedules/minutes/history")
        assert [v["years"] for v in history.json["versions"]] == [10, 30]

        old = [
            file_record(arc, record_type="application", when=OLD, project=f"旧申请{n}")
            for n in range(3)
        ]
        contract = file_record(arc, record_type="contract", project="采购框架协议")

        # Events: the head of the department records a termination; a specialist may not.
        event = {"event_type": "contract_terminated", "occurred_on": "2025-08-31",
                 "project": "采购框架协议"}  # fmt: skip
        assert (
            world.call("POST", "zhang", "/api/v1/retention/events", json=event).status_code == 403
        )
        recorded = world.call("POST", "wang", "/api/v1/retention/events", json=event)
        assert recorded.status_code == 201
        standing = world.call("GET", "sun", f"/api/v1/retention/records/{contract}").json
        assert (standing["status"], standing["due_on"]) == ("running", "2035-08-31")

        # Hold one of the due records, then sweep.
        hold = world.call(
            "POST", "sun", "/api/v1/retention/holds",
            json={"name": "审计冻结", "reason": "2026 年度审计", "record_ids": [str(old[0])]},
        )  # fmt: skip
        assert hold.status_code == 201
        assert hold.json["records"] == 1
        shown = world.call("GET", "zhou", f"/api/v1/retention/holds/{hold.json['id']}").json
        assert shown["records"] == 1
        assert [r["id"] for r in shown["record_list"]] == [str(old[0])]
        assert world.call("GET", "zhou", "/api/v1/retention/holds/999").status_code == 404
        by_project = world.call(  # no scope given: the project it names says which
            "POST", "sun", "/api/v1/retention/holds",
            json={"name": "项目冻结", "reason": "2026 项目审计", "project": "采购框架协议"},
        )  # fmt: skip
        assert (by_project.status_code, by_project.json["scope"]) == (201, "project")
        released = world.call(
            "POST", "sun", f"/api/v1/retention/holds/{by_project.json['id']}/release",
            json={"reason": "审计结束"},
        )  # fmt: skip
        assert released.status_code == 200
        swept = world.call("POST", "sun", "/api/v1/retention/sweep").json
        assert (swept["proposed"], swept["held"]) == ({"destroy": 2}, 1)
        held = world.call("GET", "zhou", f"/api/v1/retention/records/{old[0]}").json
        assert held["status"] == "held"
        assert held["holds"][0]["name"] == "审计冻结"
        due = world.call("GET", "zhou", "/api/v1/retention/reports/due?months=6").json
        assert (due["total"], due["held"], due["by_month"]) == (3, 1, {"overdue": 3})
        codes = world.call("GET", "zhou", "/api/v1/retention/reports/codes").json
        assert codes["codes"]["D10"] >= 3
        assert world.call("GET", "wu", "/api/v1/retention/reports/codes").status_code == 403

        # Adding the held record is refused (409) and audited.
        lists = world.call("GET", "sun", "/api/v1/retention/lists").json["lists"]
        list_id = lists[0]["id"]
        path = f"/api/v1/retention/lists/{list_id}"
        refused = world.call("PATCH", "sun", path, json={"add": [str(old[0])]})
        assert refused.status_code == 409
        assert "on hold" in refused.json["error"]
        both = world.call(  # held and not due at once: each named, in the first one's status
            "PATCH", "sun", path, json={"add": [str(old[0]), str(contract)]}
        )
        assert both.status_code == 409
        assert [p["code"] for p in both.json["problems"]] == ["held", "not_due"]
        world.call("PATCH", "sun", path, json={"opinion": "经鉴定无保存价值，同意销毁"})
        assert world.call("POST", "sun", f"{path}/submit").status_code == 200

        # Signing: the records manager, the head of CG, a director; not the admin. Each
        # signature and the execution need the signer's password again, not just a token.
        with_passwords(world, "wu", "sun", "wang", "zhao")
        assert world.call("POST", "wu", f"{path}/sign", json=CONFIRMED).status_code == 403
        assert world.call("POST", "sun", f"{path}/execute", json=CONFIRMED).status_code == 409
        for without in ({}, {"confirm_password": "not my password"}):
            unconfirmed = world.call("POST", "sun", f"{path}/sign", json=without)
            assert unconfirmed.status_code == 403
            assert "confirm_password" in unconfirmed.json["error"]
        assert world.call("POST", "sun", f"{path}/sign", json=CONFIRMED).status_code == 200
        mine = world.call("GET", "wang", "/api/v1/retention/lists").json["lists"][0]
        assert mine["mine_to_sign"] == ["department_head"]
        signed = world.call("POST", "wang", f"{path}/sign", json={"opinion": "同意", **CONFIRMED})
        assert signed.status_code == 200
        assert world.call("POST", "zhao", f"{path}/sign", json=CONFIRMED).status_code == 200
        assert world.call("POST", "sun", f"{path}/execute").status_code == 403  # no password
        executed = world.call("POST", "sun", f"{path}/execute", json=CONFIRMED)
        assert executed.status_code == 200
        assert (executed.json["done"], executed.json["skipped"]) == (2, [])
        gone = world.call("GET", "zhou", f"/api/v1/retention/records/{old[1]}").json
        assert gone["status"] == "disposed"

        # The auditor's certificate.
        csv = world.call("GET", "zhou", f"{path}/certificate.csv")
        assert csv.status_code == 200
        assert "档案销毁证明" in csv.text
        assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset
        pdf = world.call("GET", "zhou", f"{path}/certificate.pdf")
        assert pdf.mimetype == "application/pdf"
        assert "档案销毁证明" in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
        assert world.call("GET", "zhang", f"{path}/certificate.pdf").status_code == 403

        # Releasing the hold frees the record for the next list.
        released = world.call(
            "POST", "sun", f"/api/v1/retention/holds/{hold.json['id']}/release",
            json={"reason": "审计结束"},
        )  # fmt: skip
        assert released.status_code == 200
        assert world.call("POST", "sun", "/api/v1/retention/sweep").json["proposed"] == {
            "destroy": 1
        }
    finally:
        arc.close()


def test_reviews_cut_offs_and_deletes_are_for_records_managers(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    try:
        world.call("POST", "sun", "/api/v1/retention/file-plan", json={})
        minutes = file_record(world.arc, record_type="minutes", when=OLD)
        base = f"/api/v1/retention/records/{minutes}"
        body = {"opinion": "仍有参考价值", "outcome": "extend", "until": "2031-12-31"}
        assert world.call("POST", "qian", f"{base}/review", json=body).status_code == 403
        reviewed = world.call("POST", "sun", f"{base}/review", json=body)
        assert reviewed.status_code == 201
        assert reviewed.json["due_on"] == "2031-12-31"
        page = world.call("GET", "sun", base).json
        assert page["reviews"][0]["opinion"] == "仍有参考价值"
        assert page["extended_to"] == "2031-12-31"
        assert world.call("POST", "sun", f"{base}/cut-off", json={}).status_code == 200
        assert world.call("POST", "sun", f"{base}/delete", json={"reason": ""}).status_code == 400
        asked = world.call("POST", "sun", f"{base}/delete", json={"reason": "重复归档的副本"})
        assert asked.status_code == 202  # nothing destroyed yet: a second person confirms
        confirm = f"/api/v1/retention/deletions/{asked.json['deletion']}/confirm"
        with_passwords(world, "sun", "qian")
        assert world.call("POST", "sun", confirm, json=CONFIRMED).status_code == 403
        waiting = world.call("GET", "qian", "/api/v1/retention/deletions").json["deletions"]
        assert [d["record_id"] for d in waiting] == [str(minutes)]
        assert world.call("POST", "qian", confirm).status_code == 403  # no password again
        deleted = world.call("POST", "qian", confirm, json=CONFIRMED)
        assert deleted.status_code == 200
        assert deleted.json["keys_destroyed"] == 2
        # Unknown ids and records an ordinary user may not know answer 404.
        restricted = file_record(
            world.arc, record_type="contract", department="XS", sensitivity=Sensitivity.RESTRICTED
        )
        for path in (f"/api/v1/retention/records/{restricted}",
                     "/api/v1/retention/records/00000000-0000-0000-0000-000000000000"):  # fmt: skip
            assert world.call("GET", "li", path).status_code == 404
        # Every look at a record's retention is in the access log, refused ones too.
        looked = world.call("GET", "sun", f"/api/v1/retention/records/{restricted}")
        assert looked.status_code == 200
        with world.arc.sessions() as session:
            looks = session.scalars(
                select(AccessEvent).order_by(AccessEvent.seq.desc()).limit(3)
            ).all()
        assert [(e.username, e.action, e.outcome, e.record_id) for e in looks] == [
            ("sun", "metadata", "allowed", str(restricted)),
            ("li", "metadata", "refused", "00000000-0000-0000-0000-000000000000"),
            ("li", "metadata", "refused", str(restricted)),
        ]
    finally:
        world.arc.close()
