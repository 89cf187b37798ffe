"""What the registers and the 监销 page show, and to whom (after an attack on them): titles of
records a person may not know are withheld, printing a register is audited, out-of-range
input is a 400 or a 404 (never a 500), and damaged content is refused and logged."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from archive.audit import Actor
from archive.models import AccessEvent, AuditEvent, HoldScope, Record, Version
from archive.refcode import number_pending
from archive.storage import LocalBlobStore
from retention import disposition
from retention.catalogue import WITHHELD
from retention.holds import place_hold
from retention.registers import WITHHELD as WITHHELD_ON_LISTS
from retention.schedules import seed_default_plan
from retention.status import refresh_dirty
from tests.access.conftest import World
from tests.access.test_web_pages import PASSWORD, Browser


def test_the_catalogue_withholds_what_its_reader_may_not_know_and_is_audited(
    executed: tuple[World, int],
) -> None:
    world, _ = executed
    zhou = Browser(world, "zhou")  # the auditor: no grant on CG-restricted
    response = zhou.get("/retention/catalogue?year=2026&format=xlsx")
    assert response.status_code == 200  # type: ignore[attr-defined]
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))  # type: ignore[attr-defined]
    titles = [row[4] for row in rows if isinstance(row[0], str) and row[0].isdigit()]
    assert "档案 CG-restricted" not in titles
    assert "档案 XS-restricted" not in titles
    assert WITHHELD in titles  # the row stays: the 档号 sequence shows no hole
    assert "档案 CG-internal" in titles
    with world.arc.sessions() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "register.printed")
        ).one()
    assert (event.actor, event.details["format"]) == ("zhou", "xlsx")


def test_out_of_range_input_is_refused_not_a_500(executed: tuple[World, int]) -> None:
    world, _ = executed
    api = world.app.test_client()
    huge = "99999999999999999999999"
    sun = world.headers("sun")
    assert api.get(f"/api/v1/retention/lists/{huge}/register.pdf", headers=sun).status_code == 404
    missing = api.get("/api/v1/retention/lists/99/register.pdf", headers=sun)
    assert missing.status_code == 404
    assert missing.get_json()["error"] == "no such list"  # as for a list one may not see
    zhou = world.headers("zhou")
    for query in ("to=9999-12-31", "from=0001-01-01", "page=99999999999999999999"):
        assert api.get(f"/api/v1/audit-trail?{query}", headers=zhou).status_code == 400, query
    record = world.records["CG-internal"]
    review = api.post(
        f"/api/v1/retention/records/{record}/review",
        json={"opinion": "延长", "outcome": "extend", "years": 100000},
        headers=sun,
    )
    assert review.status_code == 400
    zhang = Browser(world, "zhang")
    zhang.post("/retention/witness", {"list_id": huge, "confirm_password": PASSWORD}, status=404)


def test_damaged_content_is_refused_and_logged(world: World) -> None:
    with world.arc.sessions() as session:
        key = session.get_one(Version, world.versions["CG-internal"]).object_key  # as written
    store = world.arc.blobs
    assert isinstance(store, LocalBlobStore)
    blob = store.root / key[:2] / key[2:4] / key
    data = bytearray(blob.read_bytes())
    data[-20] ^= 0xFF  # one flipped bit in the ciphertext
    blob.write_bytes(bytes(data))
    response = world.call(
        "GET", "wang", f"/api/v1/versions/{world.versions['CG-internal']}/content"
    )
    assert response.status_code == 500
    assert "damaged" in response.json["error"]  # type: ignore[index]
    with world.arc.sessions() as session:
        line = session.scalars(select(AccessEvent).order_by(AccessEvent.seq.desc())).first()
    assert line is not None
    assert (line.username, line.outcome, line.reason) == ("wang", "refused", "content damaged")


def test_a_list_withholds_from_its_signers_the_titles_they_may_not_know(world: World) -> None:
    """A list mixing departments showed every title to everyone who sees it: a CG head (a
    signer) read XS's 秘密 title in the list, its JSON and its 销毁清册. Records managers
    and auditors still see all; the others see the 档号 alone for what they may not know."""
    records = [world.records["CG-internal"], world.records["XS-confidential"]]
    with world.arc.transaction() as session:
        seed_default_plan(session, Actor.cli())
        for record_id in records:
            record = session.get_one(Record, record_id)
            record.record_type, record.filed_on = "application", date(2010, 3, 1)
            record.retention_dirty = True
    refresh_dirty(world.arc)
    number_pending(world.arc)
    with world.arc.transaction() as session:
        list_id = disposition.create_list(
            session, Actor.cli(), disposition.Disposal.DESTROY, records, "经鉴定，同意销毁"
        ).id
    secret = "档案 XS-confidential"
    for who, sees in (("wang", False), ("qian", False), ("zhao", True), ("sun", True)):
        data = world.call("GET", who, f"/api/v1/retention/lists/{list_id}").json
        items = {item["record_id"]: item for item in data["items"]}  # type: ignore[index]
        hidden = items[str(records[1])]
        assert (hidden["title"] == secret) == sees, who
        assert hidden["withheld"] == (not sees), who
        assert items[str(records[0])]["title"] == "档案 CG-internal", who
        page = Browser(world, who).text(f"/retention/lists/{list_id}")
        assert (secret in page) == sees, who
        register = world.call("GET", who, f"/api/v1/retention/lists/{list_id}/register.xlsx")
        sheet = load_workbook(io.BytesIO(register.data)).active
        cells = {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c}  # type: ignore[union-attr]
        assert (secret in cells) == sees, who
        assert (WITHHELD_ON_LISTS in cells) == (not sees), who
        assert (hidden["record_type"] == "application") == sees, who
        for kind in ("csv", "pdf"):  # the list's certificate, too (it named everything)
            got = world.call("GET", who, f"/api/v1/retention/lists/{list_id}/certificate.{kind}")
            text = (
                got.data.decode("utf-8-sig")
                if kind == "csv"
                else "".join(p.extract_text() for p in PdfReader(io.BytesIO(got.data)).pages)
            )
            assert (secret in text) == sees, (who, kind)
            assert (WITHHELD_ON_LISTS in text.replace("\n", "")) == (not sees), (who, kind)
        on_page = Browser(world, who).get(f"/retention/lists/{list_id}/certificate.csv")
        assert (secret in on_page.get_data(as_text=True)) == sees, who  # type: ignore[attr-defined]


def test_a_hold_shows_a_director_only_the_titles_they_may_know(world: World) -> None:
    """Directors oversee holds; a hold over another department's 秘密 records named them."""
    with world.arc.transaction() as session:
        hold, _count = place_hold(
            session,
            Actor.cli(),
            name="审计保全",
            reason="年度审计",
            scope=HoldScope.RECORDS,
            record_ids=[world.records["XS-confidential"], world.records["CG-internal"]],
        )
        hold_id = hold.id
    for who, sees in (("qian", False), ("zhao", True), ("sun", True)):
        held = world.call("GET", who, f"/api/v1/retention/holds/{hold_id}").json
        titles = {r.get("title") for r in held["record_list"]}  # type: ignore[index]
        assert ("档案 XS-confidential" in titles) == sees, who
        assert "档案 CG-internal" in titles, who
        assert len(held["record_list"]) == 2, who  # type: ignore[index]


def test_a_holds_name_and_reason_are_for_those_who_oversee_retention(world: World) -> None:
    """Litigation details showed on the record page to any specialist who may know it."""
    with world.arc.transaction() as session:
        place_hold(
            session, Actor.cli(), name="验收争议", reason="客户提出异议，法务要求保全",
            scope=HoldScope.RECORDS, record_ids=[world.records["CG-internal"]],
        )  # fmt: skip
    record = world.records["CG-internal"]
    for who, told in (("zhang", False), ("li", False), ("sun", True), ("zhou", True)):
        page = Browser(world, who).text(f"/records/{record}")
        assert ("客户提出异议" in page) is told, who
        held = world.call("GET", who, f"/api/v1/retention/records/{record}").json["holds"]  # type: ignore[index]
        assert len(held) == 1, who
        assert ("reason" in held[0]) is told, who
    assert "档案管理员知悉原因" in Browser(world, "zhang").text(f"/records/{record}")
