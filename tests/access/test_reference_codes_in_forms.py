"""People type the 档号 they know where the forms used to ask for a record id: the green
channel, holds and lists take either, and a token that is neither is named in the refusal."""

from __future__ import annotations

from sqlalchemy import select

from archive.audit import Actor
from archive.models import AccessRequest, HoldItem, Record
from archive.refcode import number_pending
from retention.schedules import seed_default_plan
from retention.status import refresh_dirty
from tests.access.conftest import World
from tests.access.test_web_pages import Browser


def numbered(world: World, key: str) -> str:
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
    refresh_dirty(world.arc)
    number_pending(world.arc)
    with world.arc.sessions() as session:
        code = session.get_one(Record, world.records[key]).reference_code
    assert code
    return code


def test_the_green_channel_and_a_hold_take_a_reference_code(world: World) -> None:
    code = numbered(world, "CG-confidential")
    wang = Browser(world, "wang")
    wang.post("/emergency", {"record_id": code, "justification": "客户投诉紧急核查", "hours": 4})
    with world.arc.sessions() as session:
        opened = session.scalars(select(AccessRequest)).one()
    assert opened.record_id == world.records["CG-confidential"]

    sun = Browser(world, "sun")
    other = numbered(world, "XS-internal")
    sun.post(
        "/retention/holds",
        {"name": "审计保全", "reason": "2026 审计", "scope": "records",
         "record_ids": f"{code}、{other}"},
    )  # fmt: skip
    with world.arc.sessions() as session:
        held = set(session.scalars(select(HoldItem.record_id)))
    assert held == {world.records["CG-confidential"], world.records["XS-internal"]}

    refused = sun.post(
        "/retention/holds",
        {"name": "另一保全", "reason": "测试", "scope": "records", "record_ids": "WS·1999-X"},
        status=400,
    )
    assert "WS·1999-X" in refused
    assert "既不是本档案库的档号" in refused
