from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from archive.models import Sensitivity
from ingest.metadata import MetadataError, clean_params, read_sidecar, resolve

DEFAULT = "未归档"


def test_explicit_metadata_wins_over_everything() -> None:
    meta = resolve(
        {"project": "显式项目", "date": "2026-01"},
        "文件名项目-2023-01-1.0.pdf",
        sidecar={"project": "边车项目", "date": "2024-02"},
        folder="XS/目录项目",
        default_project=DEFAULT,
    )
    assert (meta.project, meta.date, meta.department) == ("显式项目", "2026-01", "XS")
    assert meta.sources == {
        "project": "explicit",
        "date": "explicit",
        "title": "file name",
        "department": "folder",
    }


def test_then_the_file_name_then_the_sidecar_then_the_folder_then_defaults() -> None:
    by_name = resolve(
        {}, "文件名项目-2023-01-1.0.pdf", sidecar={"project": "边车"}, default_project=DEFAULT
    )
    assert (by_name.project, by_name.date, by_name.title) == (
        "文件名项目",
        "2023-01",
        "文件名项目-2023-01",
    )
    by_sidecar = resolve(
        {},
        "scan.pdf",
        sidecar={"project": "边车", "title": "季度报告"},
        folder="XS/目录项目",
        default_project=DEFAULT,
    )
    assert (by_sidecar.project, by_sidecar.title, by_sidecar.department) == (
        "边车",
        "季度报告",
        "XS",
    )
    by_folder = resolve({}, "scan.pdf", folder="CG/华东项目", default_project=DEFAULT)
    assert (by_folder.project, by_folder.department, by_folder.title) == ("华东项目", "CG", "scan")
    one_level = resolve({}, "scan.pdf", folder="华东项目", default_project=DEFAULT)
    assert (one_level.project, one_level.department) == ("华东项目", None)
    nothing = resolve({}, "scan.pdf", default_project=DEFAULT)
    assert (nothing.project, nothing.title, nothing.date) == (DEFAULT, "scan", None)
    assert nothing.sources == {"project": "default", "title": "default"}


def test_params_are_validated_into_plain_values() -> None:
    record = uuid.uuid4()
    params = clean_params(
        {
            "project": "  华东  项目 ",
            "sensitivity": "restricted",
            "record_id": str(record).upper(),
            "major": "true",
            "other": "x",
        }
    )
    assert params == {
        "project": "华东 项目",
        "sensitivity": "restricted",
        "record_id": str(record),
        "major": True,
    }
    meta = resolve(params, "a.pdf", default_project=DEFAULT)
    assert (meta.sensitivity, meta.record_id, meta.major) == (Sensitivity.RESTRICTED, record, True)
    with pytest.raises(MetadataError, match="sensitivity"):
        clean_params({"sensitivity": "secret"})
    with pytest.raises(MetadataError, match="longer than 500"):
        clean_params({"title": "长" * 501})


def test_sidecars_must_be_small_utf8_json_objects(tmp_path: Path) -> None:
    good = tmp_path / "a.pdf.json"
    good.write_text(json.dumps({"project": "边车", "unknown": 1}), encoding="utf-8-sig")
    assert read_sidecar(good) == {"project": "边车"}
    for content, message in [
        (b"{broken", "not valid UTF-8 JSON"),
        (b"[1, 2]", "JSON object"),
        ("{}".encode("utf-16"), "not valid UTF-8 JSON"),
        (b" " * 70_000, "larger than"),
    ]:
        bad = tmp_path / "b.pdf.json"
        bad.write_bytes(content)
        with pytest.raises(MetadataError, match=message):
            read_sidecar(bad)
