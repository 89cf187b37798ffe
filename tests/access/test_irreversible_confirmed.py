"""Irreversible means confirmed: signing and executing a list say what will happen (which
list, how many records, that keys are destroyed for good) and need the password again; a
wrong password keeps what the signer wrote."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from access.login import MAX_FAILURES_PER_USER, attempt_login
from archive.audit import Actor
from archive.models import Record, User
from archive.refcode import number_pending
from retention import disposition
from retention.schedules import seed_default_plan
from retention.status import refresh_dirty
from tests.access.conftest import DUE_RECORD, World
from tests.access.test_web_pages import PASSWORD, Browser


def signing_list(world: World) -> tuple[int, str]:
    """A destruction list of one due record, submitted for signing: its id and number."""
    arc = world.arc
    with arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
        record = session.get_one(Record, world.records[DUE_RECORD])
        record.record_type, record.filed_on = "application", date(2010, 3, 1)
        record.retention_dirty = True
    refresh_dirty(arc)
    number_pending(arc)
    with arc.transaction() as session:
        lst = disposition.create_list(session, Actor.cli(), disposition.Disposal.DESTROY)
        disposition.add_records(session, Actor.cli(), lst, [world.records[DUE_RECORD]])
        disposition.set_opinion(session, Actor.cli(), lst, "经鉴定无保存价值，同意销毁")
        disposition.submit(session, Actor.cli(), lst)
        return lst.id, lst.number


def test_a_wrong_password_keeps_the_signers_opinion(world: World) -> None:
    list_id, number = signing_list(world)
    wang = Browser(world, "wang")
    page = wang.text(f"/retention/lists/{list_id}")
    assert "签字的效力" in page
    assert f"您同意销毁清册 {number} 所列的 1 件档案" in page
    refused = wang.post(
        f"/retention/lists/{list_id}/sign",
        {"opinion": "同意销毁，已核对清单", "confirm_password": "not mine"},
        status=403,
    )
    assert "无法完成" not in refused
    assert 'value="同意销毁，已核对清单"' in refused
    assert re.search(r'id="problem-confirm_password">密码不正确', refused)
    # the browser goes to the password field, wherever the form is on a long list page
    assert re.search(r'name="confirm_password"[^>]*aria-invalid="true"[^>]*autofocus', refused)
    assert "not mine" not in refused
    with world.arc.sessions() as session:
        assert not disposition.get_list(session, list_id).signatures  # nothing signed


def test_a_locked_signer_is_told_so_not_that_the_right_password_is_wrong(world: World) -> None:
    """Anyone mistyping at the sign-in page under a name locks it; its owner, signed in,
    then gave the right password to sign and was told it was not right."""
    list_id, _number = signing_list(world)
    wang = Browser(world, "wang")
    with world.arc.transaction() as session:
        for _ in range(MAX_FAILURES_PER_USER):
            attempt_login(session, "wang", "guessed", "203.0.113.9")
    refused = wang.post(
        f"/retention/lists/{list_id}/sign",
        {"opinion": "同意", "confirm_password": PASSWORD},
        status=403,
    )
    assert re.search(r'id="problem-confirm_password">[^<]*15 分钟', refused)
    assert "密码不正确" not in refused
    api = world.call(
        "POST",
        "wang",
        f"/api/v1/retention/lists/{list_id}/sign",
        json={"confirm_password": PASSWORD},
    )
    assert (api.status_code, api.json["code"]) == (403, "password_locked")  # type: ignore[index]
    with world.arc.sessions() as session:
        assert not disposition.get_list(session, list_id).signatures


def test_executing_a_destruction_is_confirmed_with_its_count_and_the_keys(world: World) -> None:
    list_id, number = signing_list(world)
    arc = world.arc
    for name, role in (("sun", None), ("wang", None), ("qian", disposition.SignerRole.DIRECTOR)):
        with arc.transaction() as session:
            lst = disposition.get_list(session, list_id)
            signer = session.scalars(select(User).where(User.username == name)).one()
            disposition.sign(
                session, Actor.cli(), arc.settings.retention, lst, signer, role, "同意"
            )
    sun = Browser(world, "sun")
    listed = sun.text(f"/retention/lists/{list_id}")
    assert f'href="/retention/lists/{list_id}/execute"' in listed
    assert "时间均为北京时间" in listed
    confirm = sun.text(f"/retention/lists/{list_id}/execute")
    assert f"清册 {number} 所列 1 件档案将被销毁" in confirm
    assert "加密密钥将被销毁" in confirm
    assert "永久灭失" in confirm
    assert 'name="confirm_password"' in confirm
    refused = sun.post(f"/retention/lists/{list_id}/execute", {"confirm_password": "x"}, status=403)
    assert "加密密钥将被销毁" in refused  # back on the confirmation, nothing done
    with arc.sessions() as session:
        assert disposition.get_list(session, list_id).status.value == "signing"
    assert Browser(world, "wang").get(f"/retention/lists/{list_id}/execute").status_code == 403  # type: ignore[attr-defined]
    sun.post(f"/retention/lists/{list_id}/execute", {"confirm_password": PASSWORD})
    with arc.sessions() as session:
        assert disposition.get_list(session, list_id).status.value == "executed"
