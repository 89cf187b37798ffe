"""Registers and 监销 in the browser and the API: the witness page asks the password and keeps
what was typed, the wrong people are refused, the last witness closes the list, and the
归档文件目录 downloads as XLSX with its columns."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

from openpyxl import load_workbook

from archive.audit import Actor
from archive.keys import retire_old_keys, rotate_keys
from archive.models import DispositionList, Record
from tests.access.conftest import World, make_world, submitted_due_list
from tests.access.test_web import BASE
from tests.access.test_web_pages import PASSWORD, Browser

DUE = "CG-public"  # becomes an application form filed in 2010: D10, destroy


def test_witnesses_sign_with_their_password_and_the_last_one_closes_the_list(
    executed: tuple[World, int],
) -> None:
    world, list_id = executed
    zhang = Browser(world, "zhang")  # CG's representative
    assert 'href="/retention/witness"' in zhang.text("/")
    page = zhang.text("/retention/witness")
    assert "采购部门代表" in page
    assert "档案 CG-public" in page

    refused = zhang.post(
        "/retention/witness",
        {"list_id": str(list_id), "statement": "本人在场监督", "confirm_password": "wrong"},
        status=403,
    )
    assert "本人在场监督" in refused  # kept on the form
    assert 'role="alert"' in refused
    zhang.post(
        "/retention/witness",
        {"list_id": str(list_id), "statement": "本人在场监督", "confirm_password": PASSWORD},
    )
    assert "没有等待您监销签署的销毁" in zhang.text("/retention/witness")
    waiting = Browser(world, "sun").text(f"/retention/lists/{list_id}")
    assert "尚待监销：" in waiting  # who is still wanted, named on the list
    assert '<span class="chip">档案管理员</span>' in waiting
    assert '<span class="chip">采购部门代表</span>' not in waiting  # zhang signed it

    li = Browser(world, "li")  # XS: no record of XS on the list
    assert "档案 CG-public" not in li.text("/retention/witness")
    li.post(  # no slot of this list could ever be li's: answered as if it did not exist
        "/retention/witness",
        {"list_id": str(list_id), "confirm_password": PASSWORD},
        status=404,
    )
    for name in ("zhou", "zheng"):  # auditors and security administrators witness nothing
        other = Browser(world, name)
        assert other.get("/retention/witness").status_code == 403  # type: ignore[attr-defined]
        other.post("/retention/witness", {"list_id": str(list_id)}, status=403)

    with world.arc.sessions() as session:
        assert session.get(DispositionList, list_id).closed_at is None  # type: ignore[union-attr]
    sun = Browser(world, "sun")
    sun.post(
        "/retention/witness",
        {"list_id": str(list_id), "confirm_password": PASSWORD},
    )
    with world.arc.sessions() as session:
        lst = session.get(DispositionList, list_id)
        assert lst is not None
        assert lst.closed_at is not None
        assert [w.username for w in lst.witnesses] == ["zhang", "sun"]
        kept = session.get(Record, uuid.UUID(lst.result["register_record_id"]))
        assert kept is not None
    page = sun.text(f"/retention/lists/{list_id}")
    assert "本人在场监督" in page
    assert "尚待监销" not in page  # closed
    register = sun.get(f"/retention/lists/{list_id}/register.xlsx")
    assert register.status_code == 200  # type: ignore[attr-defined]
    rows = list(load_workbook(io.BytesIO(register.data)).active.iter_rows(values_only=True))  # type: ignore[attr-defined]
    assert rows[0][0] == "档案销毁清册"
    assert any(row[0] == "监销签署" for row in rows)


def test_the_catalogue_page_downloads_xlsx_and_keeps_a_bad_year(
    executed: tuple[World, int],
) -> None:
    world, _ = executed
    sun = Browser(world, "sun")
    assert 'href="/retention/catalogue"' in sun.text("/")
    bad = sun.get("/retention/catalogue?year=20x6&department=CG&format=xlsx")
    assert bad.status_code == 400  # type: ignore[attr-defined]
    body = bad.get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'value="20x6"' in body
    assert re.search(r'<option value="CG"\s*selected>', body)  # the choice kept, from a list
    assert re.search(r'<option value="D10"\s*>10年（D10）</option>', body)
    assert re.search(r'<option value="WS"\s*>WS 文书</option>', body)  # the code and its name
    typed = sun.get("/retention/catalogue?year=2010&department=销售&format=pdf")
    assert typed.status_code == 400  # type: ignore[attr-defined]
    assert "“销售”不在可选范围内" in typed.get_data(as_text=True)  # type: ignore[attr-defined]
    # The destroyed record keeps its row; its 备注 names the 清册 that proves it.
    old = sun.get("/retention/catalogue?year=2026&category=WS&format=xlsx")
    cells = [c for row in load_workbook(io.BytesIO(old.data)).active.iter_rows(values_only=True)  # type: ignore[attr-defined]
             for c in row if c]  # fmt: skip
    assert any(str(c).startswith("已销毁（XH-") for c in cells)
    assert "WS 文书" in cells  # the heading names the 门类
    none = sun.get("/retention/catalogue?year=2026&category=KJ&format=xlsx")  # no vouchers
    kept = [row for row in load_workbook(io.BytesIO(none.data)).active.iter_rows(values_only=True)  # type: ignore[attr-defined]
            if row[0] == "1"]  # fmt: skip
    assert kept == []
    good = sun.get("/retention/catalogue?year=2026&format=xlsx")
    assert good.status_code == 200  # type: ignore[attr-defined]
    rows = list(load_workbook(io.BytesIO(good.data)).active.iter_rows(values_only=True))  # type: ignore[attr-defined]
    header = next(row for row in rows if row[0] == "序号")
    assert list(header[:9]) == [
        "序号",
        "档号",
        "文号",
        "责任者",
        "题名",
        "日期",
        "密级",
        "页数",
        "备注",
    ]
    assert Browser(world, "zhang").get("/retention/catalogue").status_code == 403  # type: ignore[attr-defined]
    assert Browser(world, "zhou").get("/retention/catalogue").status_code == 200  # type: ignore[attr-defined]


def test_the_api_takes_a_witness_signature_with_the_password(executed: tuple[World, int]) -> None:
    world, list_id = executed
    api = world.app.test_client()
    url = f"/api/v1/retention/lists/{list_id}/witness"
    no_password = api.post(url, json={}, headers=world.headers("zhang"), base_url=BASE)
    assert no_password.status_code == 403
    li = api.post(url, json={"confirm_password": PASSWORD}, headers=world.headers("li"))
    assert li.status_code in (403, 404)
    from tests.access.test_web import give_password

    give_password(world, "zhang", PASSWORD)
    done = api.post(url, json={"confirm_password": PASSWORD}, headers=world.headers("zhang"))
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["slot"] == "department:CG"
    assert done.get_json()["closed_at"] is None
    assert (
        api.get(
            "/api/v1/retention/registers/catalogue.pdf?year=2026", headers=world.headers("zhang")
        ).status_code
        == 403
    )


def test_a_list_page_warns_while_the_register_would_print_without_its_organisation(
    tmp_path: Path,
) -> None:
    unnamed = make_world(tmp_path / "unnamed")
    named = make_world(
        tmp_path / "named", ARCHIVE_ORGANISATION="上海某某有限公司", ARCHIVE_FONDS_CODE="Z109"
    )
    try:
        for world, warned in ((unnamed, True), (named, False)):
            page = Browser(world, "sun").text(f"/retention/lists/{submitted_due_list(world)}")
            assert ("ARCHIVE_ORGANISATION, ARCHIVE_FONDS_CODE。" in page) is warned
    finally:
        unnamed.arc.close()
        named.arc.close()


def test_a_destruction_not_yet_out_of_older_backups_is_said_until_old_keys_retire(
    executed: tuple[World, int],
) -> None:
    world, _list_id = executed
    for username, told in (("wu", True), ("sun", True), ("zhou", True), ("wang", False)):
        page = Browser(world, username).text("/")
        assert ('id="keys-to-retire"' in page) is told, username
    assert "1 次销毁执行后尚未停用旧主密钥" in Browser(world, "wu").text("/")
    rotate_keys(world.arc, Actor.cli())
    assert retire_old_keys(world.arc, Actor.cli())
    assert 'id="keys-to-retire"' not in Browser(world, "wu").text("/")
