"""The web side of 门类 and filing by volume: the schedules page shows and edits a class's
门类 and filing unit; a list refuses a record without its 档号 on the form, in Chinese."""

from __future__ import annotations

import re
import uuid
from datetime import date

from sqlalchemy import select, update

from archive.audit import Actor
from archive.models import DispositionList, Record
from retention.schedules import current_schedule, seed_default_plan
from retention.status import refresh_dirty
from search.indexer import flush
from tests.access.conftest import World
from tests.access.test_web_pages import Browser
from tests.retention.conftest import file_record


def _plan(world: World) -> None:
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
    refresh_dirty(world.arc)
    flush(world.arc)


def test_the_schedules_page_shows_and_changes_category_and_filing(world: World) -> None:
    _plan(world)
    sun = Browser(world, "sun")
    page = sun.text("/retention/schedules")
    for words in ("门类", "整理方式", "按卷整理（案卷）", "按月组卷", "按件整理", "KJ", "WS"):
        assert words in page, words
    sun.post(
        "/retention/schedules",
        {
            "key": "minutes",
            "name": "会议纪要",
            "code": "D10",
            "trigger": "year_end",
            "disposal": "review",
            "record_type": "minutes",
            "category": "hy",
            "filing": "volume",
            "volume_by": "year",
        },
    )
    with world.arc.sessions() as session:
        row = current_schedule(session, "minutes")
        assert (row.category, row.filing.value, row.volume_by) == ("HY", "volume", "year")
    edit = sun.text("/retention/schedules?edit=minutes")
    assert re.search(r'name="category" value="HY"', edit)
    refused = sun.post(
        "/retention/schedules",
        {"key": "minutes", "name": "会议纪要", "code": "D10", "category": "H1"},
        status=400,
    )
    assert "门类代码为 1 至 4 位大写字母" in refused  # said in Chinese


def test_a_list_refuses_a_record_without_its_code_on_the_form(world: World) -> None:
    _plan(world)
    record_id: uuid.UUID = world.records["XS-internal"]
    with world.arc.transaction() as session:
        session.execute(
            update(Record)
            .where(Record.id == record_id)
            .values(needs_review=True, reference_code=None, reference_series=None,
                    reference_item=None)
        )  # fmt: skip
    sun = Browser(world, "sun")
    page = sun.post(
        "/retention/lists", {"action": "destroy", "record_ids": str(record_id)}, status=409
    )  # back on the form
    assert "尚未编档号，不能列入销毁清册。分类待审核：请先在“分类复核”中完成分类审核。" in page
    with world.arc.sessions() as session:
        assert session.scalars(select(DispositionList)).all() == []

    sun.post("/retention/lists", {"action": "transfer", "record_ids": ""})
    with world.arc.sessions() as session:
        list_id = session.scalars(select(DispositionList.id)).one()
    page = sun.post(f"/retention/lists/{list_id}/edit", {"add": str(record_id)}, status=409)
    assert "尚未编档号，不能列入移交清册。" in page
    assert 'role="alert"' in page

    # The API gives the same refusal, with its reason, as a conflict.
    answer = world.call(
        "POST", "sun", "/api/v1/retention/lists",
        json={"action": "destroy", "record_ids": [str(record_id)]},
    )  # fmt: skip
    assert answer.status_code == 409
    assert "has no 档号 yet" in answer.get_data(as_text=True)
    assert "classification review queue" in answer.get_data(as_text=True)


def test_the_api_reads_and_writes_the_category_and_filing(world: World) -> None:
    _plan(world)
    schedules = world.call("GET", "zhang", "/api/v1/retention/schedules").json["schedules"]
    voucher = next(s for s in schedules if s["key"] == "voucher")
    assert (voucher["category"], voucher["filing"], voucher["volume_by"]) == (
        "KJ",
        "volume",
        "month",
    )
    saved = world.call(
        "PUT", "sun", "/api/v1/retention/schedules/ledger",
        json={"name": "会计账簿", "record_type": "ledger", "code": "D30", "category": "KJ",
              "filing": "volume", "volume_by": "year", "trigger": "fiscal_year_end"},
    )  # fmt: skip
    assert saved.status_code == 200
    assert saved.json["schedule"]["filing"] == "volume"
    assert saved.json["schedule"]["volume_by"] == "year"
    bad = world.call(
        "PUT", "sun", "/api/v1/retention/schedules/ledger",
        json={"name": "会计账簿", "code": "D30", "category": "会计"},
    )  # fmt: skip
    assert bad.status_code == 400
    assert "1-4 capital letters" in bad.get_data(as_text=True)
    volumes = world.call("GET", "zhou", "/api/v1/retention/volumes?series=Z")
    assert volumes.status_code == 200
    assert volumes.json == {"volumes": []}


def test_the_record_page_shows_the_volume_a_voucher_is_bound_in(world: World) -> None:
    _plan(world)
    voucher = file_record(world.arc, record_type="voucher", when=date(2023, 3, 15), project="凭证")
    refresh_dirty(world.arc)
    flush(world.arc)
    page = Browser(world, "sun").text(f"/records/{voucher}")
    assert "KJ·2023-D30-CG-0001-0001" in page
    assert "案卷" in page
    assert "会计凭证 2023-03" in page
    assert "卷内 1 件" in page
    (volume,) = world.call("GET", "sun", "/api/v1/retention/volumes").json["volumes"]
    assert volume == {
        "code": "KJ·2023-D30-CG-0001",
        "series": "KJ·2023-D30-CG",
        "number": 1,
        "schedule": "voucher",
        "period": "2023-03",
        "title": "会计凭证 2023-03",
        "start_on": "2023-03-15",
        "end_on": "2023-03-15",
        "items": 1,
    }
