"""The rules' evidence for a class (the keywords found in the text) is part of the text: it
is shown to whoever may read the content or confirms classes, and to nobody else."""

from __future__ import annotations

from archive.models import Record
from tests.access.conftest import World
from tests.access.test_web_pages import Browser

WHY = {
    "method": "rules",
    "confidence": 0.9,
    "threshold": 0.6,
    "rules": [{"rule": "合同", "because": ["keywords: 违约金, 保密条款"]}],
}


def test_the_keywords_found_are_told_only_to_those_who_may_read_or_classify(
    world: World,
) -> None:
    record_id = world.records["CG-internal"]
    with world.arc.transaction() as session:
        session.get_one(Record, record_id).classification = WHY
    page = f"/records/{record_id}"
    # wang reads it by standing (head of CG); sun confirms classes; zhang only knows of it.
    assert "违约金" in Browser(world, "wang").text(page)
    assert "违约金" in Browser(world, "sun").text(page)
    shown = Browser(world, "zhang").text(page)
    assert "违约金" not in shown
    assert "合同" in shown  # which rule decided is no secret: the class is shown anyway
    assert "把握度 90%" in shown  # in words a person reads, not 0.9 against 0.6
    assert "低于 60% 的须由档案管理员确认" in shown
    api = f"/api/v1/records/{record_id}"
    assert world.call("GET", "zhang", api).json["classification"]["rules"] == [{"rule": "合同"}]  # type: ignore[index]
    assert world.call("GET", "wang", api).json["classification"] == WHY  # type: ignore[index]


def test_the_evidence_a_correction_keeps_is_withheld_too(world: World) -> None:
    """A person's correction keeps the rules' finding under ``previous``: its keywords are
    the text's words all the same."""
    record_id = world.records["CG-internal"]
    with world.arc.transaction() as session:
        corrected = {"method": "person", "by": "sun", "confidence": 1.0, "previous": WHY}
        session.get_one(Record, record_id).classification = corrected
    api = f"/api/v1/records/{record_id}"
    told = world.call("GET", "zhang", api).json["classification"]  # type: ignore[index]
    assert told["previous"]["rules"] == [{"rule": "合同"}]
    assert "违约金" not in Browser(world, "zhang").text(f"/records/{record_id}")
    assert world.call("GET", "wang", api).json["classification"]["previous"] == WHY  # type: ignore[index]
